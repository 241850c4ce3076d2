"""COPY and ADD into a staging directory that becomes the step's layer.

``Copier`` writes what a COPY/ADD adds under ``staging`` (a fresh directory), following Docker's
rules: a directory source copies its contents, a file goes to ``dest/<name>`` when ``dest`` ends
in ``/`` or is a directory in the image, several sources need a directory destination. Files
keep their mode bits and mtimes; owners are root or ``--chown``; ``--chmod`` replaces modes.
Parent directories that already exist in the image keep their metadata in the layer (read from
``view``, the stage's merged root), and destinations are resolved through the image's symlinks
inside that root. ADD extracts local tar archives (safely: nothing may leave the destination).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from composer.engine.build.context import BuildContext, Source, is_archive
from composer.errors import BuildError


@dataclass
class Copier:
    """One COPY/ADD step: where it writes (``staging``), the image root it lands on, the owners."""

    staging: Path
    view: Path | None
    owner: tuple[int, int] | None = None
    chmod: int | None = None
    made: set[str] = field(default_factory=set)  # parent directories already in the layer

    def destination(self, dest: str, workdir: str, *, many: bool, source_is_dir: bool = False) -> tuple[str, bool]:
        """(clean relative dest path, whether it is a directory) per Docker's rules."""
        path = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
        as_dir = dest.endswith("/") or dest.endswith("/.") or dest in (".", "") or source_is_dir
        rel = posixpath.normpath("/" + path).lstrip("/")
        if self.view is not None and rel:
            rel = BuildContext.from_rootfs(self.view).follow(rel, dest)
            as_dir = as_dir or (self.view / rel).is_dir()
        if many and not as_dir:
            raise BuildError(f"when using COPY with more than one source file, the destination must be "
                             f"a directory and end with a /: {dest}")
        return rel, as_dir

    def copy_source(self, ctx: BuildContext, source: Source, dest: str, as_dir: bool,
                    exclude: tuple[str, ...] = ()) -> None:
        """Copy one resolved source to ``dest`` (relative to the root)."""
        if source.is_dir:
            target = dest
        else:
            target = posixpath.join(dest, source.name) if as_dir else dest
        for rel, info in ctx.entries(source, exclude):
            path = posixpath.join(target, rel) if rel else target
            self.put(ctx.root / source.path / rel if rel else ctx.root / source.path, path, info,
                     top=not rel)

    def put(self, src: Path, rel: str, info: os.stat_result, *, top: bool = False) -> None:
        """One entry of the copy at ``rel`` under the staging root."""
        self.parents(rel)
        dst = self.staging / rel if rel else self.staging
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            if top and self._in_image(rel):
                self._mirror_dir(rel)
                return
            dst.mkdir(exist_ok=True)
            self._finish(dst, mode, info)
        elif stat.S_ISLNK(mode):
            _clear(dst)
            os.symlink(os.readlink(src), dst)
            self._finish(dst, mode, info)
        elif stat.S_ISREG(mode):
            _clear(dst)
            self._copy_file(src, dst, mode, info)

    def _copy_file(self, src: Path, dst: Path, mode: int, info: os.stat_result) -> None:
        """A regular file copied in the kernel, owner/mode/mtime set on the open descriptor."""
        source = os.open(src, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            target = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                _copy_data(source, target, info.st_size)
                os.fchown(target, *(self.owner or (0, 0)))
                os.fchmod(target, self.chmod if self.chmod is not None else stat.S_IMODE(mode))
                os.utime(target, ns=(info.st_mtime_ns, info.st_mtime_ns))
            finally:
                os.close(target)
        finally:
            os.close(source)

    def write_file(self, rel: str, data: bytes, mode: int = 0o644) -> None:
        """A file from bytes (heredocs, downloads)."""
        self.parents(rel)
        dst = self.staging / rel
        _clear(dst)
        dst.write_bytes(data)
        os.chown(dst, *(self.owner or (0, 0)))
        os.chmod(dst, self.chmod if self.chmod is not None else mode)

    def parents(self, rel: str) -> None:
        """The parent directories of ``rel`` in the layer, as they are in the image (or 0755)."""
        parts = rel.split("/")[:-1] if rel else []
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub in self.made:
                continue
            if (self.staging / sub).is_symlink():
                raise BuildError(f"cannot copy to /{rel}: /{sub} is a symbolic link this step created",
                                 hint="copy the link and the files under it in separate steps")
            if not (self.staging / sub).is_dir():
                if self._in_image(sub):
                    self._mirror_dir(sub)
                else:
                    (self.staging / sub).mkdir(0o755)
                    os.chown(self.staging / sub, *(self.owner or (0, 0)))
            self.made.add(sub)

    def _in_image(self, rel: str) -> bool:
        return self.view is not None and bool(rel) and (self.view / rel).is_dir() \
            and not (self.view / rel).is_symlink()

    def _mirror_dir(self, rel: str) -> None:
        """Create ``rel`` in the layer with the image's own mode, owner and mtime."""
        assert self.view is not None
        info = os.lstat(self.view / rel)
        dst = self.staging / rel
        dst.mkdir(exist_ok=True)
        os.chown(dst, info.st_uid, info.st_gid)
        os.chmod(dst, stat.S_IMODE(info.st_mode))
        os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))

    def _finish(self, dst: Path, mode: int, info: os.stat_result) -> None:
        uid, gid = self.owner or (0, 0)
        os.chown(dst, uid, gid, follow_symlinks=False)
        if not stat.S_ISLNK(mode):
            os.chmod(dst, self.chmod if self.chmod is not None else stat.S_IMODE(mode))
        os.utime(dst, ns=(info.st_mtime_ns, info.st_mtime_ns), follow_symlinks=False)

    def extract(self, archive: Path, dest: str) -> None:
        """ADD of a local tar archive: its members under ``dest`` (nothing may escape it)."""
        import tarfile

        self.parents(dest + "/x" if dest else "x")
        target = self.staging / dest if dest else self.staging
        target.mkdir(exist_ok=True)
        try:
            with tarfile.open(archive, mode="r:*") as tar:
                for member in tar:
                    if member.isdev():
                        continue
                    tar.extract(member, target, filter="tar")
        except (tarfile.TarError, OSError) as error:
            raise BuildError(f"ADD cannot extract {archive.name}: {error}") from None


def looks_like_archive(path: Path) -> bool:
    """Whether a local ADD source is a (compressed) tar archive that ADD extracts."""
    if not path.is_file() or path.is_symlink():
        return False
    with open(path, "rb") as handle:
        return is_archive(handle.read(512))


def _copy_data(source: int, target: int, size: int) -> None:
    """Copy the rest of ``source`` into ``target`` in the kernel (``size``: the expected length)."""
    chunk = max(size, 1 << 20)
    try:
        while os.copy_file_range(source, target, chunk):
            pass
    except OSError:  # across file system types (EXDEV) and the like: sendfile from where it stopped
        while os.sendfile(target, source, None, chunk):
            pass


def _clear(path: Path) -> None:
    """Make room for a file: remove what an earlier source put there (a directory stays an error)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        raise BuildError(f"cannot replace the directory /{path.name} with a file")
