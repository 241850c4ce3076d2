"""What a killed build leaves, removed by the next build, ``image prune`` and ``builder prune``.

A build that is SIGKILLed cannot clean up. Its RUN step's container stays in ``ps -a``: dead
with it when it was running (its init has a parent-death signal), or still "created" when the
build died between making and starting it. Each step container carries its builder's pid,
start time and boot id (the ``OWNER_LABEL``), so a container whose builder is gone is found in
any state. Its scratch directory under the store's ``tmp/`` (``build-<pid>-...``) stays too,
with a layer view possibly still mounted in it. Cheap when there is nothing to remove (two
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
#: A step's state directory still without config.json after so many seconds was abandoned (its
#: builder writes it milliseconds after claiming the name, before the container starts).
ABANDONED_AFTER = 600.0
#: The label of a step container naming its builder: "<pid> <start time> <boot id>".
OWNER_LABEL = "composer.build.owner"


def scratch_prefix() -> str:
    """The prefix of this process's scratch directories."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def owner_label() -> dict[str, str]:
    """The label naming this process as the builder of a step container."""
    from composer.engine.runtime.state import boot_id, process_start_time

    pid = os.getpid()
    return {OWNER_LABEL: f"{pid} {process_start_time(pid)} {boot_id()}"}


def builder_gone(labels: dict[str, str]) -> bool:
    """Whether the builder a step container's labels name no longer runs (pid, start, boot)."""
    from composer.engine.runtime.state import supervisor_alive

    pid, _, rest = (labels.get(OWNER_LABEL) or "").partition(" ")
    start, _, boot = rest.partition(" ")
    if not pid.isdigit() or not start:
        return False  # not labelled (an older build's step): its supervisor's death decides
    return not supervisor_alive({"SupervisorPid": int(pid), "SupervisorStart": start, "SupervisorBoot": boot})


def remove_killed_builds(tmp: Path) -> int:
    """Remove the step containers and scratch directories (under ``tmp``) of killed builds;
    the number of containers removed."""
    from composer.engine.images.tmpdirs import owner_pid, process_exists, remove_entry

    removed = _remove_containers()
    try:
        entries = [entry for entry in os.listdir(tmp) if entry.startswith(SCRATCH_PREFIX)]
    except FileNotFoundError:
        return removed
    for entry in entries:
        pid = owner_pid(entry)
        if pid is not None and not process_exists(pid):
            remove_entry(tmp / entry)
    return removed


def _remove_containers() -> int:
    """Remove the build containers whose builder died; how many."""
    from composer.engine.runtime.state import names_root

    try:
        names = [name for name in os.listdir(names_root()) if name.startswith(CONTAINER_PREFIX)]
    except FileNotFoundError:
        return 0
    return sum(_remove_if_orphaned(name) for name in names)


def _remove_if_orphaned(name: str) -> bool:
    """Remove the build container ``name`` when its builder is gone; whether it was removed."""
    from composer.engine.runtime.containers import current_state, remove
    from composer.engine.runtime.state import ContainerDir, names_root

    try:
        with open(os.path.join(names_root(), name)) as handle:
            container_id = handle.read().strip()
        cdir = ContainerDir(container_id)
        if not os.path.exists(cdir.config):
            return _remove_if_abandoned(name, cdir)
        config = cdir.read_config()
        if config.get("image") != BUILD_IMAGE:
            return False  # a container the user named so: its supervisor's death (a reboot) is not ours to clean
        if builder_gone(config.get("labels") or {}):
            remove(container_id, force=True)  # created, running in a dead build's child, or exited
            return True
        if "supervisor died" in current_state(cdir).get("Error", ""):
            remove(container_id)  # its keeper (the build) is gone: not a running build's step
            return True
    except (OSError, ValueError, ComposerError):
        pass  # made or removed by its own build right now
    return False


def _remove_if_abandoned(name: str, cdir) -> bool:
    """Remove a step's name and state directory that never got a config.json (its build was
    killed between claiming them and starting the container, or between claiming the name and
    making the directory) once ``ABANDONED_AFTER`` passed."""
    import time

    from composer.engine.runtime.state import names_root, release_name

    made = os.path.isdir(cdir.path)
    since = os.stat(cdir.path if made else os.path.join(names_root(), name)).st_mtime
    if time.time() - since < ABANDONED_AFTER:
        return False
    release_name(name)
    if made:
        cdir.remove()
    return True
