"""The executor: worker threads walk the plan DAG against a Runtime.

Every operation starts, in a thread of its own, as soon as the operations it needs are done;
runtime calls run at most ``parallel`` at a time. A failed operation skips the operations that
need it (operations that only *want* it go on, with a warning) while the rest settles; the
result then raises one PlanError naming what failed. The runtime's calls block, so plain threads
are all the concurrency there is: the scheduler is the calling thread, woken by a queue of
finished operations (a Ctrl-C there stops new operations, lets running ones finish and raises).
No event loop is imported: starting one would cost more than most plans take.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from functools import partial
from typing import Any, Callable

from composer.engine import labels as L
from composer.engine.events import Event, EventSink, Status, discard
from composer.engine.plan import ExecutionResult, Operation, Outcome, Plan
from composer.engine.runtime.base import ContainerSpec, HealthStatus, Runtime
from composer.errors import BuildError, ComposerError, ContainerNotFound, ImageNotFound, PlanError

Builder = Callable[[str, str], str]
"""Builds the image of a service: ``builder(service, reference) -> image id``."""


class _TimedOut(Exception):
    """A dependency wait outlived ``--wait-timeout``."""


class _Cancelled(Exception):
    """The run was interrupted (Ctrl-C, or an unexpected error elsewhere) before this finished."""


class _Context:
    """What the handlers share: the runtime, the event sink, the ``--parallel`` bound, the ids of
    the containers made in this run, and the cancellation and deadline of waits."""

    def __init__(self, runtime: Runtime, emit: EventSink, parallel: int, builder: Builder | None,
                 wait_timeout: float | None) -> None:
        self.runtime = runtime
        self.builder = builder
        self.deadline = math.inf if wait_timeout is None else time.monotonic() + wait_timeout
        self.limiter = threading.Semaphore(parallel if parallel > 0 else 64)
        self.wake = threading.Condition()  # notified when a watcher ends or the run is cancelled
        self.cancelled = False
        self.closed = False  # the run is over: events from abandoned watchers are dropped
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.removed: set[str] = set()
        self._emit = emit
        self._emit_lock = threading.Lock()

    def emit(self, event: Event) -> None:
        """Pass one event to the sink, one at a time; nothing once the run is over."""
        with self._emit_lock:
            if not self.closed:
                self._emit(event)

    def cancel(self) -> None:
        with self.wake:
            self.cancelled = True
            self.wake.notify_all()

    def close(self) -> None:
        """The run is over: watchers left behind stop at their next look and emit nothing more
        (not even an event already on its way to the sink once this returns)."""
        self.cancel()
        with self._emit_lock:
            self.closed = True

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking runtime call (at most ``--parallel`` at a time); none once the run is
        cancelled, also when the cancel came while this call waited for its turn."""
        with self.limiter:
            if self.cancelled:
                raise _Cancelled()
            try:
                return fn(*args, **kwargs)
            except OSError as error:
                raise PlanError(f"{getattr(fn, '__name__', 'runtime')}: {error}") from None

    def step(self, kind: str, name: str, doing: Status, done: Status,
             fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Emit ``doing``, run ``fn``, emit ``done`` with its duration (errors: see ``_Walker``)."""
        self.emit(Event(kind=kind, name=name, status=doing))
        started = time.monotonic()
        value = self.call(fn, *args, **kwargs)
        self.emit(Event(kind=kind, name=name, status=done, duration=time.monotonic() - started))
        return value

    def patience(self, longest: float) -> float:
        """How long a watcher may block now (at most ``longest``); raises once the wait is over."""
        if self.cancelled:
            raise _Cancelled()
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _TimedOut()
        return min(longest, remaining)

    def gather(self, watchers: list[Callable[[], None]]) -> None:
        """Run ``watchers`` in threads until all return; the first error (a timeout at the
        deadline) is raised at once, the other watchers are abandoned (they may block forever)."""
        errors: list[BaseException] = []
        finished: list[bool] = []

        def watch(watcher: Callable[[], None]) -> None:
            try:
                watcher()
            except BaseException as error:  # noqa: BLE001 - handed to the waiting operation
                with self.wake:
                    errors.append(error)
            with self.wake:
                finished.append(True)
                self.wake.notify_all()

        for watcher in watchers:
            threading.Thread(target=watch, args=(watcher,), daemon=True).start()
        with self.wake:
            while not errors and len(finished) < len(watchers):
                remaining = self.patience(math.inf)
                self.wake.wait(None if remaining == math.inf else remaining)
        if errors:
            raise errors[0]


def _hooks(ctx: _Context, op: Operation, key: str, cid: str, name: str) -> None:
    """Run the operation's ``post_start``/``pre_stop`` hooks in order; a failing one fails it."""
    for hook in op.params.get(key, ()):
        code, output = ctx.call(ctx.runtime.exec_container, cid, hook)
        if code != 0:
            raise PlanError(f"{key} hook {' '.join(hook.command)!r} of {name} exited with {code}",
                            hint=output.strip()[-200:] or f"fix the {key} command")


# --- handlers: one per (kind, resource type) -----------------------------------------------------
def _create_network(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    ctx.step("Network", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_network, spec)


def _create_volume(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    ctx.step("Volume", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_volume, spec)


def _remove_network(ctx: _Context, op: Operation) -> None:
    name = op.params["name"]
    ctx.step("Network", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_network, name)


def _remove_volume(ctx: _Context, op: Operation) -> None:
    name = op.params["name"]
    ctx.step("Volume", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_volume, name)


def _pull(ctx: _Context, op: Operation) -> None:
    ref = op.params["reference"]

    def progress(status: str, detail: Any) -> None:
        ctx.emit(Event(kind="Image", name=ref, status=Status.PULLING, text=status))

    ctx.step("Image", ref, Status.PULLING, Status.PULLED, ctx.runtime.pull_image, ref, progress)


def _build(ctx: _Context, op: Operation) -> None:
    ref, service = op.params["reference"], op.params["service"]
    if ctx.builder is None:
        raise BuildError(f"service {service!r} needs its image {ref!r} built, and building is not available",
                         hint="build the image first or set image: to a pullable reference")
    ctx.step("Image", ref, Status.BUILDING, Status.BUILT, ctx.builder, service, ref)


def _remove_image(ctx: _Context, op: Operation) -> None:
    ref = op.params["reference"]
    try:
        ctx.step("Image", ref, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_image, ref)
    except ImageNotFound:
        ctx.emit(Event(kind="Image", name=ref, status=Status.WARNING, text="not found"))


def _with_image_id(ctx: _Context, spec: ContainerSpec) -> ContainerSpec:
    """The spec with its ``com.docker.compose.image`` label (the image may have been pulled or
    built earlier in this run)."""
    if spec.labels.get(L.IMAGE):
        return spec
    return spec._replace(labels={**spec.labels, L.IMAGE: ctx.call(ctx.runtime.image_id, spec.image) or ""})


def _create(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    spec = _with_image_id(ctx, spec)
    cid = ctx.step("Container", spec.name, Status.CREATING, Status.CREATED,
                   ctx.runtime.create_container, spec)
    ctx.ids[op.resource], ctx.names[cid] = cid, spec.name
    if op.params.get("start", True):
        ctx.step("Container", spec.name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        _hooks(ctx, op, "post_start", cid, spec.name)


def _recreate(ctx: _Context, op: Operation) -> None:
    """As Compose: create the new container under a temporary name while the old one still
    runs, then stop and remove the old one and give the new one its name; start it."""
    old, name, spec = op.params["id"], op.params["name"], op.params["spec"]
    ctx.emit(Event(kind="Container", name=name, status=Status.RECREATE))
    started = time.monotonic()
    spec = _with_image_id(ctx, spec)
    if op.params.get("inherit_volumes", True):
        spec = _inherit_anonymous_volumes(spec, ctx.call(ctx.runtime.inspect_container, old))
    final = spec.name
    temporary = f"{old[:12]}_{final}" if name == final else final  # the old one may hold the name
    spec = spec._replace(name=temporary, labels={**spec.labels, L.REPLACE: old})
    cid = ctx.call(ctx.runtime.create_container, spec)
    ctx.call(ctx.runtime.stop_container, old, op.params.get("timeout"))
    ctx.call(ctx.runtime.remove_container, old, force=True)
    ctx.removed.add(old)
    if temporary != final:
        ctx.call(ctx.runtime.rename_container, cid, final)
    ctx.ids[op.resource], ctx.names[cid] = cid, final
    ctx.emit(Event(kind="Container", name=name, status=Status.RECREATED, duration=time.monotonic() - started))
    if op.params.get("start", True):
        ctx.step("Container", name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        _hooks(ctx, op, "post_start", cid, final)


def _inherit_anonymous_volumes(spec: ContainerSpec, inspected: dict[str, Any]) -> ContainerSpec:
    """As Compose: a recreated container keeps its predecessor's anonymous volumes (``-V`` not)."""
    previous = {m.get("Destination"): m.get("Name") for m in inspected.get("Mounts") or ()
                if m.get("Type") == "volume" and m.get("Name")}
    mounts = tuple(m._replace(source=previous[m.target], options={**m.options, "anonymous": True})
                   if m.type == "volume" and not m.source and previous.get(m.target) else m for m in spec.mounts)
    return spec._replace(mounts=mounts)


def _pre_start(ctx: _Context, op: Operation) -> None:
    """A service's ``pre_start`` hooks, each in its own container (``composer.engine.prestart``)."""
    from composer.engine.prestart import run_pre_start

    replica = op.params.get("id") or ctx.ids[op.params["replica"]]
    run_pre_start(ctx.runtime, ctx.call, op.params["spec"], op.params["hooks"], replica)


def _start(ctx: _Context, op: Operation) -> None:
    """Start an existing container, or the one created (or recreated) earlier in this run."""
    cid = op.params.get("id") or ctx.ids[op.resource]
    name = op.params.get("name") or ctx.names[cid]
    ctx.step("Container", name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
    _hooks(ctx, op, "post_start", cid, name)


def _stop(ctx: _Context, op: Operation) -> None:
    name, timeout = op.params["name"], op.params.get("timeout")
    _hooks(ctx, op, "pre_stop", op.params["id"], name)
    started = time.monotonic()
    ctx.step("Container", name, Status.STOPPING, Status.STOPPED, ctx.runtime.stop_container,
             op.params["id"], timeout)
    grace = op.params.get("grace", 10.0) if timeout is None else timeout
    if grace > 0 and time.monotonic() - started >= grace:
        ctx.emit(Event(kind="Container", name=name, status=Status.WARNING,
                       text=f"ignored its stop signal for {grace:g}s and was killed; set stop_signal "
                            "to a signal it handles, or init: true"))


def _restart(ctx: _Context, op: Operation) -> None:
    name, cid = op.params["name"], op.params["id"]
    ctx.emit(Event(kind="Container", name=name, status=Status.RESTARTING))
    started = time.monotonic()
    _hooks(ctx, op, "pre_stop", cid, name)
    ctx.call(ctx.runtime.stop_container, cid, op.params.get("timeout"))
    ctx.call(ctx.runtime.start_container, cid)
    _hooks(ctx, op, "post_start", cid, name)
    ctx.emit(Event(kind="Container", name=name, status=Status.RESTARTED, duration=time.monotonic() - started))


def _kill(ctx: _Context, op: Operation) -> None:
    ctx.step("Container", op.params["name"], Status.KILLING, Status.KILLED, ctx.runtime.kill_container,
             op.params["id"], op.params.get("signal", "SIGKILL"))


def _pause(ctx: _Context, op: Operation) -> None:
    ctx.step("Container", op.params["name"], Status.PAUSING, Status.PAUSED,
             ctx.runtime.pause_container, op.params["id"])


def _unpause(ctx: _Context, op: Operation) -> None:
    ctx.step("Container", op.params["name"], Status.UNPAUSING, Status.UNPAUSED,
             ctx.runtime.unpause_container, op.params["id"])


def _remove(ctx: _Context, op: Operation) -> None:
    try:
        ctx.step("Container", op.params["name"], Status.REMOVING, Status.REMOVED,
                 ctx.runtime.remove_container, op.params["id"], force=op.params.get("force", False),
                 volumes=op.params.get("volumes", False))
    except ContainerNotFound:
        pass
    ctx.removed.add(op.params["id"])


def _wait(ctx: _Context, op: Operation) -> None:
    """A ``depends_on`` condition: every replica healthy, or exited 0 (one watcher thread each)."""
    service, condition = op.params["service"], op.params["condition"]
    targets = dict(op.params.get("containers") or {})
    targets.update({cid: ctx.names.get(cid, cid) for r, cid in list(ctx.ids.items())
                    if r.startswith(f"service:{service}:")})
    waiter = {"service_healthy": _wait_healthy, "ready": partial(_wait_ready, may_exit=op.params.get("may_exit", False))
              }.get(condition, _wait_completed)
    ctx.gather([partial(waiter, ctx, cid, name, service) for cid, name in targets.items() if cid not in ctx.removed])


def _wait_healthy(ctx: _Context, cid: str, name: str, service: str) -> None:
    ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = ctx.runtime.wait_health(cid, last, ctx.patience(60.0))
        if status.health == "healthy":
            ctx.emit(Event(kind="Container", name=name, status=Status.HEALTHY, duration=time.monotonic() - started))
            return
        if status.state in ("exited", "dead"):
            raise PlanError(f"dependency failed to start: container {name} exited ({status.exit_code})",
                            hint=f"see composer logs {service}")
        if status.health == "unhealthy":
            output = status.output.strip()
            raise PlanError(f"dependency failed to start: container {name} is unhealthy",
                            hint=f"last healthcheck output: {output}" if output else f"see composer logs {service}")
        if status.health == "none" and status.state == "running":
            raise PlanError(f"dependency failed to start: container {name} has no healthcheck configured",
                            hint=f"add a healthcheck to {service} or use condition: service_started")
        last = status


def _wait_ready(ctx: _Context, cid: str, name: str, service: str, *, may_exit: bool) -> None:
    """``up --wait``: running (and healthy when it has a healthcheck), never hanging on an exit."""
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = ctx.runtime.wait_health(cid, last, ctx.patience(60.0))
        if status.state == "running" and status.health in ("none", "healthy"):
            ready = Status.HEALTHY if status.health == "healthy" else Status.RUNNING
            ctx.emit(Event(kind="Container", name=name, status=ready, duration=time.monotonic() - started))
            return
        if status.state in ("exited", "dead"):
            if may_exit and status.exit_code == 0:
                ctx.emit(Event(kind="Container", name=name, status=Status.EXITED))
                return
            raise PlanError(f"container {name} exited ({status.exit_code})", hint=f"see composer logs {service}")
        if status.health == "unhealthy":
            output = status.output.strip()
            raise PlanError(f"container {name} is unhealthy",
                            hint=f"last healthcheck output: {output}" if output else f"see composer logs {service}")
        last = status


def _wait_completed(ctx: _Context, cid: str, name: str, service: str) -> None:
    ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started = time.monotonic()
    code = ctx.runtime.wait_container(cid)
    if code != 0:
        raise PlanError(f"service {service!r} didn't complete successfully: exit {code}",
                        hint=f"see composer logs {service}")
    ctx.emit(Event(kind="Container", name=name, status=Status.EXITED, duration=time.monotonic() - started))


Handler = Callable[[_Context, Operation], None]
HANDLERS: dict[tuple[str, str], Handler] = {
    ("create", "network"): _create_network, ("create", "volume"): _create_volume,
    ("remove", "network"): _remove_network, ("remove", "volume"): _remove_volume,
    ("pull", "image"): _pull, ("build", "image"): _build, ("remove-image", "image"): _remove_image,
    ("create", "service"): _create, ("recreate", "service"): _recreate,
    ("wait", "service"): _wait, ("pre-start", "service"): _pre_start,
    **{(kind, target): handler for target in ("service", "container") for kind, handler in (
        ("start", _start), ("stop", _stop), ("restart", _restart), ("kill", _kill), ("pause", _pause),
        ("unpause", _unpause), ("remove", _remove))},
}


# --- walking the DAG -------------------------------------------------------------------------------
class _Walker:
    """Starts each operation once everything it needs and wants has settled; records outcomes."""

    def __init__(self, plan: Plan, ctx: _Context) -> None:
        self.ctx = ctx
        self.ops = {op.id: op for op in plan}
        self.pending = {op.id: len(op.needs) + len(op.wants) for op in plan}
        self.dependents = plan.dependents()
        needed = {n for op in plan for n in op.needs}
        self.optional = frozenset({w for op in plan for w in op.wants} - needed)
        self.result = ExecutionResult()
        self.finished: queue.SimpleQueue[tuple[str, Outcome, BaseException | None]] = queue.SimpleQueue()
        self.running = 0
        self.unexpected: BaseException | None = None

    def run(self) -> ExecutionResult:
        """Walk the whole plan; an unexpected exception (a bug, Ctrl-C) is raised once all
        running operations ended."""
        try:
            self._release([op_id for op_id, count in self.pending.items() if count == 0])
            self._drain()
        except KeyboardInterrupt as interrupt:
            self.unexpected = self.unexpected or interrupt
            self.ctx.cancel()
            self._drain()  # the runtime calls under way finish; a second Ctrl-C ends this too
        finally:
            self.ctx.close()
        if self.unexpected is not None:
            raise self.unexpected
        self.result.ids = dict(self.ctx.ids)
        return self.result

    def _drain(self) -> None:
        while self.running:
            op_id, outcome, unexpected = self.finished.get()
            self.running -= 1
            self.result.outcomes[op_id] = outcome
            if unexpected is not None and self.unexpected is None:
                self.unexpected = unexpected
                self.ctx.cancel()
            self._settled(op_id)

    def _settled(self, op_id: str) -> None:
        self._release([d for d in self.dependents[op_id] if self._one_less(d)])

    def _release(self, ready: list[str]) -> None:
        """Start the operations in ``ready``, or skip them (and so on down) when they cannot run."""
        while ready:
            op = self.ops[ready.pop()]
            blocked = [n for n in op.needs if self.result.outcomes[n].status != "done"]
            if blocked or self.ctx.cancelled:
                reason = f"not done: {blocked[0]} failed" if blocked else "interrupted"
                self.result.outcomes[op.id] = Outcome("skipped", PlanError(reason))
                ready.extend(d for d in self.dependents[op.id] if self._one_less(d))
                continue
            for want in op.wants:
                if self.result.outcomes[want].status != "done":
                    self.ctx.emit(Event(kind="Service", name=op.resource.split(":")[1], status=Status.WARNING,
                                        text=f'optional dependency "{want.split(":")[1]}" failed to start '
                                             "(required: false)"))
            self.running += 1
            threading.Thread(target=self._work, args=(op,), name=op.id, daemon=True).start()

    def _one_less(self, op_id: str) -> bool:
        self.pending[op_id] -= 1
        return self.pending[op_id] == 0

    def _work(self, op: Operation) -> None:
        """Run one operation in its thread and report how it ended to the scheduler."""
        unexpected: BaseException | None = None
        try:
            handler = HANDLERS.get((op.kind, op.resource.split(":", 1)[0]))
            if handler is None:
                raise PlanError(f"internal: no handler for {op.id!r}")
            handler(self.ctx, op)
            outcome = Outcome("done")
        except _TimedOut:
            outcome = Outcome("failed", PlanError(f"timed out: {op.id}", hint="raise --wait-timeout"))
        except _Cancelled:
            outcome = Outcome("skipped", PlanError("interrupted"))
        except ComposerError as error:
            outcome = Outcome("failed", error, optional=op.id in self.optional)
            self.ctx.emit(Event(kind=_kind(op), name=_name(self.ctx, op), status=Status.ERROR, text=error.message))
        except BaseException as error:  # noqa: BLE001 - a bug or Ctrl-C: raised by ``run``
            outcome, unexpected = Outcome("failed", PlanError(f"{op.id}: {error!r}")), error
        self.finished.put((op.id, outcome, unexpected))


def _kind(op: Operation) -> str:
    """How Compose names the object of an operation (Container, Network, Volume, Image, Service)."""
    kind = op.resource.split(":", 1)[0]
    if op.kind == "wait":
        return "Service"
    return {"service": "Container", "container": "Container"}.get(kind, kind.capitalize())


def _name(ctx: _Context, op: Operation) -> str:
    params = op.params
    if "spec" in params:
        return params["spec"].name
    if op.resource in ctx.ids:
        return ctx.names[ctx.ids[op.resource]]
    return params.get("name") or params.get("reference") or params.get("service") or op.resource


def execute(plan: Plan, runtime: Runtime, *, emit: EventSink = discard, parallel: int = 0,
            builder: Builder | None = None, wait_timeout: float | None = None) -> ExecutionResult:
    """Run every operation of ``plan`` as soon as its dependencies allow; never raises for an
    operation's failure (see :meth:`ExecutionResult.raise_for_failures`), but raises a bug's
    exception or KeyboardInterrupt as itself. ``plan.warnings`` are the caller's to show."""
    if not plan:
        return ExecutionResult()
    return _Walker(plan, _Context(runtime, emit, parallel, builder, wait_timeout)).run()



def first_exit(runtime: Runtime, containers: dict[str, str]) -> tuple[str, int]:
    """Block until the first of ``containers`` (``{id: name}``) stops; its name and exit code
    (``up --abort-on-container-exit`` / ``--exit-code-from``)."""
    if not containers:
        raise PlanError("no container to wait for", hint="start the project first (composer up -d)")
    found: queue.SimpleQueue[tuple[str, int] | BaseException] = queue.SimpleQueue()

    def watch(cid: str, name: str) -> None:
        try:
            found.put((name, runtime.wait_container(cid)))
        except BaseException as error:  # noqa: BLE001 - raised by the caller's thread
            found.put(error)

    for cid, name in containers.items():
        threading.Thread(target=watch, args=(cid, name), daemon=True).start()
    first = found.get()
    if isinstance(first, BaseException):
        raise first
    return first
