"""Removing entries of the store's ``tmp/``: what a killed pull, load or build left there.

An entry may hold mounts (a dead build's read-only layer view, a tmpfs of a RUN step, a bind
mount of the host): removing files through them would reach outside the store, so everything
mounted at or below an entry is detached first (deepest first). A symbolic link is removed
itself, never followed. Entries named ``<kind>-<pid>-<random>`` (a build's scratch) belong to
that process while it runs and are only removed once it is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from composer.engine.runtime.mountinfo import mounts_below

_OWNED = re.compile(r"[a-z]+-(\d+)-")


def owner_pid(name: str) -> int | None:
    """The pid a ``<kind>-<pid>-<random>`` entry belongs to; None for other names."""
    match = _OWNED.match(name)
    return int(match.group(1)) if match else None


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (signal 0; a process of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_entry(path: Path) -> int:
    """Detach the mounts at and below ``path``, then remove it (a link or file: itself only).

    Returns the bytes its files took (0 when it was already gone, or when a mount could not be
    detached: the entry is then left as it is, as removing it would reach through the mount).
    """
    from composer.engine.runtime import libc

    points = mounts_below(path)
    for point in points:
        try:
            libc.umount(point, libc.MNT_DETACH)
        except OSError:
            continue
    if points and mounts_below(path):
        return 0
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(path)
        return info.st_size
    size = tree_size(path)
    shutil.rmtree(path, ignore_errors=True)  # never follows links (fd-based on Linux)
    return size


def tree_size(path: Path) -> int:
    """The bytes of the files under ``path`` (links not followed)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                pass
    return total

