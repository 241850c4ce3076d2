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


def mismatch(reference: str, wanted: str, actual: str) -> str | None:
    """dockerd's refusal of a create whose image is of another platform, else None."""
    if not wanted or runs_on(wanted, actual):
        return None
    return (f"image with reference {reference} was found but does not match the specified platform: "
            f"wanted {wanted}, actual: {actual}")
