#!/usr/bin/env python3
"""Build the examples' base images from Debian packages and import them into composer's store.

Each image is a directory here with an ``image.toml`` (reference, packages, mmdebstrap hooks,
``--change`` instructions), a ``Dockerfile`` (``FROM scratch`` + ``ADD rootfs.tar /``, the same
config) and optionally ``files/`` (copied over the rootfs). The rootfs is made by
``mmdebstrap --variant=minbase`` and cached under /var/cache/composer-examples, keyed by everything
that goes into it; the image is then ``composer image import``-ed with the ``changes``.

    python3 examples/images/build.py                 # all images
    python3 examples/images/build.py postgres nginx  # some
    python3 examples/images/build.py --rootfs nginx  # only print the cached rootfs.tar path
    python3 examples/images/build.py --context /tmp/ctx nginx && composer image build -t X /tmp/ctx
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("COMPOSER_EXAMPLES_CACHE", "/var/cache/composer-examples"))
SUITE = "bookworm"
IMAGES = ("debian", "postgres", "nginx", "python", "compute")
# What official slim images leave out; copyright files stay (licences travel with the binaries).
TRIMS = ("path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright",
         "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/info/*",
         "path-exclude=/usr/share/locale/*", "path-include=/usr/share/locale/locale.alias",
         "path-exclude=/usr/share/lintian/*")
# Merged /usr by directory symlinks, as debootstrap and the official images do (not the usrmerge
# package, which would pull perl into every image).
MERGED_USR = "/usr/share/mmdebstrap/hooks/merged-usr"
APT_OPTIONS = ('APT::Install-Recommends "false"', 'APT::Install-Suggests "false"')
# Downloaded .debs are kept between builds (mmdebstrap's documented sync-in/sync-out recipe), so
# changing a package list re-downloads only what is new. Not part of any key: it changes no content.
DEB_CACHE = CACHE / "debs"
KEY_LABEL = "com.composer.examples.key"  # on each imported image: re-import only when it changed


class BuildError(Exception):
    """A build step failed; the message says which and why."""


@dataclass
class ImageDef:
    """One image directory: what goes into its rootfs and its config."""

    name: str
    reference: str
    include: list[str]
    changes: list[str]
    setup: list[str] = field(default_factory=list)
    customize: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return HERE / self.name

    @property
    def files(self) -> Path:
        return self.directory / "files"

    def mmdebstrap_args(self, target: Path) -> list[str]:
        """The mmdebstrap command line that makes this image's rootfs tarball ``target``."""
        args = ["mmdebstrap", "--variant=minbase", "--format=tar", "--quiet", f"--hook-dir={MERGED_USR}"]
        args += [f"--dpkgopt={trim}" for trim in TRIMS] + [f"--aptopt={opt}" for opt in APT_OPTIONS]
        args += [f"--dpkgopt=path-exclude={path}" for path in self.exclude]
        if self.include:
            args.append("--include=" + ",".join(self.include))
        args += [f"--setup-hook={hook}" for hook in self.setup]
        args += [f"--customize-hook={hook}" for hook in self.customize]
        return args + [SUITE, str(target)]

    def rootfs_key(self) -> str:
        """A digest of everything that decides the rootfs's contents."""
        return _digest(json.dumps(self.mmdebstrap_args(Path("-"))).encode())

    def image_key(self) -> str:
        """A digest of the rootfs key, the files copied over it and the config changes."""
        parts = [self.rootfs_key(), json.dumps(self.changes)]
        for path in sorted(self.files.rglob("*")) if self.files.is_dir() else []:
            rel = path.relative_to(self.files)
            parts.append(f"{rel}:{oct(path.stat().st_mode)}:{_digest(path.read_bytes()) if path.is_file() else ''}")
        return _digest("\n".join(parts).encode())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _strings(data: dict, key: str, path: Path, required: bool = False) -> list[str]:
    """``data[key]`` as a list of strings, or a BuildError naming the file and the key."""
    if key not in data and not required:
        return []
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BuildError(f"{path}: {key!r} must be a list of strings")
    return value


def load(name: str) -> ImageDef:
    """The definition in ``<name>/image.toml``."""
    path = HERE / name / "image.toml"
    if not path.is_file():
        raise BuildError(f"{path}: no such image definition (known: {', '.join(IMAGES)})")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path}: {error}") from None
    if not isinstance(data.get("reference"), str):
        raise BuildError(f"{path}: 'reference' (the image name, e.g. composer-local/x:tag) is missing")
    lists = {key: _strings(data, key, path) for key in ("include", "setup", "customize", "exclude")}
    return ImageDef(name=name, reference=data["reference"], changes=_strings(data, "changes", path, True),
                    **lists)


def build_rootfs(image: ImageDef, refresh: bool = False) -> tuple[Path, float]:
    """The cached rootfs tarball (built now when missing) and the seconds building took."""
    target = CACHE / f"{image.name}-{SUITE}-{image.rootfs_key()}.tar"
    if target.is_file() and not refresh:
        return target, 0.0
    if not shutil.which("mmdebstrap"):
        raise BuildError("mmdebstrap is not installed: apt-get install mmdebstrap (or `make setup`)")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".partial-{os.getpid()}-{target.name}")
    started = time.monotonic()
    DEB_CACHE.mkdir(exist_ok=True)
    cached_debs = ["--skip=essential/unlink",
                   '--setup-hook=mkdir -p "$1/var/cache/apt/archives"',
                   f"--setup-hook=sync-in {DEB_CACHE} /var/cache/apt/archives/",
                   f"--customize-hook=sync-out /var/cache/apt/archives {DEB_CACHE}"]
    args = image.mmdebstrap_args(partial)
    result = subprocess.run([args[0], *cached_debs, *args[1:]], capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BuildError(f"mmdebstrap failed for {image.name} (is a Debian mirror reachable?):\n"
                         f"{result.stderr[-2000:]}")
    os.replace(partial, target)
    for stale in CACHE.glob(f"{image.name}-{SUITE}-*.tar"):
        if stale != target and not stale.name.endswith(".image.tar"):
            stale.unlink()
    return target, time.monotonic() - started


def _overlay_members(files: Path) -> dict[str, Path]:
    """``files/``'s entries by their name inside the image (``./etc/...``, as mmdebstrap writes)."""
    return {"./" + str(path.relative_to(files)): path for path in sorted(files.rglob("*"))}


def image_tarball(image: ImageDef, rootfs: Path) -> Path:
    """``rootfs`` with ``files/`` copied over it (replaced entries dropped), cached next to it."""
    if not image.files.is_dir():
        return rootfs
    target = CACHE / f"{image.name}-{SUITE}-{image.image_key()}.image.tar"
    if target.is_file():
        return target
    overlay = _overlay_members(image.files)
    partial = target.with_name(f".partial-{os.getpid()}-{target.name}")
    present = set()
    with tarfile.open(rootfs) as source, tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as out:
        for member in source:
            name = member.name if member.name.startswith("./") else "./" + member.name.lstrip("/")
            if name in overlay and not (member.isdir() and overlay[name].is_dir()):
                continue
            present.add(name)
            out.addfile(member, source.extractfile(member) if member.isreg() else None)
        for name, path in overlay.items():
            info = out.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if path.is_dir():
                if name not in present:  # directories the rootfs has keep their metadata
                    info.mode = 0o755
                    out.addfile(info)
                continue
            with path.open("rb") as handle:
                out.addfile(info, handle)
    os.replace(partial, target)
    for stale in CACHE.glob(f"{image.name}-{SUITE}-*.image.tar"):
        if stale != target:
            stale.unlink()
    return target


def build_context(image: ImageDef, rootfs: Path, directory: Path) -> Path:
    """A build context for ``image``'s Dockerfile in ``directory``: the Dockerfile, ``files/`` and
    the cached rootfs as ``rootfs.tar`` (hard-linked when on the same filesystem)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(image.directory / "Dockerfile", directory / "Dockerfile")
    if image.files.is_dir():
        shutil.copytree(image.files, directory / "files", symlinks=True, dirs_exist_ok=True)
    target = directory / "rootfs.tar"
    target.unlink(missing_ok=True)
    try:
        os.link(rootfs, target)
    except OSError:
        shutil.copyfile(rootfs, target)
    return directory


def composer_command() -> list[str]:
    """How to run composer: the venv next to this checkout, else ``composer`` on PATH."""
    venv = HERE.parents[1] / ".venv" / "bin" / "composer"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("composer")
    if not found:
        raise BuildError("composer is not installed: run `make setup` first")
    return [found]


def imported_key(image: ImageDef) -> str | None:
    """The image key recorded on ``image.reference`` in composer's store (None when absent)."""
    result = subprocess.run([*composer_command(), "image", "inspect", image.reference],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return None
    try:
        labels = json.loads(result.stdout)[0]["Config"].get("Labels") or {}
    except (ValueError, LookupError, AttributeError):
        return None
    return labels.get(KEY_LABEL)


def import_image(image: ImageDef, tarball: Path) -> float:
    """``composer image import`` of ``tarball`` as ``image.reference``; returns the seconds it took."""
    args = [*composer_command(), "image", "import", "--message", f"examples/images/{image.name}"]
    for change in [*image.changes, f"LABEL {KEY_LABEL}={image.image_key()}"]:
        args += ["--change", change]
    started = time.monotonic()
    result = subprocess.run([*args, str(tarball), image.reference], capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"composer image import of {image.reference} failed:\n{result.stderr.strip()}")
    return time.monotonic() - started


def build(name: str, refresh: bool = False) -> dict[str, object]:
    """Build (or reuse) one image's rootfs and import it; returns figures for the summary."""
    image = load(name)
    rootfs, built = build_rootfs(image, refresh)
    tarball = image_tarball(image, rootfs)
    imported = 0.0 if imported_key(image) == image.image_key() else import_image(image, tarball)
    return {"image": image.reference, "rootfs": str(rootfs), "rootfs_mb": round(rootfs.stat().st_size / 1e6, 1),
            "build_s": round(built, 1), "import_s": round(imported, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", help=f"images to build (default: {' '.join(IMAGES)})")
    parser.add_argument("--refresh", action="store_true", help="rebuild the rootfs even when cached")
    parser.add_argument("--rootfs", action="store_true", help="only build and print the rootfs paths")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--context", metavar="DIR", type=Path,
                        help="write the build context of ONE image's Dockerfile to DIR (no import)")
    options = parser.parse_args(argv)
    try:
        if options.context:
            if len(options.images) != 1:
                raise BuildError("--context takes exactly one image name")
            image = load(options.images[0])
            print(build_context(image, build_rootfs(image, options.refresh)[0], options.context))
            return 0
        if options.rootfs:
            for name in options.images or IMAGES:
                print(build_rootfs(load(name), options.refresh)[0])
            return 0
        rows = [build(name, options.refresh) for name in options.images or IMAGES]
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 1
    if options.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['image']:34} rootfs {row['rootfs_mb']:7.1f} MB  build {row['build_s']:5.1f} s"
                  f"  import {row['import_s']:4.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
