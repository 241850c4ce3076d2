"""A container's filesystem seen from outside, without mounting it: ``container diff``'s
changes, ``container export``'s merged view, and the disk space a directory uses."""

from __future__ import annotations

import os
import stat


HIDDEN_CHANGES = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/proc", "/sys", "/dev")


def changes(upper: str, layers: list[str]) -> list[tuple[str, str]]:
    """docker's ``container diff``: (kind, path) for each entry of the writable layer ``upper``,
    kind ``A`` (added), ``C`` (changed: it was in a lower layer) or ``D`` (a whiteout: deleted),
    sorted by path; the files and mount points the runtime itself provides are left out."""
    found = []
    for directory, dirs, files in os.walk(upper):
        for name in dirs + files:
            full = os.path.join(directory, name)
            path = "/" + os.path.relpath(full, upper)
            if path in HIDDEN_CHANGES or path.startswith(tuple(p + "/" for p in HIDDEN_CHANGES[3:])):
                continue
            info = os.lstat(full)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                found.append(("D", path))
            elif any(os.path.lexists(os.path.join(layer, path.lstrip("/"))) for layer in layers):
                found.append(("C", path))
            else:
                found.append(("A", path))
    reported = {path for _, path in found}
    parents = {os.path.dirname(path) for path in HIDDEN_CHANGES}  # /etc: changed only by the runtime's files
    found = [(kind, path) for kind, path in found if not (
        kind == "C" and path in parents and not any(other.startswith(path + "/") for other in reported))]
    return sorted(found, key=lambda change: change[1])


def merged_view(layers: list[str], upper: str) -> dict[str, str]:
    """The container's filesystem as overlayfs shows it, without mounting: relative path -> the
    file that provides it (lower layers bottom first, then ``upper``; whiteouts delete, an opaque
    directory hides what is below it)."""
    view: dict[str, str] = {}
    for layer in [*layers, upper]:
        for directory, dirs, files in os.walk(layer):
            relative = os.path.relpath(directory, layer)
            prefix = "" if relative == "." else relative + "/"
            if prefix and _opaque(directory):
                for path in [p for p in view if p.startswith(prefix)]:
                    del view[path]
            for name in dirs + files:
                full = os.path.join(directory, name)
                info = os.lstat(full)
                if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0 or name.startswith(".wh."):
                    gone = prefix + name.removeprefix(".wh.")
                    view.pop(gone, None)
                    for path in [p for p in view if p.startswith(gone + "/")]:
                        del view[path]
                    continue
                view[prefix + name] = full
    return dict(sorted(view.items()))


def _opaque(directory: str) -> bool:
    try:
        return os.getxattr(directory, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def disk_usage(path: str) -> int:
    """Bytes used under ``path`` (not following symlinks; hard links counted once)."""
    total, seen = 0, set()
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total
