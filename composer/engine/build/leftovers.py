"""What a killed build leaves, removed by the next build: its step container and its scratch.

A build that is SIGKILLed cannot clean up. Its RUN step's container dies with it (its init has
a parent-death signal) but stays in ``ps -a``; its scratch directory under the store's ``tmp/``
(named ``build-<pid>-...``) stays too, with a layer view possibly still mounted in it. Each
build first removes those of builds whose process is gone: cheap when there are none (two
directory listings).
"""

from __future__ import annotations

import os
from pathlib import Path

from composer.errors import ComposerError

#: The name of every build container starts so (then 12 digits of its id).
CONTAINER_PREFIX = "composer-build-"
#: The image field of a build container's config (no image reference can be written so).
BUILD_IMAGE = "(build)"
#: The scratch directory of a build: ``build-<pid>-<random>`` under the store's ``tmp/``.
SCRATCH_PREFIX = "build-"


def scratch_prefix() -> str:
    """The prefix of this process's scratch directories."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def remove_killed_builds(tmp: Path) -> None:
    """Remove the step containers and scratch directories (under ``tmp``) of killed builds."""
    _remove_containers()
    try:
        entries = [entry for entry in os.listdir(tmp) if entry.startswith(SCRATCH_PREFIX)]
    except FileNotFoundError:
        return
    for entry in entries:
        pid = entry[len(SCRATCH_PREFIX):].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove_scratch(tmp / entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_containers() -> None:
    """Remove the build containers whose keeper (their build) died."""
    from composer.engine.runtime.state import names_root

    try:
        names = [name for name in os.listdir(names_root()) if name.startswith(CONTAINER_PREFIX)]
    except FileNotFoundError:
        return
    if not names:
        return
    from composer.engine.runtime.containers import current_state, remove
    from composer.engine.runtime.state import ContainerDir

    for name in names:
        try:
            with open(os.path.join(names_root(), name)) as handle:
                container_id = handle.read().strip()
            cdir = ContainerDir(container_id)
            if cdir.read_config().get("image") != BUILD_IMAGE:
                continue  # a container the user named so: its supervisor's death (a reboot) is not ours to clean
            if "supervisor died" in current_state(cdir).get("Error", ""):
                remove(container_id)  # its keeper (the build) is gone: not a running build's step
        except (OSError, ValueError, ComposerError):
            continue  # made or removed by its own build right now


def _remove_scratch(path: Path) -> None:
    """Unmount the views left mounted in ``path`` (deepest first), then remove it."""
    import shutil

    from composer.engine.runtime import libc

    inside = str(path) + "/"
    with open("/proc/self/mountinfo") as handle:
        points = [point for point in (_unescaped(line.split()[4]) for line in handle) if point.startswith(inside)]
    for point in sorted(points, key=len, reverse=True):
        try:
            libc.umount(point, libc.MNT_DETACH)
        except OSError:
            continue
    shutil.rmtree(path, ignore_errors=True)


def _unescaped(field: str) -> str:
    """A mount point as mountinfo writes it, decoded (space, tab, newline and backslash are ``\\ooo``)."""
    if "\\" not in field:
        return field
    import re

    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)
