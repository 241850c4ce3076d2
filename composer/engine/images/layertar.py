"""A container's files as tar archives, read from outside the container without ever following a
link: its writable layer as an OCI layer (``commit``) and its whole filesystem (``export``).

Every path is opened from its parent's directory descriptor with ``O_NOFOLLOW`` (a symlink is
stored as a link, never followed; a file is opened ``O_PATH`` and reopened only once ``fstat`` says
it is a regular file), so a container that swaps names while it is read cannot make composer read
a host file. Whiteouts (0/0 character devices) become ``.wh.NAME`` entries and opaque directories
``.wh..wh..opq``, as docker's overlay2 driver writes them. (No typing or dataclasses imports:
``container export`` starts with this module alone.)
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Sequence

from composer.errors import ImageError

#: Files the runtime bind-mounts over the container's (docker keeps them out of the layer too).
RUNTIME_FILES = frozenset({"etc/hostname", "etc/hosts", "etc/resolv.conf"})
#: Trees the runtime mounts (proc, sysfs, the /dev tmpfs): only their mount points reach the upper dir.
RUNTIME_TREES = frozenset({"dev", "proc", "sys"})
KEPT_XATTRS = ("security.capability",)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class LayerWriter:
    """Writes the entries of an overlay upper directory into a tar stream (OCI whiteouts)."""

    def __init__(self, tar: tarfile.TarFile, layer: bool = True) -> None:
        self.tar, self.layer = tar, layer  # layer: whiteout entries, runtime files left out, recursion
        self.shift = (0, 0)  # host ids of the container's root (--userns private): subtracted
        self.count = 0
        self.links: dict[tuple[int, int], str] = {}

    def write_tree(self, upper: str) -> int:
        """Every entry below ``upper`` (not ``upper`` itself); how many entries were written."""
        try:
            fd = os.open(upper, _DIR)
        except OSError as error:
            raise ImageError(f"cannot read the container's writable layer {upper}: {error.strerror}") from None
        try:
            self._directory(fd, "")
        except RecursionError:  # (one open directory and a Python frame a level)
            raise ImageError("the container's filesystem is nested too deep to commit",
                             hint="flatten the deepest directories first") from None
        finally:
            os.close(fd)
        return self.count

    def _directory(self, fd: int, prefix: str) -> None:
        for name in sorted(os.listdir(fd)):
            path = prefix + name
            if path not in RUNTIME_FILES and (prefix or name not in RUNTIME_TREES):
                self.entry(fd, name, path)

    def entry(self, fd: int, name: str, path: str) -> None:
        """The entry ``name`` of the directory ``fd`` as ``path`` in the archive (never followed)."""
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed meanwhile (an unpaused container)
        if stat.S_ISDIR(info.st_mode):
            self._subdirectory(fd, name, path)
        elif stat.S_ISCHR(info.st_mode) and info.st_rdev == 0 and self.layer:
            self._add(self._header(os.path.join(os.path.dirname(path), ".wh." + name), info, tarfile.REGTYPE, 0o600))
        elif stat.S_ISREG(info.st_mode):
            self._file(fd, name, path)
        elif stat.S_ISLNK(info.st_mode):
            header = self._header(path, info, tarfile.SYMTYPE)
            header.linkname = os.readlink(name, dir_fd=fd)
            self._add(header)
        elif not stat.S_ISSOCK(info.st_mode):  # devices and fifos (sockets: docker skips them too)
            self._add(self._special(path, info))

    def add_beneath(self, root: str, path: str) -> None:
        """The entry ``path`` (relative) of the directory tree ``root``, each of its parents opened
        with ``O_NOFOLLOW``: a parent swapped for a link leaves the entry out."""
        parts = path.split("/")
        fds = [os.open(root, _DIR)]
        try:
            for part in parts[:-1]:
                try:
                    fds.append(os.open(part, _DIR, dir_fd=fds[-1]))
                except OSError:  # ELOOP, ENOTDIR: a link now; ENOENT: gone
                    return
            self.entry(fds[-1], parts[-1], path)
        finally:
            for fd in fds:
                os.close(fd)

    def _subdirectory(self, parent: int, name: str, path: str) -> None:
        try:
            fd = os.open(name, _DIR, dir_fd=parent)
        except OSError:
            return  # replaced by something else meanwhile: never followed
        try:
            if self.layer and path == "etc" and not self._etc_changed(fd):
                return
            info = os.fstat(fd)
            self._add(self._header(path, info, tarfile.DIRTYPE))
            if not self.layer:
                return
            if _xattr(fd, "trusted.overlay.redirect") is not None:
                raise ImageError(f"/{path} was renamed in the container (an overlay redirect): composer cannot "
                                 "commit it", hint="the host mounts overlayfs with redirect_dir=on; turn it off")
            if _xattr(fd, "trusted.overlay.opaque") == b"y":
                self._add(self._header(path + "/.wh..wh..opq", info, tarfile.REGTYPE, info.st_mode & 0o777))
            self._directory(fd, path + "/")
        finally:
            os.close(fd)

    @staticmethod
    def _etc_changed(fd: int) -> bool:
        """/etc holds more than the runtime's mount points (or hides what is below it)."""
        return bool(set(os.listdir(fd)) - {p.split("/")[1] for p in RUNTIME_FILES}) or \
            _xattr(fd, "trusted.overlay.opaque") == b"y"

    def _file(self, parent: int, name: str, path: str) -> None:
        try:
            handle = os.open(name, _PATH, dir_fd=parent)
        except OSError:
            return
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                return  # swapped for a link or a device meanwhile: left out, never opened
            key = (info.st_dev, info.st_ino)
            if info.st_nlink > 1 and key in self.links:
                header = self._header(path, info, tarfile.LNKTYPE)
                header.linkname = self.links[key]
                self._add(header)
                return
            self.links[key] = path
            header = self._header(path, info, tarfile.REGTYPE)
            header.size = info.st_size
            with open(f"/proc/self/fd/{handle}", "rb") as data:  # the O_PATH handle's own inode
                for attribute in KEPT_XATTRS:
                    value = _xattr(data.fileno(), attribute)
                    if value is not None:
                        header.pax_headers["SCHILY.xattr." + attribute] = value.decode("utf-8", "surrogateescape")
                self._add(header, _Exactly(data, info.st_size))
        finally:
            os.close(handle)

    def _special(self, path: str, info: os.stat_result) -> tarfile.TarInfo:
        kind = tarfile.FIFOTYPE if stat.S_ISFIFO(info.st_mode) else \
            tarfile.CHRTYPE if stat.S_ISCHR(info.st_mode) else tarfile.BLKTYPE
        header = self._header(path, info, kind)
        if kind != tarfile.FIFOTYPE:
            header.devmajor, header.devminor = os.major(info.st_rdev), os.minor(info.st_rdev)
        return header

    def _header(self, path: str, info: os.stat_result, kind: bytes, mode: int | None = None) -> tarfile.TarInfo:
        header = tarfile.TarInfo(path)
        header.type = kind
        header.mode = stat.S_IMODE(info.st_mode) if mode is None else mode
        uid, gid = self.shift
        header.uid = info.st_uid - uid if info.st_uid >= uid else info.st_uid
        header.gid = info.st_gid - gid if info.st_gid >= gid else info.st_gid
        header.mtime = int(info.st_mtime)
        header.uname = header.gname = ""
        return header

    def _add(self, header: tarfile.TarInfo, data: io.IOBase | None = None) -> None:
        self.tar.addfile(header, data)
        self.count += 1


class _Exactly:
    """A file read as exactly ``size`` bytes: zeros when it shrank meanwhile (tarfile would fail)."""

    def __init__(self, stream: io.IOBase, size: int) -> None:
        self.stream, self.left = stream, size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        data += bytes(size - len(data))
        self.left -= len(data)
        return data


def _xattr(fd: int, name: str) -> bytes | None:
    try:
        return os.getxattr(fd, name)
    except OSError:
        return None


def id_shift(config: dict, upper: str) -> tuple[int, int]:
    """The host (uid, gid) of the container's root in its writable layer: (0, 0) unless it runs in
    a private user namespace (``--userns private``: its files are owned by the mapped ids)."""
    if config.get("userns_mode") != "private":
        return 0, 0
    info = os.stat(upper)  # (handed to the mapped root when the namespace was made)
    return info.st_uid, info.st_gid


def write_merged(layers: Sequence[str], upper: str, sink: io.IOBase, shift: tuple[int, int] = (0, 0)) -> int:
    """``container export``: the container's whole filesystem (its image's layers, bottom first,
    under ``upper``, whose ids are ``shift``ed back) as a tar into ``sink``, every entry read beneath
    its own layer; the entry count."""
    from composer.engine.runtime.layerview import merged_view

    roots = [root.rstrip("/") + "/" for root in [*layers, upper]]
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = LayerWriter(tar, layer=False)
        for path, source in merged_view(list(layers), upper).items():
            root = next((r for r in reversed(roots) if source.startswith(r)), None)
            if root is not None:
                writer.shift = shift if root == roots[-1] else (0, 0)
                writer.add_beneath(root, path)
        return writer.count


def write_layer(upper: str, sink: io.IOBase, shift: tuple[int, int] = (0, 0)) -> int:
    """The tar of the writable layer ``upper`` (its ids ``shift``ed back) into ``sink`` (anything
    with ``write``); its entry count."""
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = LayerWriter(tar)
        writer.shift = shift
        return writer.write_tree(upper)
