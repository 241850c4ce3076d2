"""The event log of each project: what ``events --since`` replays (docker's daemon keeps one in memory).

There is no daemon: every state.json write of a compose container (by a command or by its
supervisor) whose fields an event shows changed appends one JSON line to
``<state root>/events/<project>.jsonl``: the time, the container's name, image and labels, and
the state before and after; removing a container directory appends its last state and no after.
Reading turns each line into docker's actions (``composer.engine.monitor.actions``: ``create``,
``start``, ``restart``, ``kill``, ``oom``, ``die``, ``stop``, ``pause``, ``unpause``,
``health_status: ...``, ``destroy``). Writing costs one read and one ``O_APPEND`` write and
imports nothing (supervisors and ``run -d`` keep typing and json off their path); past
``MAX_BYTES`` the file becomes ``.1`` (one generation kept). A container of no project (``container
run``/``create``) logs nothing while it lives (``system events`` rebuilds its past from its state's
times); its removal appends its last state to ``events/removed.log`` (``read_removed``), so that
``system events --since`` still shows a ``run --rm`` container, as dockerd's memory does, and the
live stream learns how a container it saw running (or never saw) ended.

When a log goes (compared with a private dockerd 20.10): the daemon keeps its last 256 events of
all kinds in memory, so after ``down`` and ``up`` of a project, ``events --since`` still shows the
removed containers' events until newer ones push them out. Here a plain ``down`` keeps the log
too (bounded by ``MAX_BYTES``, two generations); ``down -v`` that leaves no container of the
project removes it (the project is gone for good: nothing else would ever remove the file), and
``system prune`` removes the logs of every project without a container (``prune``).

Recording never raises: a journal that cannot be written loses events, never a container.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing stays off the supervisors' path
if TYPE_CHECKING:
    from typing import Iterator

    from composer.engine.monitor import Change

MAX_BYTES = 1 << 20
REMOVED_LOG = "removed.log"  # containers of no project, at their removal (not ``*.jsonl``: no project's)
HEALTH_LOG = "health.log"  # containers of no project: their health's changes (``health_status``)
PROJECT = "com.docker.compose.project"
# what an event shows of a state (``monitor.view_of`` reads these); the others, like a health log, change nothing
_SHOWN = ("Status", "Pid", "StartedAt", "SignalledAt", "StopRequestedAt", "RestartedAt", "OOMKilled", "ExitCode",
          "LastSignal", "Created", "FinishedAt", "SupervisorPid", "UpdatedAt", "Committed", "AttachedAt")


def journal_path(project: str) -> str:
    from composer.settings import state_root_dir

    return os.path.join(state_root_dir(), "events", f"{project}.jsonl")


def _read(path: str) -> dict | None:
    from composer.engine.runtime.state import read_json

    try:
        found = read_json(path)
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _shown(state: dict | None) -> dict | None:
    """The part of a state an event shows."""
    if state is None:
        return None
    shown = {k: state[k] for k in _SHOWN if k in state}
    health = (state.get("Health") or {}).get("Status")
    if health:
        shown["Health"] = {"Status": health}
    return shown


def state_written(path: str, after: dict, before: dict | None = None) -> None:
    """Called before ``after`` replaces the container state file at ``path`` (whose content the
    caller may pass as ``before``): log the change."""
    try:
        directory = os.path.dirname(path)
        shape = _shape(directory)  # first: a container of no project costs no read of its state
        if not shape["labels"].get(PROJECT):
            if before is not None and shape["healthcheck"]:
                _health_changed(directory, shape, before, after)
            return
        shown_before, now = _shown(_read(path) if before is None else before), _shown(after)
        if shown_before != now:
            _append(directory, shape, shown_before, now)
    except Exception:  # noqa: BLE001 - the journal must never break the runtime
        pass


def _health_changed(directory: str, shape: dict, before: dict, after: dict) -> None:
    """A running container of no project whose health became healthy or unhealthy: the change
    in the host's ``HEALTH_LOG`` (``events --since`` replays it as dockerd's ``health_status``;
    its other actions come from the times its state records)."""
    old, new = ((state.get("Health") or {}).get("Status", "") for state in (before, after))
    if new != old and new in ("healthy", "unhealthy") and after.get("Status") == "running":
        now = _shown(after)
        _append(directory, shape, {**now, "Health": {"Status": old}}, now, HEALTH_LOG)


def directory_removed(directory: str) -> None:
    """Called before a container directory is removed: log its last state (its ``destroy``); a
    container of no project goes to the host's log of removed containers (``read_removed``)."""
    try:
        shape = _shape(directory)
        last = _shown(_read(os.path.join(directory, "state.json"))) or {}
        _append(directory, shape, last, None, None if shape["labels"].get(PROJECT) else REMOVED_LOG)
        _SHAPES.pop(directory, None)
    except Exception:  # noqa: BLE001 - the journal must never break the runtime
        pass


_SHAPES: dict[str, tuple[tuple[int, int, int], dict]] = {}  # directory -> (config.json's stamp, shape)


def _shape(directory: str) -> dict:
    """What an event shows of a container's config (name, image, labels), read again only when
    config.json changed."""
    path = os.path.join(directory, "config.json")
    info = os.stat(path)
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)  # written by a rename: a new inode each time
    known = _SHAPES.get(directory)
    if known is not None and known[0] == stamp:
        return known[1]
    config = _read(path) or {}
    labels = config.get("labels") or {}
    shape = {"name": config.get("name", ""), "image": config.get("image", ""), "labels": labels,
             "healthcheck": bool(config.get("healthcheck"))}
    _SHAPES[directory] = (stamp, shape)
    return shape


def _append(directory: str, shape: dict, before: dict | None, after: dict | None, log: str | None = None) -> None:
    """One record in the project's log (or the log named ``log``)."""
    from composer.engine.runtime.state import dumps

    line = dumps({"time": time.time(), "id": os.path.basename(directory), "config": shape, "before": before,
                  "after": after}) + "\n"
    root = os.path.dirname(os.path.dirname(directory))  # <root>/containers/<id>
    append_line(os.path.join(root, "events", log or f"{shape['labels'][PROJECT]}.jsonl"), line)


def append_line(path: str, line: str) -> None:
    """Append ``line`` to the log at ``path`` (made on first use): one ``O_APPEND`` write, no
    fsync; past ``MAX_BYTES`` the log becomes its ``.1`` generation."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, line.encode())
        if os.fstat(fd).st_size > MAX_BYTES:
            _rotate(path, fd)
    finally:
        os.close(fd)


def _rotate(path: str, fd: int) -> None:
    """Make the full log (open as ``fd``) the ``.1`` generation, unless another writer already
    did: writers past the limit together take its lock in turn, and only one finds ``path`` still
    naming it (without the check, a second one would move the new log another writer had just
    begun over the full one, losing a whole generation). The lock ends with ``fd``."""
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        if os.stat(path).st_ino != os.fstat(fd).st_ino:
            return
    except FileNotFoundError:
        return
    os.replace(path, path + ".1")


def mark_restart(container_id: str) -> None:
    """Record that the container's current run was started by a restart (the ``restart``
    command, ``watch``'s sync+restart, a ``depends_on: {restart: true}`` dependent, ``docker
    restart``): ``events`` reports ``restart`` after that ``start``, as docker does. Called once
    the start succeeded (a failed start records nothing); a container not on disk is skipped."""
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(container_id)
    try:
        with cdir.lock():
            started = cdir.read_state().get("StartedAt")
        if started:
            cdir.write_state(RestartedAt=started)
    except (OSError, ValueError):
        pass


def read_removed(since: float, until: float | None = None) -> list["Change"]:
    """The actions of the removed containers of no project between ``since`` and ``until``: those
    their last state's times tell (``monitor.past_changes``), then their removal."""
    from composer.engine.monitor import Change, actions, past_changes, view_of

    path = os.path.join(os.path.dirname(journal_path("x")), REMOVED_LOG)
    found = []
    for record in _records([path + ".1", path]):
        view = view_of(record["id"], record["config"], record.get("before") or {})
        found += past_changes(view) + [Change(record["time"], action, view) for action in actions(view, None)]
    found = [change for change in found if change.time >= since and (until is None or change.time <= until)]
    found.sort(key=lambda change: change.time)
    return found


def read(project: str, since: float, until: float | None = None) -> list["Change"]:
    """The logged actions of ``project`` between ``since`` and ``until`` (Unix times), oldest first."""
    return _read_log(journal_path(project), since, until)


def read_health(since: float, until: float | None = None) -> list["Change"]:
    """The ``health_status`` actions of the containers of no project between ``since`` and ``until``."""
    return _read_log(os.path.join(os.path.dirname(journal_path("x")), HEALTH_LOG), since, until)


def _read_log(path: str, since: float, until: float | None) -> list["Change"]:
    """The actions the container records of the log at ``path`` (and its ``.1``) tell, oldest first."""
    from composer.engine.monitor import Change, actions, view_of

    found = []
    for record in _records([path + ".1", path]):
        stamp, before, after = record["time"], record.get("before"), record.get("after")
        if stamp < since or (until is not None and stamp > until):
            continue
        old = view_of(record["id"], record["config"], before) if before is not None else None
        new = view_of(record["id"], record["config"], after) if after is not None else None
        found += [Change(stamp, action, new or old) for action in actions(old, new)]  # type: ignore[arg-type]
    found.sort(key=lambda change: change.time)  # stable: one line's actions keep their order
    return found


def _records(paths: list[str]) -> Iterator[dict]:
    """The container records of the logs at ``paths`` (``object_events.log_records``)."""
    from composer.engine.object_events import log_records

    for path in paths:
        for record in log_records(path):
            if isinstance(record.get("config"), dict) and record.get("id"):
                yield record


def forget(project: str) -> None:
    """Remove a project's log (``down -v`` that leaves none of its containers; tests)."""
    for path in (journal_path(project), journal_path(project) + ".1"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def prune(live: "set[str]") -> list[str]:
    """Remove the logs of projects not in ``live`` (those with a container) whose last record is
    a removal (a project coming up meanwhile, whose last record is a create, keeps its log); the
    projects whose logs went, sorted."""
    directory = os.path.dirname(journal_path("x"))
    try:
        names = [name.removesuffix(".1") for name in os.listdir(directory) if name.endswith((".jsonl", ".jsonl.1"))]
    except FileNotFoundError:
        return []
    gone = []
    for project in sorted({name.removesuffix(".jsonl") for name in names} - live):
        path = journal_path(project)
        last = _last_record(path) if os.path.exists(path) else _last_record(path + ".1")
        if last is None or last.get("after") is None:
            forget(project)
            gone.append(project)
    return gone


def _last_record(path: str) -> dict | None:
    """The last whole record of the log ``path`` (None for an empty or unreadable one)."""
    import json

    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 65536))
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        return record if isinstance(record, dict) else None
    return None
