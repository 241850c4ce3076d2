"""Typed progress events the engine emits; the CLI renders them (tty, plain, json).

An event names an object as Compose prints it (``Container myapp-web-1``, ``Network
myapp_default``) and what happened to it (``Creating`` ... ``Created``, with the duration).
"""

from __future__ import annotations

import enum
import time
from typing import Any, Callable, Iterable, Mapping, NamedTuple


class Status(str, enum.Enum):
    """What happened; the value is the word Compose prints."""

    PULLING = "Pulling"
    PULLED = "Pulled"
    BUILDING = "Building"
    BUILT = "Built"
    CREATING = "Creating"
    CREATED = "Created"
    RECREATE = "Recreate"
    RECREATED = "Recreated"
    STARTING = "Starting"
    STARTED = "Started"
    RUNNING = "Running"
    WAITING = "Waiting"
    HEALTHY = "Healthy"
    EXITED = "Exited"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    KILLING = "Killing"
    KILLED = "Killed"
    RESTARTING = "Restarting"
    RESTARTED = "Restarted"
    PAUSING = "Pausing"
    PAUSED = "Paused"
    UNPAUSING = "Unpausing"
    UNPAUSED = "Unpaused"
    REMOVING = "Removing"
    REMOVED = "Removed"
    SKIPPED = "Skipped"
    COPYING = "Copying"
    COPIED = "Copied"
    PUSHING = "Pushing"
    PUSHED = "Pushed"
    WARNING = "Warning"
    ERROR = "Error"


DONE = frozenset({Status.PULLED, Status.BUILT, Status.CREATED, Status.RECREATED, Status.STARTED,
                  Status.RUNNING, Status.HEALTHY, Status.EXITED, Status.STOPPED, Status.KILLED,
                  Status.RESTARTED, Status.PAUSED, Status.UNPAUSED, Status.REMOVED, Status.SKIPPED,
                  Status.COPIED, Status.PUSHED})


class Event(NamedTuple):
    """One progress step of one object.

    ``kind`` is Container, Network, Volume or Image, or "" for Compose's pull lines (``name`` a
    service, ``web Pulling``, or with ``parent`` a layer, ``text`` its docker status: ``723168d4a078
    Downloading [=>  ]  1MB/2MB``); ``name`` the object's real name; ``duration`` the seconds
    since the matching "-ing" event (on completion events); ``text`` extra detail (an error
    message, a warning, the reason of a Skipped pull).
    """

    kind: str
    name: str
    status: Status
    duration: float | None = None
    text: str = ""
    parent: str = ""  # a pulled layer's: the service whose pull it is
    details: str = ""  # a pulled layer's progress (docker's bar and sizes)
    up_wait: bool = False  # ``up --wait``'s own Healthy/Exited (not a depends_on wait's): WaitWords orders it

    @property
    def done(self) -> bool:
        """Whether this event ends the object's current step."""
        return self.status in DONE

    @property
    def failed(self) -> bool:
        return self.status is Status.ERROR

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``--progress json``): id as Compose names objects, status, text."""
        record: dict[str, object] = {"id": f"{self.kind} {self.name}".strip(), "status": self.status.value,
                                     "done": self.done}
        if self.text:
            record["text"] = self.text
        if self.parent:
            record["parent_id"] = self.parent
        if self.details:
            record["details"] = self.details
        if self.duration is not None:
            record["duration"] = round(self.duration, 3)
        return record

    def __str__(self) -> str:
        line = f"{self.kind} {self.name}  {self.status.value}"
        if self.text:
            line += f" {self.text}"
        if self.duration is not None and self.done:
            line += f" {self.duration:.1f}s"
        return line


EventSink = Callable[[Event], None]
"""Where events go (called from the executor's thread; must be quick and never raise)."""


def discard(event: Event) -> None:
    """An event sink that ignores everything."""


PULL_STEPS = frozenset({"Downloading", "Extracting"})  # the steps a pull reports again and again
PULL_INTERVAL = 0.1  # seconds: at most ~10 progress updates a second per image


def throttled(report: Callable[[str, Any], None], interval: float = PULL_INTERVAL) -> Callable[[str, Any], None]:
    """A pull progress callback (``status, detail``) that passes every other step, and a repeated
    step (Downloading, Extracting) only ``interval`` seconds after the last one it passed, or when
    its layer is complete (``current == total``): a pull reports each MiB, a display needs far less."""
    last = [-interval]

    def report_some(status: str, detail: Any) -> None:
        if status in PULL_STEPS:
            now = time.monotonic()
            complete = isinstance(detail, dict) and detail.get("total") and detail.get("current") == detail["total"]
            if now - last[0] < interval and not complete:
                return
            last[0] = now
        report(status, detail)

    return report_some


LAYER_DONE = frozenset({"Download complete", "Already exists", "Pull complete"})


def layer_event(parent: str, layer: str, status: str, current: int = 0, total: int = 0) -> Event:
    """A pulled layer's line as Compose prints dockerd's message: the docker status and, while
    downloading or extracting, docker's progress (``JSONProgress.String()``, no terminal: 200 wide)."""
    details = ""
    if status in ("Downloading", "Extracting") and total > 0:
        from composer.units import DECIMAL_UNITS, custom_size

        half = min(50, int(current / total * 100) // 2)
        sizes = f"{custom_size(current, 1000.0, DECIMAL_UNITS, 4):>8}"
        details = f"[{'=' * half}>{' ' * (50 - half)}] " + (sizes + f"/{custom_size(total, 1000.0, DECIMAL_UNITS, 4)}"
                                                            if current <= total else sizes)
    return Event(kind="", name=layer, status=Status.PULLED if status in LAYER_DONE else Status.PULLING,
                 text=status, parent=parent, details=details)


class NetworksFirst:
    """An event sink that shows the networks' and then the volumes' creation before any container
    line, as Compose (which creates them first, in that order) does: a container's creation may
    begin alongside them, its events wait until each of ``pending`` (``(kind, name)``) has ended
    (done or failed); a volume's wait for the networks."""

    def __init__(self, emit: EventSink, pending: set[tuple[str, str]]) -> None:
        self.emit, self.pending = emit, set(pending)
        self.held: list[Event] = []

    def __call__(self, event: Event) -> None:
        if event.kind == "Container" and self.pending or event.kind == "Volume" and self._networks_pending():
            self.held.append(event)
            return
        self.emit(event)
        if (event.kind, event.name) in self.pending and (event.done or event.failed):
            self.pending.discard((event.kind, event.name))
            if not self.pending:
                self.flush()
            elif event.kind == "Network" and not self._networks_pending():
                held, self.held = self.held, []
                for waiting in held:  # the volumes' lines now; the containers' held again
                    self(waiting)

    def _networks_pending(self) -> bool:
        return any(kind == "Network" for kind, _ in self.pending)

    def flush(self) -> None:
        """Pass what is held (also when the run ends early)."""
        held, self.held, self.pending = self.held, [], set()
        for event in held:
            self.emit(event)


CONVERGING = frozenset({Status.CREATING, Status.CREATED, Status.RECREATE, Status.RECREATED, Status.RUNNING,
                        Status.STOPPING, Status.STOPPED, Status.REMOVING, Status.REMOVED, Status.WARNING})
"""A container's lines of ``up``'s convergence (Compose's create phase), before any start."""


class CreatesFirst:
    """An event sink that shows every container's creation before any start, as Compose's ``up``
    (its convergence creates them all, then its start phase starts them): a start may begin as
    soon as its own container is made, its lines (and the waits') wait until each container of
    ``pending`` (names) is created or recreated, or failed."""

    def __init__(self, emit: EventSink, pending: set[str]) -> None:
        self.emit, self.pending = emit, set(pending)
        self.held: list[Event] = []

    def __call__(self, event: Event) -> None:
        if self.pending and event.kind == "Container" and event.status not in CONVERGING \
                and not (event.failed and event.name in self.pending):
            self.held.append(event)
            return
        self.emit(event)
        if event.name in self.pending and (event.status in (Status.CREATED, Status.RECREATED) or event.failed):
            self.pending.discard(event.name)
            if not self.pending:
                self.flush()

    def flush(self) -> None:
        """Pass what is held (also when the run ends early)."""
        held, self.held, self.pending = self.held, [], set()
        for event in held:
            self.emit(event)


class RunningInOrder:
    """``up``'s ``Container x  Running`` lines (containers left as they are) where Compose prints
    them: it walks the services in dependency order and says a service is running once every
    service it depends on is converged (its containers Created or Recreated, or running too), so
    ``web Running`` follows ``db Created`` when db was made anew. The lines go to ``final`` (past
    ``up --wait``'s words); every event passes on to ``emit``; services free from the start are
    shown once the networks and volumes of ``pending`` are done."""

    def __init__(self, emit: EventSink, final: EventSink, running: Mapping[str, list[str]],
                 depends: Mapping[str, Iterable[str]], creating: Mapping[str, set[str]],
                 pending: set[tuple[str, str]]) -> None:
        self.emit, self.final = emit, final
        self.held = {service: list(names) for service, names in running.items() if names}
        self.depends = {service: set(needs) for service, needs in depends.items()}
        self.creating = {service: set(names) for service, names in creating.items() if names}
        self.owner = {name: service for service, names in self.creating.items() for name in names}
        self.pending = set(pending)
        self.converged: set[str] = set()

    def begin(self) -> None:
        if not self.pending:
            self._advance()

    def __call__(self, event: Event) -> None:
        self.emit(event)
        if (event.kind, event.name) in self.pending and (event.done or event.failed):
            self.pending.discard((event.kind, event.name))
            if not self.pending:
                self._advance()
        elif event.name in self.owner and (event.status in (Status.CREATED, Status.RECREATED) or event.failed):
            self.creating[self.owner.pop(event.name)].discard(event.name)
            if not self.pending:
                self._advance()

    def _advance(self) -> None:
        """Show the lines of every service whose dependencies converged, as far as that goes."""
        progress = True
        while progress:
            progress = False
            for service in sorted(set(self.depends) | set(self.held)):
                if service in self.converged or not self.depends.get(service, set()) <= self.converged:
                    continue
                for name in self.held.pop(service, []):
                    self.final(Event(kind="Container", name=name, status=Status.RUNNING))
                if not self.creating.get(service):
                    self.converged.add(service)
                    progress = True

    def flush(self) -> None:
        """The lines still held when the run ends (a dependency failed or was not shown)."""
        held, self.held = self.held, {}
        for names in held.values():
            for name in names:
                self.final(Event(kind="Container", name=name, status=Status.RUNNING))


class WaitWords:
    """``up --wait`` in Compose's words: once the containers it starts have started and the
    depends_on waits of its start phase passed (``awaited``: their containers), each waited
    container is ``Waiting``, then ``Healthy`` (Compose says so of one with no healthcheck too;
    the executor's ``Running``) or, a one-shot others wait to complete, ``Exited``. A depends_on
    wait's own Waiting/Healthy lines pass as they come."""

    def __init__(self, emit: EventSink, targets: list[str], starting: set[str],
                 awaited: Iterable[str] = ()) -> None:
        self.emit, self.targets, self.starting, self.awaited = emit, targets, set(starting), set(awaited)
        self.announced: set[str] = set()
        self.ready: list[Event] = []  # a container ready before every other one started: shown after

    def begin(self) -> None:
        if not self.starting and not self.awaited:
            self._announce(self.targets)

    def __call__(self, event: Event) -> None:
        if event.up_wait:
            if self.starting or self.awaited:  # as Compose, which waits once everything started
                self.ready.append(event)
                return
            self._announce([event.name])
            if event.status is Status.RUNNING:
                event = event._replace(status=Status.HEALTHY)
        elif event.failed:  # a wait that failed: its Waiting line first
            self._announce(self.targets)
        self.emit(event)
        before = bool(self.starting or self.awaited)
        if (event.status is Status.STARTED or event.failed) and event.name in self.starting:
            self.starting.discard(event.name)  # started, or never will
        elif event.status in (Status.HEALTHY, Status.EXITED) and not event.up_wait:
            self.awaited.discard(event.name)
        if before and not self.starting and not self.awaited:
            self._announce(self.targets)
            held, self.ready = self.ready, []
            for ready in held:
                self(ready)

    def _announce(self, names: list[str]) -> None:
        for name in names:
            if name not in self.announced:
                self.announced.add(name)
                self.emit(Event(kind="Container", name=name, status=Status.WAITING))
