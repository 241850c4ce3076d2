"""Watching a project's containers as they change, without polling (``events``, ``logs -f``).

There is no daemon to subscribe to: the state is on disk. A :class:`ProjectMonitor` holds one
inotify descriptor watching ``containers/`` (container directories created or removed) and each
container directory (every state.json update is an atomic rename into it), plus a pidfd per live
supervisor (a supervisor killed by SIGKILL writes nothing, its pidfd still wakes us). On each
wake-up it compares the project's containers with what it saw before and reports the differences
as Docker's container actions: ``create``, ``start``, ``die``, ``pause``, ``unpause``,
``destroy`` and ``health_status: <status>``.
"""

from __future__ import annotations

import os
import select
import time
from typing import Iterator, NamedTuple

from composer.engine import labels as L
from composer.engine.runtime import libc
from composer.engine.runtime.watch import drain

IN_MOVED_FROM, IN_DELETE = 0x40, 0x200
_ROOT_MASK = libc.IN_CREATE | IN_DELETE | libc.IN_MOVED_TO | IN_MOVED_FROM
_DIR_MASK = libc.IN_MOVED_TO | libc.IN_CREATE


class View(NamedTuple):
    """What the monitor compares of one container."""

    id: str
    name: str
    service: str
    image: str
    status: str
    started_at: str
    pid: int
    health: str
    exit_code: int
    supervisor: int
    labels: dict
    signal: int = 0
    signalled_at: str = ""
    stop_requested_at: str = ""
    created: str = ""
    finished_at: str = ""
    restarted_at: str = ""  # the StartedAt of the start ``mark_restart`` recorded as a restart
    oom: bool = False  # the run ended because the kernel's OOM killer killed PID 1
    updated_at: str = ""  # the time of the last ``update`` (its event)
    committed: dict | None = None  # the last ``commit`` of it: At, Comment, ImageID, ImageRef (its event)
    attached_at: str = ""  # when a foreground run's client attached (its ``attach`` event)


class Change(NamedTuple):
    """One container action, as ``docker compose events`` reports it."""

    time: float
    action: str
    view: View

    def attributes(self) -> dict[str, str]:
        """Docker's actor attributes without the compose labels: image, name, other labels, exitCode."""
        found = {k: v for k, v in self.view.labels.items() if not k.startswith(L.PREFIX + ".")}
        found.update(image=self.view.image, name=self.view.name)
        if self.action == "die":
            found["exitCode"] = str(self.view.exit_code)
        elif self.action == "kill":
            found["signal"] = str(self.view.signal)
        elif self.action == "commit":  # dockerd's attributes of a commit
            committed = self.view.committed or {}
            found.update(comment=committed.get("Comment", ""), imageID=committed.get("ImageID", ""),
                         imageRef=committed.get("ImageRef", ""))
        return found


def actions(before: View | None, after: View | None) -> list[str]:
    """The container actions that turn ``before`` into ``after`` (None: absent), in Docker's
    order: ``kill`` (a signal sent), ``die``, ``stop`` (the die was asked for by a stop)."""
    if after is None:
        return ["die", "destroy"] if before and before.status in ("running", "paused") else ["destroy"]
    found = ["create"] if before is None else []
    if after.attached_at and after.attached_at != (before.attached_at if before else ""):
        found.append("attach")  # (dockerd's order: create, attach, connect, start)
    old_status = before.status if before else "created"
    if after.started_at and after.status in ("exited", "dead") and \
            after.started_at != (before.started_at if before else ""):
        found.append("start")  # started and ended between two looks (a quick `run`)
        old_status = "running"
    if before is not None and before.status in ("running", "paused") and after.signalled_at \
            and after.signalled_at != before.signalled_at:
        found.append("kill")
    restarted = before is not None and after.pid != before.pid and after.status == "running"  # a new PID 1
    if old_status in ("running", "paused", "restarting") and (after.status in ("exited", "dead") or restarted):
        if after.oom and after.status in ("exited", "dead"):
            found.append("oom")
        found.append("die")
        if after.stop_requested_at and after.stop_requested_at >= after.started_at and after.status in ("exited", "dead"):
            found.append("stop")
    if after.status == "running" and (old_status not in ("running", "paused") or restarted):
        found.append("start")
    if after.restarted_at and after.restarted_at == after.started_at \
            and after.restarted_at != (before.restarted_at if before else ""):  # that start was a restart
        found.append("restart")
    if before is not None and after.updated_at != before.updated_at:  # docker's ``update`` event
        found.append("update")
    if after.status == "paused" and old_status != "paused":
        found.append("pause")
    if before is not None and after.committed and after.committed != before.committed:  # dockerd's
        found.append("commit")  # ``commit``, made while paused: between pause and unpause
    if old_status == "paused" and after.status == "running":
        found.append("unpause")
    # as dockerd: a probe's verdict on a running container; no event for the initial "starting"
    # nor for the health a stopped container is left with
    if after.health in ("healthy", "unhealthy") and after.status == "running" \
            and after.health != (before.health if before else ""):
        found.append(f"health_status: {after.health}")
    return found


_RECORDED_AT = {"create": "created", "attach": "attached_at", "start": "started_at", "restart": "started_at",
                "kill": "signalled_at", "oom": "finished_at", "die": "finished_at",
                "stop": "finished_at"}  # action -> the View field of its time


def timed_changes(before: View | None, after: View, stamp: float) -> list[Change]:
    """The actions turning ``before`` into ``after``, each at the time ``after``'s state records
    for it (its start at StartedAt, its die at FinishedAt...), the others at ``stamp``."""
    from composer.engine.runtime.describe import epoch

    found = []
    for action in actions(before, after):
        field = _RECORDED_AT.get(action)
        recorded = getattr(after, field) if field else ""
        found.append(Change(epoch(recorded) if recorded else stamp, action, after))
    return found


def past_changes(view: View) -> list[Change]:
    """A container's actions rebuilt from the times its state records: ``create``, its last
    ``start`` (and ``restart``), then ``kill``, ``die`` and ``stop`` if that run ended."""
    from composer.engine.runtime.describe import epoch

    started, finished = view.started_at, view.finished_at
    steps = [(view.created, "create"), (view.attached_at, "attach")]
    if started:
        steps.append((started, "start"))
        if view.restarted_at == started:
            steps.append((started, "restart"))
        if view.signalled_at >= started:
            steps.append((view.signalled_at, "kill"))
        if view.status in ("exited", "dead") and finished >= started:
            steps.append((finished, "die"))
            if view.stop_requested_at >= started:
                steps.append((finished, "stop"))
    if view.committed:  # after the steps before it (the others keep their order)
        at = view.committed.get("At", "")
        steps.insert(sum(1 for stamp, _ in steps if stamp <= at), (at, "commit"))
    return [Change(epoch(stamp), action, view) for stamp, action in steps if stamp]


def view_of(container_id: str, config: dict, state: dict) -> View:
    """What the monitor compares of a container, from its config.json and state.json."""
    labels = config.get("labels") or {}
    health = (state.get("Health") or {}).get("Status", "") if config.get("healthcheck") else ""
    return View(container_id, config.get("name", ""), labels.get(L.SERVICE, ""), config.get("image", ""),
                state.get("Status", "created"), state.get("StartedAt", ""), state.get("Pid") or 0, health,
                state.get("ExitCode", 0), state.get("SupervisorPid") or 0, labels,
                state.get("LastSignal") or 0, state.get("SignalledAt", ""), state.get("StopRequestedAt", ""),
                state.get("Created", ""), state.get("FinishedAt", ""), state.get("RestartedAt", ""),
                bool(state.get("OOMKilled")), state.get("UpdatedAt", ""), state.get("Committed"),
                state.get("AttachedAt", ""))


class ProjectMonitor:
    """The containers of ``project`` (of ``services``, never one-off ones) and their changes."""

    def __init__(self, project: str, services: tuple[str, ...] = ()) -> None:
        from composer.engine.runtime.state import containers_root

        self.project = project
        self.services = set(services)
        self.root = containers_root()
        os.makedirs(self.root, exist_ok=True)
        self.fd = libc.inotify_init()
        libc.inotify_add_watch(self.fd, self.root, _ROOT_MASK)
        projects = os.path.join(os.path.dirname(self.root), "projects")  # a command releasing its lock
        os.makedirs(projects, exist_ok=True)
        libc.inotify_add_watch(self.fd, projects, libc.IN_CLOSE_WRITE)
        self.watched: set[str] = set()
        self.pidfds: dict[int, int] = {}  # supervisor pid -> pidfd
        self.opened = time.time()  # what happens from now on, the live changes report
        self.views: dict[str, View] = self.snapshot()
        self.pending = sorted((change for view in self.views.values() for change in past_changes(view)
                               if change.time > self.opened), key=lambda change: change.time)
        # (what happened between ``opened`` and the snapshot's look: neither history, which ends
        # at ``opened``, nor a change from the first views: the first live round reports it)

    def _view(self, container_id: str) -> View | None:
        from composer.engine.runtime.containers import current_state
        from composer.engine.runtime.state import ContainerDir

        cdir = ContainerDir(container_id, self.root)
        try:
            config = cdir.read_config()
            state = current_state(cdir)
        except (OSError, ValueError):
            return None
        view = view_of(container_id, config, state)
        return view if self.selects(view) else None

    def selects(self, view: View) -> bool:
        """Whether the monitor reports ``view``'s container: the project's, of its services, not one-off."""
        labels = view.labels
        return labels.get(L.PROJECT) == self.project and labels.get(L.ONEOFF) != "True" and \
            (not self.services or labels.get(L.SERVICE) in self.services)

    def snapshot(self) -> dict[str, View]:
        """The project's containers now (and watches on each of their directories)."""
        views = {}
        for container_id in sorted(os.listdir(self.root)):
            if container_id not in self.watched:
                try:
                    libc.inotify_add_watch(self.fd, os.path.join(self.root, container_id), _DIR_MASK)
                    self.watched.add(container_id)
                except OSError:
                    continue  # removed meanwhile
            view = self._view(container_id)
            if view is not None:
                views[container_id] = view
        self.watched &= set(os.listdir(self.root))
        return views

    def _wait(self, timeout: float | None) -> None:
        """Block until something under the containers directory changes or a supervisor exits."""
        live = {v.supervisor for v in self.views.values() if v.status in ("running", "paused", "restarting")}
        for pid in set(self.pidfds) - live:
            os.close(self.pidfds.pop(pid))
        for pid in live - set(self.pidfds) - {0}:
            try:
                self.pidfds[pid] = os.pidfd_open(pid)
            except OSError:
                pass
        ready, _, _ = select.select([self.fd, *self.pidfds.values()], [], [], timeout)
        if self.fd in ready:
            drain(self.fd)

    def wait_changes(self, timeout: float | None = None) -> list[Change]:
        """Block until something changes (or ``timeout``); the changes since the last call (maybe
        none: a composer command finishing wakes it too)."""
        found, self.pending = self.pending, []
        self._wait(0.0 if found else timeout)
        now = self.snapshot()
        stamp = time.time()
        found += [Change(stamp, action, after or before)  # type: ignore[arg-type]
                  for container_id in sorted(set(self.views) | set(now))
                  for before, after in [(self.views.get(container_id), now.get(container_id))]
                  for action in actions(before, after)]
        self.views = now
        return found

    def history(self, since: float, until: float | None = None) -> list[Change]:
        """The changes between ``since`` and ``until``, oldest first, as the project's event log
        (``composer.engine.journal``) recorded them up to this monitor's first look; a container the
        log never saw (made before it existed) has the changes its recorded times tell."""
        from composer.engine import journal

        end = self.opened if until is None else min(until, self.opened)
        every = journal.read(self.project, 0.0, self.opened)
        seen = {c.view.id for c in every}
        found = [c for c in every if c.time >= since and c.time <= end and self.selects(c.view)]
        found += [c for v in self.views.values() if v.id not in seen for c in past_changes(v)
                  if since <= c.time <= end]
        return sorted(found, key=lambda c: c.time)

    def changes(self, until: float | None = None) -> Iterator[Change]:
        """Changes as they happen, until the Unix time ``until`` (forever when None)."""
        while until is None or time.time() < until:
            yield from self.wait_changes(None if until is None else max(0.0, until - time.time()))

    def close(self) -> None:
        for fd in self.pidfds.values():
            os.close(fd)
        self.pidfds.clear()
        os.close(self.fd)

    def __enter__(self) -> "ProjectMonitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
