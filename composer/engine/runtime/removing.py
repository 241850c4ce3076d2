"""Container directories a killed removal left behind in the root's ``removing/``.

``ContainerDir.remove`` renames a container's directory to ``removing/<id>.<pid>`` and deletes
it there; a remover killed half-way (a Ctrl-C'd ``down``, an OOM kill) leaves the rest. ``sweep``,
run by the next ``rm`` and ``prune`` of the root, deletes such an entry only when it is surely
dead: its remover is gone, no container of that id exists, nothing is mounted inside it and no
process has it as its working or root directory or holds a file of it open. A command sweeps a
root once (``sweep_once``): the entries of its own later removals are its own, never abandoned.
"""

from __future__ import annotations

import os
import threading

_swept: set[str] = set()  # the containers/ folders this process has swept (``sweep_once``)
_swept_lock = threading.Lock()


def sweep_once(containers: str | None = None) -> None:
    """``sweep``, the first time this process (one command: a ``down``, a ``prune``) asks for
    the root of ``containers``; later calls return at once."""
    from composer.engine.runtime.state import containers_root

    containers = containers or containers_root()
    with _swept_lock:
        if containers in _swept:
            return
        _swept.add(containers)
    sweep(containers)


def sweep(containers: str | None = None) -> list[str]:
    """Delete the abandoned entries of the ``removing/`` of ``containers`` (the state root's
    ``containers/`` by default); the names deleted."""
    from composer.engine.runtime.state import containers_root, removing_dir

    containers = containers or containers_root()
    top = removing_dir(containers)
    try:
        names = os.listdir(top)
    except FileNotFoundError:
        return []
    if not names:
        return []
    candidates = [os.path.join(top, name) for name in names if _abandoned(containers, top, name)]
    busy = _in_use(candidates) if candidates else set()
    removed = []
    for path in candidates:
        if path not in busy and _delete(path):
            removed.append(os.path.basename(path))
    return removed


def _abandoned(containers: str, top: str, name: str) -> bool:
    """A ``<id>.<pid>`` entry whose remover is gone, whose container is gone and with no mount inside."""
    from composer.engine.images.tmpdirs import process_exists
    from composer.engine.runtime.mountinfo import mounts_below

    container_id, _, pid = name.rpartition(".")
    if not container_id or not pid.isdigit() or process_exists(int(pid)):
        return False
    if os.path.lexists(os.path.join(containers, container_id)):
        return False
    return not mounts_below(os.path.join(top, name))


def _in_use(paths: list[str]) -> set[str]:
    """Those of ``paths`` some process works in, has as its root or holds a file of open."""
    used: set[str] = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        links = [f"/proc/{pid}/cwd", f"/proc/{pid}/root"]
        try:
            links += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            pass  # gone meanwhile, or a kernel thread
        for link in links:
            try:
                target = os.readlink(link)
            except OSError:
                continue
            used.update(path for path in paths if target == path or target.startswith(path + "/"))
    return used


def _delete(path: str) -> bool:
    from composer.engine.runtime.state import remove_tree

    try:
        remove_tree(path)
    except OSError:  # another sweep got there first, or a file it cannot delete: left for the next
        return False
    return True
