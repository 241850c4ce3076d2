"""Turning a layer directory (an overlay upper dir, or a COPY staging dir) into an OCI layer tar.

The directory uses overlayfs conventions, as the image store's snapshots do: a deletion is a
0/0 character device, an opaque directory carries ``trusted.overlay.opaque=y``. In the tar they
become OCI whiteouts: an empty ``.wh.<name>`` file and a ``<dir>/.wh..wh..opq`` marker.
Entries are written in sorted order with numeric owners only, so the same tree always gives the
same bytes (hence the same diff id) and the cache can recognise it.
"""

from __future__ import annotations

import os
import stat
import tarfile
from typing import BinaryIO, Iterator

from composer.engine.images.layers import OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX

_CHUNK = 1 << 20


def is_whiteout(info: os.stat_result) -> bool:
    """An overlayfs whiteout: a character device with device number 0/0."""
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def is_opaque(path: str) -> bool:
    """Whether the overlay marked the directory opaque (its lower contents hidden)."""
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def walk(root: str, rel: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) of everything under ``root``, parents first, names sorted."""
    base = os.path.join(root, rel) if rel else root
    for name in sorted(os.listdir(base)):
        path = f"{rel}/{name}" if rel else name
        info = os.lstat(os.path.join(root, path))
        yield path, info
        if stat.S_ISDIR(info.st_mode):
            yield from walk(root, path)


def write_layer(root: str, out: BinaryIO) -> None:
    """Write the directory ``root`` to ``out`` as an uncompressed OCI layer tar."""
    links: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel, info in walk(root):
            path = os.path.join(root, rel)
            if is_whiteout(info):
                head, _, name = rel.rpartition("/")
                tar.addfile(_member(f"{head}/{WHITEOUT_PREFIX}{name}" if head else WHITEOUT_PREFIX + name,
                                    tarfile.REGTYPE, info))
                continue
            _add_entry(tar, rel, path, info, links)
            if stat.S_ISDIR(info.st_mode) and is_opaque(path):
                tar.addfile(_member(f"{rel}/{OPAQUE_MARKER}", tarfile.REGTYPE, info))


def _member(name: str, kind: bytes, info: os.stat_result) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.mode = stat.S_IMODE(info.st_mode) if kind != tarfile.REGTYPE or info.st_size else 0o644
    member.uid, member.gid = info.st_uid, info.st_gid
    member.uname = member.gname = ""
    member.mtime = int(info.st_mtime)
    return member


def _add_entry(tar: tarfile.TarFile, rel: str, path: str, info: os.stat_result,
               links: dict[tuple[int, int], str]) -> None:
    mode = info.st_mode
    member = tarfile.TarInfo(rel + "/" if stat.S_ISDIR(mode) else rel)
    member.mode = stat.S_IMODE(mode)
    member.uid, member.gid = info.st_uid, info.st_gid
    member.uname = member.gname = ""
    member.mtime = int(info.st_mtime)
    if stat.S_ISDIR(mode):
        member.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        member.type, member.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISREG(mode):
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and key in links:
            member.type, member.linkname = tarfile.LNKTYPE, links[key]
            tar.addfile(member)
            return
        links[key] = rel
        member.type, member.size = tarfile.REGTYPE, info.st_size
        with open(path, "rb") as handle:
            tar.addfile(member, handle)
        return
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        member.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        member.devmajor, member.devminor = os.major(info.st_rdev), os.minor(info.st_rdev)
    elif stat.S_ISFIFO(mode):
        member.type = tarfile.FIFOTYPE
    else:
        return  # sockets have no tar form
    tar.addfile(member)

