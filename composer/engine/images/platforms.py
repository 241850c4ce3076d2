"""A service's ``platform:`` against the image that is here, as dockerd judges it (containerd's
``platforms.Only``: ``linux/arm64`` takes ``linux/arm64/v8``, ``linux/arm/v7`` also v6 and v5)."""

from __future__ import annotations

_ARCHITECTURES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm",
                  "i386": "386"}
_ARM_VARIANTS = ("v8", "v7", "v6", "v5")


def platform_text(config: dict) -> str:
    """``os/architecture[/variant]`` of an image's config blob (docker's ``platforms.Format``; one
    that names none is taken for this machine's)."""
    architecture = config.get("architecture")
    if not architecture:
        from composer.engine.images.archive import host_architecture

        architecture = host_architecture()
    return "/".join(part for part in (config.get("os") or "linux", architecture, config.get("variant") or "") if part)


def _normalized(text: str) -> tuple[str, str, str]:
    os_name, _, rest = text.lower().partition("/")
    architecture, _, variant = rest.partition("/")
    architecture = _ARCHITECTURES.get(architecture, architecture)
    if architecture == "arm64" and variant in ("", "v8"):
        variant = "v8"
    elif architecture == "arm" and not variant:
        variant = "v7"
    return os_name, architecture, variant


def runs_on(wanted: str, actual: str) -> bool:
    """Whether an image of platform ``actual`` serves a container asked for on ``wanted``."""
    want, have = _normalized(wanted), _normalized(actual)
    if want[:2] != have[:2]:
        return False
    if want[1] == "arm" and want[2] in _ARM_VARIANTS and have[2] in _ARM_VARIANTS:
        return _ARM_VARIANTS.index(have[2]) >= _ARM_VARIANTS.index(want[2])
    return want[2] == have[2] or not want[2]


_KNOWN_OS = frozenset("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 "
                      "solaris wasip1 windows zos".split())
_KNOWN_ARCHITECTURES = frozenset("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le "
                                 "mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 "
                                 "wasm".split())


def parse_specifier(text: str) -> str:
    """A ``--platform`` value as docker's CLI takes it (containerd's ``platforms.Parse``):
    ``os/arch[/variant]``, a lone OS (this machine's architecture) or a lone architecture (linux),
    aliases normalized (``x86_64`` -> amd64, ``aarch64`` -> arm64; ``linux/arm`` is v7 and
    ``linux/arm64`` v8 unsaid); the ``os/arch[/variant]`` it means. ImageError in docker's words
    for one it cannot parse."""
    from composer.errors import ImageError

    def refused(why: str) -> ImageError:
        return ImageError(f"error parsing specified platform: {why}: invalid argument",
                          hint="use os/arch[/variant], e.g. linux/amd64")

    parts = text.split("/")
    if len(parts) > 3:
        raise refused(f'"{text}": cannot parse platform specifier')
    for part in parts:
        if not (part and all(c.isascii() and (c.isalnum() or c in "_-") for c in part)):
            raise refused(f'"{part}" is an invalid component of "{text}": platform specifier component must match '
                          '"^[A-Za-z0-9_-]+$"')
    os_name = parts[0].lower()
    if len(parts) == 1:
        if os_name in _KNOWN_OS:
            from composer.engine.images.archive import host_architecture

            return f"{os_name}/{host_architecture()}"
        os_name, parts = "linux", ["linux", *parts]
        if _normalized(f"linux/{parts[1]}")[1] not in _KNOWN_ARCHITECTURES:
            raise refused(f'"{text}": unknown operating system or architecture')
    _, architecture, variant = _normalized(f"{os_name}/{parts[1]}/{parts[2] if len(parts) == 3 else ''}")
    if len(parts) < 3 and (architecture, variant) in (("arm", "v7"), ("arm64", "v8")):
        variant = ""  # (the default variant goes unsaid)
    return "/".join(part for part in (os_name, architecture, variant) if part)


def stored_platform(reference: str) -> str | None:
    """``os/architecture[/variant]`` of the image ``reference`` names in the store; None if none."""
    import json

    from composer.engine.images.store import ImageStore
    from composer.errors import ImageError

    store = ImageStore()
    try:
        image_id, _ = store.find(store.read_db(), reference)
    except ImageError:
        return None
    return platform_text(json.loads(store.blobs.read(image_id)))


def mismatch(reference: str, wanted: str, actual: str) -> str | None:
    """dockerd's refusal of a create whose image is of another platform, else None."""
    if not wanted or runs_on(wanted, actual):
        return None
    return (f"image with reference {reference} was found but does not match the specified platform: "
            f"wanted {wanted}, actual: {actual}")
