"""Exact and safe layer extraction into a snapshot directory (overlayfs conventions).

Every path is resolved component by component from a directory file descriptor of the snapshot
root with ``O_NOFOLLOW``: nothing a layer contains (absolute names, ``..``, symlinks, hard links
to outside) can make a write land outside the snapshot. Whiteouts become overlayfs whiteouts
(a 0/0 character device) and opaque markers the ``trusted.overlay.opaque`` xattr, so snapshots
stack directly as overlay lower directories.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO, Callable, TypeVar

from composer.errors import LayerError

CHUNK = 1 << 20
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
XATTR_PAX_PREFIX = "SCHILY.xattr."
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
T = TypeVar("T")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class HashingReader(io.RawIOBase):
    """A read-only stream that hashes (and optionally copies to ``sink``) what passes through."""

    def __init__(self, source: BinaryIO, sink: BinaryIO | None = None) -> None:
        self._source = source
        self._sink = sink
        self._hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        self._hash.update(data)
        if self._sink is not None:
            self._sink.write(data)
        self.size += len(data)
        return len(data)

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        return f"sha256:{self._hash.hexdigest()}"


class ForwardReader:
    """A buffered stream that can ``seek`` forward only (by reading): enough for tarfile's ``r:`` mode.

    tarfile's stream mode (``r|``) copies its buffer on every small read (most of a layer's
    unpacking CPU time); its seekable mode reads headers and data straight from this buffer.
    """

    def __init__(self, raw: io.RawIOBase) -> None:
        self._buffer = io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type]
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        data = self._buffer.read(size)
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._position + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._position:
            raise LayerError("a layer can only be read forwards", hint="the layer is crafted or corrupt")
        while self._position < target and self.read(min(CHUNK, target - self._position)):
            pass
        return self._position


def _gunzip(buffered: io.BufferedReader) -> BinaryIO:
    """A gzip reader: ISA-L's (2-3x faster) when ``isal`` is installed, else the standard one."""
    try:
        from isal.igzip import IGzipFile as GzipFile
    except ImportError:  # pragma: no cover - isal is a dependency; zlib still works without it
        from gzip import GzipFile  # type: ignore[assignment]
    return GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]


def decompressed(stream: BinaryIO) -> BinaryIO:
    """``stream`` decompressed according to its magic bytes (gzip, zstd or plain tar)."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type]
    magic = buffered.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return _gunzip(buffered)
    if magic == ZSTD_MAGIC:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(buffered, read_size=CHUNK)  # type: ignore[return-value]
    return buffered


def extract_layer(stream: BinaryIO, dest: Path, *, sink: BinaryIO | None = None) -> str:
    """Unpack the (possibly compressed) layer ``stream`` into the empty directory ``dest``.

    Returns the layer's diff id (sha256 of the uncompressed tar); the uncompressed bytes are
    also copied to ``sink`` when given. Raises LayerError for a corrupt or escaping layer.
    """
    return extract_layer_sized(stream, dest, sink=sink)[0]


def extract_layer_sized(stream: BinaryIO, dest: Path, *, sink: BinaryIO | None = None) -> tuple[str, int]:
    """``extract_layer``, and the size of what it wrote as docker reports a layer's (counted
    while writing: see ``Extractor.disk_size``)."""
    reader = HashingReader(decompressed(stream), sink)
    extractor = Extractor(dest)
    try:
        with tarfile.open(fileobj=ForwardReader(reader), mode="r:", errorlevel=2) as tar:  # type: ignore[call-overload]
            for member in tar:
                extractor.add(member, tar)
        reader.drain()
        extractor.finish()
    except (tarfile.TarError, EOFError, OSError) as error:
        if isinstance(error, OSError) and error.errno in (28, 122):  # ENOSPC, EDQUOT
            raise LayerError(f"no space left while unpacking a layer: {error}") from error
        raise LayerError(f"corrupt layer: {error}", hint="pull or load the image again") from error
    finally:
        extractor.close()
    return reader.digest, extractor.disk_size()


def clean_parts(name: str) -> list[str]:
    """The components of a member name; LayerError for absolute names or ``..``."""
    if name.startswith("/"):
        raise LayerError(f"layer member {name!r} has an absolute path", hint="the layer is crafted or corrupt")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise LayerError(f"layer member {name!r} contains '..'", hint="the layer is crafted or corrupt")
    if "\0" in name:
        raise LayerError(f"layer member {name!r} contains a NUL byte")
    return parts


def check_symlink_target(parts: list[str], target: str) -> None:
    """Refuse a relative symlink whose target climbs above the snapshot root."""
    if target.startswith("/"):
        return  # resolved inside the container's root at run time
    depth = len(parts) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise LayerError(f"symlink {'/'.join(parts)} -> {target} points outside the image",
                                 hint="the layer is crafted or corrupt")
        elif part not in ("", "."):
            depth += 1


class Extractor:
    """Writes tar members under a root directory, never following a link on the way, and counts
    the sizes of the files and links it leaves (see ``disk_size``)."""

    def __init__(self, root: Path) -> None:
        self.root_fd = os.open(root, _DIR_FLAGS)
        self._deferred: list[tuple[tuple[str, ...], tarfile.TarInfo]] = []
        self._cache: tuple[tuple[str, ...], int] | None = None
        self._target: tuple[str, ...] = ()  # the path the member being applied writes or removes
        self._nodes: dict[tuple[str, ...], int] = {}  # path of a file or link -> its inode's number here
        self._sizes: list[int] = []  # by inode number: its lstat size

    def disk_size(self) -> int:
        """What docker's overlay2 reports for the unpacked layer (as ``store.disk_size`` walks it):
        the sizes of the files and links left, each inode once (hard links), no directories."""
        return sum(self._sizes[node] for node in set(self._nodes.values()))

    def _count(self, size: int) -> None:
        """The member just made at ``_target`` is a new inode of ``size`` bytes."""
        if size:
            self._nodes[self._target] = len(self._sizes)
            self._sizes.append(size)

    def _forget(self, directory: bool) -> None:
        """What was at ``_target`` is gone (with everything under it, for a ``directory``)."""
        self._nodes.pop(self._target, None)
        if directory:
            depth = len(self._target)
            for path in [p for p in self._nodes if p[:depth] == self._target]:
                del self._nodes[path]

    def close(self) -> None:
        self._drop_cache()
        os.close(self.root_fd)

    def _drop_cache(self) -> None:
        if self._cache is not None:
            os.close(self._cache[1])
            self._cache = None

    def _open_dir(self, parts: tuple[str, ...], create: bool) -> int:
        """A new fd of the directory ``parts`` under the root (created with 0755 if ``create``)."""
        if self._cache is not None and self._cache[0] == parts:
            return os.dup(self._cache[1])
        fd = os.dup(self.root_fd)
        try:
            for part in parts:
                fd = self._step(fd, part, create)
        except BaseException:
            os.close(fd)
            raise
        self._drop_cache()
        self._cache = (parts, os.dup(fd))
        return fd

    @staticmethod
    def _step(fd: int, part: str, create: bool) -> int:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise LayerError(f"layer refers to a missing directory {part!r}") from None
            os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as error:  # ELOOP (a symlink) or ENOTDIR
            raise LayerError(f"layer path goes through a symlink or a non-directory at {part!r}",
                             hint="the layer is crafted or corrupt") from error
        finally:
            os.close(fd)
        return child

    def add(self, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        """Create ``member`` (or apply its whiteout) under the root."""
        parts = clean_parts(member.name)
        if not parts:
            if member.isdir():
                self._deferred.append(((), member))
            return
        name = parts[-1]
        parent = self._open_dir(tuple(parts[:-1]), create=True)
        self._target = tuple(parts)
        try:
            if name == OPAQUE_MARKER:
                os.setxattr(parent, OPAQUE_XATTR, b"y")
            elif name.startswith(WHITEOUT_PREFIX):
                self._target = (*parts[:-1], name[len(WHITEOUT_PREFIX):])
                self._whiteout(parent, name[len(WHITEOUT_PREFIX):], member)
            else:
                self._create(parent, name, parts, member, tar)
        finally:
            os.close(parent)

    def _whiteout(self, parent: int, target: str, member: tarfile.TarInfo) -> None:
        if target in ("", ".", "..") or "/" in target:
            raise LayerError(f"invalid whiteout {member.name!r}")
        self._remove(parent, target, keep_dir=False)
        os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=parent)

    def _remove(self, parent: int, name: str, keep_dir: bool) -> None:
        """Remove what is at ``name`` (a directory survives when ``keep_dir``)."""
        try:
            info = os.lstat(name, dir_fd=parent)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            if keep_dir:
                return
            self._drop_cache()
            shutil.rmtree(name, dir_fd=parent)
            self._forget(directory=True)
        else:
            os.unlink(name, dir_fd=parent)
            self._forget(directory=False)

    def _replacing(self, parent: int, name: str, make: Callable[[], T]) -> T:
        """``make()``; when ``name`` exists already (an earlier member), remove it and make again.

        Trying first saves an ``lstat`` per member: a layer rarely names a path twice.
        """
        try:
            return make()
        except FileExistsError:
            self._remove(parent, name, keep_dir=False)
            return make()

    def _create(self, parent: int, name: str, parts: list[str], member: tarfile.TarInfo,
                tar: tarfile.TarFile) -> None:
        if member.isdir():
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                self._remove(parent, name, keep_dir=True)
                try:
                    os.mkdir(name, 0o700, dir_fd=parent)
                except FileExistsError:
                    pass
            self._deferred.append((tuple(parts), member))
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            try:
                os.fchown(fd, member.uid, member.gid)
                self._xattrs(fd, member)
            finally:
                os.close(fd)
        elif member.isreg():
            self._write_file(parent, name, member, tar)
        elif member.issym():
            check_symlink_target(parts, member.linkname)
            self._replacing(parent, name, lambda: os.symlink(member.linkname, name, dir_fd=parent))
            self._count(len(os.fsencode(member.linkname)))
            self._finish_node(parent, name, member, chmod=False)
        elif member.islnk():
            self._hardlink(parent, name, member)
        elif member.ischr() or member.isblk() or member.isfifo():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
            device = os.makedev(member.devmajor, member.devminor) if kind != stat.S_IFIFO else 0
            self._replacing(parent, name, lambda: os.mknod(name, kind | 0o600, device, dir_fd=parent))
            self._finish_node(parent, name, member, chmod=True)
        else:
            raise LayerError(f"layer member {member.name!r} has an unsupported type {member.type!r}")

    def _write_file(self, parent: int, name: str, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = self._replacing(parent, name, lambda: os.open(name, flags, 0o600, dir_fd=parent))
        try:
            source = tar.extractfile(member) if member.size else None
            while source is not None and (chunk := source.read(CHUNK)):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            self._count(member.size)
            os.fchown(fd, member.uid, member.gid)
            os.fchmod(fd, member.mode & 0o7777)
            self._xattrs(fd, member)
            os.utime(fd, (member.mtime, member.mtime))
        finally:
            os.close(fd)

    def _hardlink(self, parent: int, name: str, member: tarfile.TarInfo) -> None:
        target = clean_parts(member.linkname)
        if not target:
            raise LayerError(f"hard link {member.name!r} has an empty target")
        target_parent = self._open_dir(tuple(target[:-1]), create=False)
        try:
            info = os.lstat(target[-1], dir_fd=target_parent)
            if stat.S_ISDIR(info.st_mode):
                raise LayerError(f"hard link {member.name!r} points at a directory")
            self._replacing(parent, name, lambda: os.link(target[-1], name, src_dir_fd=target_parent,
                                                          dst_dir_fd=parent, follow_symlinks=False))
            if tuple(target) in self._nodes:  # the same inode: counted once
                self._nodes[self._target] = self._nodes[tuple(target)]
        except FileNotFoundError:
            raise LayerError(f"hard link {member.name!r} -> {member.linkname!r}: target is not in the layer") from None
        finally:
            os.close(target_parent)

    def _finish_node(self, parent: int, name: str, member: tarfile.TarInfo, chmod: bool) -> None:
        os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        if chmod:
            os.chmod(name, member.mode & 0o7777, dir_fd=parent)
        if member.pax_headers and any(k.startswith(XATTR_PAX_PREFIX) for k in member.pax_headers):
            self._xattrs(f"/proc/self/fd/{parent}/{name}", member)
        os.utime(name, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)

    @staticmethod
    def _xattrs(target: int | str, member: tarfile.TarInfo) -> None:
        for key, value in (member.pax_headers or {}).items():
            if key.startswith(XATTR_PAX_PREFIX) and not key.startswith(XATTR_PAX_PREFIX + "trusted.overlay."):
                raw = value.encode("utf-8", "surrogateescape")
                if isinstance(target, int):
                    os.setxattr(target, key[len(XATTR_PAX_PREFIX):], raw)
                else:
                    os.setxattr(target, key[len(XATTR_PAX_PREFIX):], raw, follow_symlinks=False)

    def finish(self) -> None:
        """Apply directory modes and mtimes, deepest first (so children could be written)."""
        for parts, member in sorted(self._deferred, key=lambda item: len(item[0]), reverse=True):
            fd = self._open_dir(parts, create=False)
            try:
                if not parts:
                    os.fchown(fd, member.uid, member.gid)
                os.fchmod(fd, member.mode & 0o7777)
                os.utime(fd, (member.mtime, member.mtime))
            finally:
                os.close(fd)
        self._drop_cache()
