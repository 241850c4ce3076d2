"""This mount namespace's mount points, as ``/proc/self/mountinfo`` lists them (proc(5)): what
is mounted at or below a folder (a store entry, a half-removed container) and whether a folder
is a mount point (a volume's device). ``os.path.ismount`` misses a bind mount of a folder of the
same filesystem (same device, another inode); mountinfo does not."""

from __future__ import annotations

import os
import re


def mount_points() -> list[str]:
    """Every mount point, decoded, in mountinfo's order (a point mounted over lists again)."""
    with open("/proc/self/mountinfo") as handle:
        return [_unescaped(line.split(" ", 5)[4]) for line in handle]


def mounts_below(path: str | os.PathLike[str]) -> list[str]:
    """Mount points at or below ``path``, deepest first."""
    top = os.fspath(path)
    inside = [point for point in mount_points() if point == top or point.startswith(top + "/")]
    return sorted(set(inside), key=len, reverse=True)


def is_mount_point(path: str | os.PathLike[str]) -> bool:
    """Whether something is mounted at ``path``."""
    return os.fspath(path) in mount_points()


def _unescaped(field: str) -> str:
    """A mount point as mountinfo writes it, decoded (space, tab, newline and backslash are ``\\ooo``)."""
    if "\\" not in field:
        return field
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)
