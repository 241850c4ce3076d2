"""The event log of each project: what ``events --since`` replays (docker's daemon keeps one in memory).

There is no daemon: every state.json write of a compose container (by a command or by its
supervisor) compares the state it replaces with the new one and appends the container actions
that make the difference (``create``, ``start``, ``restart``, ``kill``, ``oom``, ``die``,
``stop``, ``pause``, ``unpause``, ``health_status: ...``), and removing a container directory
appends ``destroy``. One JSON line per action in ``<state root>/events/<project>.jsonl``, written
with a single ``O_APPEND`` write; past ``MAX_BYTES`` the file becomes ``.1`` (one generation kept).

Recording never raises: a journal that cannot be written loses events, never a container.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from composer.engine.monitor import Change, View

MAX_BYTES = 1 << 20
STATE_FILE = "state.json"
# the state.json fields whose change may be an action (others, like a health log, are skipped cheaply)
_WATCHED = ("Status", "Pid", "StartedAt", "SignalledAt", "StopRequestedAt", "RestartedAt", "OOMKilled")


def journal_path(project: str) -> str:
    from composer.settings import state_root_dir

    return os.path.join(state_root_dir(), "events", f"{project}.jsonl")


def _health(state: dict | None) -> str:
    return ((state or {}).get("Health") or {}).get("Status", "")


def _read(path: str) -> dict | None:
    from composer.engine.runtime.state import read_json

    try:
        found = read_json(path)
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def state_written(path: str, after: dict) -> None:
    """Called before ``after`` replaces the container state file at ``path``: log the actions."""
    try:
        before = _read(path)
        if before is not None and _health(before) == _health(after) and \
                all(before.get(k) == after.get(k) for k in _WATCHED):
            return
        directory = os.path.dirname(path)
        config = _read(os.path.join(directory, "config.json"))
        if config is None or not (config.get("labels") or {}).get("com.docker.compose.project"):
            return
        from composer.engine.monitor import actions, view_of

        container_id = os.path.basename(directory)
        old = view_of(container_id, config, before) if before is not None else None
        new = view_of(container_id, config, after)
        _append(new, actions(old, new))
    except Exception:  # noqa: BLE001 - the journal must never break the runtime
        pass


def directory_removed(directory: str) -> None:
    """Called before a container directory is removed: log its ``destroy`` (after a ``die`` if it ran)."""
    try:
        config = _read(os.path.join(directory, "config.json"))
        if config is None or not (config.get("labels") or {}).get("com.docker.compose.project"):
            return
        from composer.engine.monitor import actions, view_of

        view = view_of(os.path.basename(directory), config, _read(os.path.join(directory, STATE_FILE)) or {})
        _append(view, actions(view, None))
    except Exception:  # noqa: BLE001 - the journal must never break the runtime
        pass


def _append(view: "View", found: list[str]) -> None:
    if not found:
        return
    from composer.engine.runtime.state import dumps

    stamp = time.time()
    text = "".join(dumps({"time": stamp, "action": action, "view": list(view)}) + "\n" for action in found)
    path = journal_path(view.labels["com.docker.compose.project"])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode())
        if os.fstat(fd).st_size > MAX_BYTES:
            os.replace(path, path + ".1")
    finally:
        os.close(fd)


def read(project: str, since: float, until: float | None = None) -> list["Change"]:
    """The logged actions of ``project`` between ``since`` and ``until`` (Unix times), oldest first."""
    from composer.engine.monitor import Change, View

    path = journal_path(project)
    found = []
    for record in _records([path + ".1", path]):
        stamp = record.get("time", 0.0)
        if stamp >= since and (until is None or stamp <= until):
            found.append(Change(stamp, record["action"], View(*record["view"])))
    found.sort(key=lambda change: change.time)  # stable: one write's actions keep their order
    return found


def _records(paths: list[str]) -> Iterator[dict]:
    import json

    for path in paths:
        try:
            with open(path) as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash
            if isinstance(record, dict) and "action" in record and isinstance(record.get("view"), list):
                yield record


def forget(project: str) -> None:
    """Remove a project's log (tests; a state reset)."""
    for path in (journal_path(project), journal_path(project) + ".1"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
