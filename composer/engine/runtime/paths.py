"""Resolving a container path inside a root directory without ever leaving it (symlinks included).

The lesson of runc's CVE-2019-5736 / CVE-2024-21626 and every "symlink in the image" escape: a
path chosen by an image or a user is resolved component by component, with symlinks interpreted
relative to the container root, never the host's.
"""

from __future__ import annotations

import errno
import os

MAX_SYMLINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    """``root`` + ``unsafe`` with every symlink resolved inside ``root`` (the result stays in it)."""
    parts = [p for p in unsafe.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except OSError:
            resolved.append(part)  # not a symlink (or missing): keep it literally
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, "too many symlinks", unsafe)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return os.path.join(root, *resolved)
