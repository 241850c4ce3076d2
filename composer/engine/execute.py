"""The executor: a trio nursery walks the plan DAG against a Runtime.

Every operation starts as soon as the operations it needs have settled; blocking runtime calls
run in worker threads, at most ``parallel`` at a time (a ``trio.CapacityLimiter``). A failed
operation skips the operations that need it (operations that only *want* it go on, with a
warning) while the rest settles; the result then raises one PlanError naming what failed.
Waits (health, exit) are the runtime's own event-driven calls in threads that cancellation
abandons, in slices of :data:`WAIT_SLICE` so that no abandoned thread outlives the run by more
than one slice; one deadline (``--wait-timeout``) covers every wait of a run. Events are emitted
from the loop's thread, in order.

Ctrl-C (SIGINT, or SIGTERM where the caller made it raise KeyboardInterrupt): the first starts
nothing new and lets the runtime calls under way finish, the second abandons them; either way
``execute`` then raises KeyboardInterrupt. trio is imported only when a plan has work.

Head start (``composer.engine.headstart``): the operations that can run at once and are one
runtime call (stop, create a network or a container, remove ...) begin in plain threads before
trio is imported, so that their work (a container's exit, a bridge, an overlay) overlaps the
import; the loop then waits for them in their turn, as for any call under way.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterator

from composer.engine import labels as L
from composer.engine.events import Event, EventSink, Status, discard, throttled
from composer.engine.headstart import HeadStart, create_container, held, with_image_id
from composer.engine.plan import ExecutionResult, Operation, Outcome, Plan
from composer.engine.runtime.base import ContainerSpec, HealthStatus, Runtime
from composer.errors import BuildError, ComposerError, ContainerNotFound, ImageNotFound, PlanError
from composer.trio_import import import_trio

if TYPE_CHECKING:
    import trio

Builder = Callable[[str, str], str]
"""Builds the image of a service: ``builder(service, reference) -> image id``."""

WAIT_SLICE = 2.0
"""The longest one waiting thread blocks (seconds): an abandoned wait ends within it."""


class _Interrupted(Exception):
    """Ctrl-C (or an unexpected error elsewhere) came before this operation could go on."""


class _Context:
    """What the handlers share: the runtime, the event sink, the ``--parallel`` bound, the ids of
    the containers made in this run, the deadline of waits and the interruption. Made inside
    the trio run."""

    def __init__(self, runtime: Runtime, emit: EventSink, parallel: int, builder: Builder | None,
                 wait_timeout: float | None, head: HeadStart | None = None) -> None:
        import trio

        self.early = head.calls if head else {}
        self.halt = head.halt if head else threading.Event()
        self.runtime = runtime
        self.emit = emit
        self.builder = builder
        self.limiter = trio.CapacityLimiter(parallel if parallel > 0 else 64)
        self.threads = trio.CapacityLimiter(math.inf)  # waits and calls past the limiter: no other bound
        self.deadline = math.inf if wait_timeout is None else trio.current_time() + wait_timeout
        self.interrupted = False
        self.waits: set[trio.CancelScope] = set()
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.removed: set[str] = set()

    def interrupt(self) -> None:
        """Start nothing new: later calls raise _Interrupted, waits under way end with it."""
        self.interrupted = True
        self.halt.set()
        for scope in self.waits:
            scope.cancel()

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking runtime call in a worker thread (at most ``--parallel`` at a time); none once
        the run is interrupted, also when the interruption came while it waited for its turn."""
        async with self.limiter:
            if self.interrupted:
                raise _Interrupted()
            return await self._in_thread(fn, *args, **kwargs)

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn`` in a worker thread that cancellation abandons; an OSError fails the operation
        (a PlanError naming the call), as any other runtime error does, not the run."""
        import trio

        try:
            return await trio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.threads,
                                                 abandon_on_cancel=True)
        except OSError as error:
            raise PlanError(f"{getattr(fn, '__name__', 'runtime')}: {error}") from None

    async def _once(self, ready: threading.Event, fn: Callable[[], Any]) -> Any:
        """``fn()`` of an early call, at once when ``ready`` (it would not block: no worker
        thread), else in a thread once it is."""
        return fn() if ready.is_set() else await self._in_thread(fn)

    async def block(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A wait in a thread that cancellation abandons (not bounded by ``--parallel``):
        TooSlowError at the deadline, _Interrupted on Ctrl-C."""
        import trio

        if self.interrupted:
            raise _Interrupted()
        with trio.CancelScope() as scope:
            self.waits.add(scope)
            try:
                with trio.fail_at(self.deadline):
                    return await self._in_thread(fn, *args)
            finally:
                self.waits.discard(scope)
        raise _Interrupted()  # only the interruption cancels this scope

    async def wait_exit(self, container_id: str) -> int:
        """Block until the container is not running; its exit code."""
        while True:
            code = await self.block(self.runtime.wait_container, container_id, WAIT_SLICE)
            if code is not None:
                return code

    def from_thread(self, afn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        """``afn`` as a blocking function for a worker thread of this run (it runs on the loop)."""
        import trio

        return lambda *args, **kwargs: trio.from_thread.run(partial(afn, *args, **kwargs))

    async def step(self, kind: str, name: str, doing: Status, done: Status,
                   fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Emit ``doing``, run ``fn``, emit ``done`` with its duration (errors: see ``_Walker``).
        A step begun early is waited for instead, even once interrupted."""
        early = self.early.pop((kind, name, doing), None)
        if early is not None and await self._once(early.decided, early.began):
            self.emit(Event(kind=kind, name=name, status=doing))
            value = await self._once(early.done, early.result)
            self.emit(Event(kind=kind, name=name, status=done, duration=time.monotonic() - early.started))
            return value
        if self.interrupted:
            raise _Interrupted()
        self.emit(Event(kind=kind, name=name, status=doing))
        started = time.monotonic()
        value = await self.call(fn, *args, **kwargs)
        self.emit(Event(kind=kind, name=name, status=done, duration=time.monotonic() - started))
        return value


async def _hooks(ctx: _Context, op: Operation, key: str, cid: str, name: str) -> None:
    """Run the operation's ``post_start``/``pre_stop`` hooks in order; a failing one fails it."""
    for hook in op.params.get(key, ()):
        code, output = await ctx.call(ctx.runtime.exec_container, cid, hook)
        if code != 0:
            raise PlanError(f"{key} hook {' '.join(hook.command)!r} of {name} exited with {code}",
                            hint=output.strip()[-200:] or f"fix the {key} command")


# --- handlers: one per (kind, resource type) -----------------------------------------------------
async def _create_network(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    await ctx.step("Network", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_network, spec)


async def _create_volume(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    await ctx.step("Volume", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_volume, spec)


async def _remove_network(ctx: _Context, op: Operation) -> None:
    name = op.params["name"]
    await ctx.step("Network", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_network, name)


async def _remove_volume(ctx: _Context, op: Operation) -> None:
    name = op.params["name"]
    await ctx.step("Volume", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_volume, name)


async def _pull(ctx: _Context, op: Operation) -> None:
    import trio

    ref = op.params["reference"]

    def progress(status: str, detail: Any) -> None:  # called in the pull's thread
        trio.from_thread.run_sync(ctx.emit, Event(kind="Image", name=ref, status=Status.PULLING, text=status))

    await ctx.step("Image", ref, Status.PULLING, Status.PULLED, ctx.runtime.pull_image, ref, throttled(progress))


async def _build(ctx: _Context, op: Operation) -> None:
    ref, service = op.params["reference"], op.params["service"]
    if ctx.builder is None:
        raise BuildError(f"service {service!r} needs its image {ref!r} built, and building is not available",
                         hint="build the image first or set image: to a pullable reference")
    await ctx.step("Image", ref, Status.BUILDING, Status.BUILT, ctx.builder, service, ref)


async def _remove_image(ctx: _Context, op: Operation) -> None:
    ref = op.params["reference"]
    try:
        await ctx.step("Image", ref, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_image, ref)
    except ImageNotFound:
        ctx.emit(Event(kind="Image", name=ref, status=Status.WARNING, text="not found"))


async def _create(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    cid = await ctx.step("Container", spec.name, Status.CREATING, Status.CREATED, create_container, ctx.runtime, spec)
    ctx.ids[op.resource], ctx.names[cid] = cid, spec.name
    _create_warnings(ctx, cid, spec.name)
    if op.params.get("start", True):
        await ctx.step("Container", spec.name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        await _hooks(ctx, op, "post_start", cid, spec.name)


async def _recreate(ctx: _Context, op: Operation) -> None:
    """As Compose: create the new container under a temporary name while the old one still
    runs, then stop and remove the old one and give the new one its name; start it."""
    old, name, spec = op.params["id"], op.params["name"], op.params["spec"]
    ctx.emit(Event(kind="Container", name=name, status=Status.RECREATE))
    started = time.monotonic()
    spec = await ctx.call(with_image_id, ctx.runtime, spec)
    if op.params.get("inherit_volumes", True):
        spec = _inherit_anonymous_volumes(spec, await ctx.call(ctx.runtime.inspect_container, old))
    final = spec.name
    temporary = f"{old[:12]}_{final}" if name == final else final  # the old one may hold the name
    spec = spec._replace(name=temporary, labels={**spec.labels, L.REPLACE: old})
    cid = await ctx.call(ctx.runtime.create_container, spec)
    _create_warnings(ctx, cid, name)
    await ctx.call(ctx.runtime.stop_container, old, op.params.get("timeout"))
    await ctx.call(ctx.runtime.remove_container, old, force=True)
    ctx.removed.add(old)
    if temporary != final:
        await ctx.call(ctx.runtime.rename_container, cid, final)
    ctx.ids[op.resource], ctx.names[cid] = cid, final
    ctx.emit(Event(kind="Container", name=name, status=Status.RECREATED, duration=time.monotonic() - started))
    if op.params.get("start", True):
        await ctx.step("Container", name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        await _hooks(ctx, op, "post_start", cid, final)


def _create_warnings(ctx: _Context, cid: str, name: str) -> None:
    """As Compose: each warning of a container's create is a Warning line of its service."""
    for warning in ctx.runtime.create_warnings(cid):
        ctx.emit(Event(kind="Container", name=name, status=Status.WARNING, text=warning))


def _inherit_anonymous_volumes(spec: ContainerSpec, inspected: dict[str, Any]) -> ContainerSpec:
    """As Compose: a recreated container keeps its predecessor's anonymous volumes (``-V`` not)."""
    previous = {m.get("Destination"): m.get("Name") for m in inspected.get("Mounts") or ()
                if m.get("Type") == "volume" and m.get("Name")}
    mounts = tuple(m._replace(source=previous[m.target], options={**m.options, "anonymous": True})
                   if m.type == "volume" and not m.source and previous.get(m.target) else m for m in spec.mounts)
    return spec._replace(mounts=mounts)


async def _pre_start(ctx: _Context, op: Operation) -> None:
    """A service's ``pre_start`` hooks, each in its own container (``composer.engine.prestart``),
    run from a worker thread whose runtime calls and waits come back to this run's loop."""
    import trio

    from composer.engine.prestart import run_pre_start

    replica = op.params.get("id") or ctx.ids[op.params["replica"]]
    run = partial(run_pre_start, ctx.runtime, ctx.from_thread(ctx.call), op.params["spec"], op.params["hooks"],
                  replica, wait=ctx.from_thread(ctx.wait_exit))
    await trio.to_thread.run_sync(run, limiter=ctx.threads)


async def _start(ctx: _Context, op: Operation) -> None:
    """Start an existing container, or the one created (or recreated) earlier in this run."""
    cid = op.params.get("id") or ctx.ids[op.resource]
    name = op.params.get("name") or ctx.names[cid]
    await ctx.step("Container", name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
    await _hooks(ctx, op, "post_start", cid, name)


async def _stop(ctx: _Context, op: Operation) -> None:
    name, timeout = op.params["name"], op.params.get("timeout")
    if op.params.get("exited"):  # not running: Compose's two lines, no runtime call (a no-op stop)
        ctx.emit(Event(kind="Container", name=name, status=Status.STOPPING))
        ctx.emit(Event(kind="Container", name=name, status=Status.STOPPED, duration=0.0))
        return
    await _hooks(ctx, op, "pre_stop", op.params["id"], name)
    early = ctx.early.get(("Container", name, Status.STOPPING))
    started = time.monotonic()
    await ctx.step("Container", name, Status.STOPPING, Status.STOPPED, ctx.runtime.stop_container,
                   op.params["id"], timeout)
    if early is not None and early.ran:  # begun before the loop: its grace counts from then
        started = early.started
    grace = op.params.get("grace", 10.0) if timeout is None else timeout
    if grace > 0 and time.monotonic() - started >= grace:
        ctx.emit(Event(kind="Container", name=name, status=Status.WARNING,
                       text=f"ignored its stop signal for {grace:g}s and was killed; set stop_signal "
                            "to a signal it handles, or init: true"))


async def _restart(ctx: _Context, op: Operation) -> None:
    name, cid = op.params["name"], op.params["id"]
    ctx.emit(Event(kind="Container", name=name, status=Status.RESTARTING))
    started = time.monotonic()
    await _hooks(ctx, op, "pre_stop", cid, name)
    await ctx.call(ctx.runtime.stop_container, cid, op.params.get("timeout"))
    await ctx.call(ctx.runtime.start_container, cid)
    from composer.engine.journal import mark_restart

    await ctx.call(mark_restart, cid)  # once started: ``events`` reports the restart
    await _hooks(ctx, op, "post_start", cid, name)
    ctx.emit(Event(kind="Container", name=name, status=Status.RESTARTED, duration=time.monotonic() - started))


async def _kill(ctx: _Context, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.KILLING, Status.KILLED, ctx.runtime.kill_container,
                   op.params["id"], op.params.get("signal", "SIGKILL"))


async def _pause(ctx: _Context, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.PAUSING, Status.PAUSED,
                   ctx.runtime.pause_container, op.params["id"])


async def _unpause(ctx: _Context, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.UNPAUSING, Status.UNPAUSED,
                   ctx.runtime.unpause_container, op.params["id"])


async def _remove(ctx: _Context, op: Operation) -> None:
    try:
        await ctx.step("Container", op.params["name"], Status.REMOVING, Status.REMOVED,
                       ctx.runtime.remove_container, op.params["id"], force=op.params.get("force", False),
                       volumes=op.params.get("volumes", False))
    except ContainerNotFound:
        pass
    ctx.removed.add(op.params["id"])


async def _wait(ctx: _Context, op: Operation) -> None:
    """A ``depends_on`` condition: every replica healthy, or exited 0 (one waiting task each; the
    first failure ends the others)."""
    import trio

    service, condition = op.params["service"], op.params["condition"]
    targets = dict(op.params.get("containers") or {})
    targets.update({cid: ctx.names.get(cid, cid) for r, cid in ctx.ids.items()
                    if r.startswith(f"service:{service}:")})
    waiter = {"service_healthy": _wait_healthy, "ready": partial(_wait_ready, may_exit=op.params.get("may_exit", False))
              }.get(condition, _wait_completed)
    try:
        async with trio.open_nursery() as nursery:
            for cid, name in targets.items():
                if cid not in ctx.removed:
                    nursery.start_soon(waiter, ctx, cid, name, service)
    except BaseExceptionGroup as group:
        raise _first(group) from None


def _first(group: BaseExceptionGroup) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


async def _wait_healthy(ctx: _Context, cid: str, name: str, service: str) -> None:
    ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = await ctx.block(ctx.runtime.wait_health, cid, last, WAIT_SLICE)
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


async def _wait_ready(ctx: _Context, cid: str, name: str, service: str, *, may_exit: bool) -> None:
    """``up --wait``: running (and healthy when it has a healthcheck), never hanging on an exit."""
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = await ctx.block(ctx.runtime.wait_health, cid, last, WAIT_SLICE)
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


async def _wait_completed(ctx: _Context, cid: str, name: str, service: str) -> None:
    ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started = time.monotonic()
    code = await ctx.wait_exit(cid)
    if code != 0:
        raise PlanError(f"service {service!r} didn't complete successfully: exit {code}",
                        hint=f"see composer logs {service}")
    ctx.emit(Event(kind="Container", name=name, status=Status.EXITED, duration=time.monotonic() - started))


Handler = Callable[[_Context, Operation], Awaitable[None]]
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

    def __init__(self, plan: Plan, ctx: _Context, signals: tuple[int, ...], taken: list[int]) -> None:
        import trio

        self.ctx = ctx
        self.signals = signals
        self.taken = taken  # Ctrl-C received before the loop ran
        self.ops = {op.id: op for op in plan}
        self.pending = {op.id: len(op.needs) + len(op.wants) for op in plan}
        self.dependents = plan.dependents()
        needed = {n for op in plan for n in op.needs}
        self.optional = frozenset({w for op in plan for w in op.wants} - needed)
        self.result = ExecutionResult()
        self.settled = trio.Event()
        self.unexpected: BaseException | None = None
        self.nursery: trio.Nursery | None = None

    async def run(self) -> ExecutionResult:
        """Walk the whole plan; an unexpected exception (a bug, Ctrl-C) is raised once every
        operation settled (or, at a second Ctrl-C, at once)."""
        import trio

        with _receiver(self.signals) as signals:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                if signals is not None:
                    nursery.start_soon(self._on_signals, signals, nursery.cancel_scope)
                self._release([op_id for op_id, count in self.pending.items() if count == 0])
                for _ in self.taken:  # after the release: the calls begun early are waited for
                    self._ctrl_c(nursery.cancel_scope)
                await self.settled.wait()
                nursery.cancel_scope.cancel()  # the signal watcher; every operation has ended
        if self.unexpected is not None:
            raise self.unexpected
        self.result.ids = dict(self.ctx.ids)
        return self.result

    async def _on_signals(self, signals: AsyncIterator[int], everything: trio.CancelScope) -> None:
        async for _ in signals:
            if self._ctrl_c(everything):
                return

    def _ctrl_c(self, everything: trio.CancelScope) -> bool:
        """The first Ctrl-C starts nothing new, the second abandons what runs (True)."""
        if self.ctx.interrupted:
            everything.cancel()
            return True
        self._fail(KeyboardInterrupt())
        return False

    def _fail(self, unexpected: BaseException) -> None:
        """Remember the first unexpected exception (raised by ``run``) and start nothing new."""
        self.unexpected = self.unexpected or unexpected
        self.ctx.interrupt()

    def _release(self, ready: list[str]) -> None:
        """Start the operations in ``ready``, or skip them (and so on down) when they cannot run."""
        while ready:
            op = self.ops[ready.pop()]
            blocked = [n for n in op.needs if self.result.outcomes[n].status != "done"]
            if blocked or self.ctx.interrupted:
                reason = f"not done: {blocked[0]} failed" if blocked else "interrupted"
                ready.extend(self._settle(op.id, Outcome("skipped", PlanError(reason))))
                continue
            for want in op.wants:
                if self.result.outcomes[want].status != "done":
                    self.ctx.emit(Event(kind="Service", name=op.resource.split(":")[1], status=Status.WARNING,
                                        text=f'optional dependency "{want.split(":")[1]}" failed to start '
                                             "(required: false)"))
            assert self.nursery is not None
            self.nursery.start_soon(self._run_one, op, name=op.id)

    def _settle(self, op_id: str, outcome: Outcome) -> list[str]:
        """Record how an operation ended; the dependents it was the last to hold back."""
        self.result.outcomes[op_id] = outcome
        if len(self.result.outcomes) == len(self.ops):
            self.settled.set()
        freed = []
        for dependent in self.dependents[op_id]:
            self.pending[dependent] -= 1
            if self.pending[dependent] == 0:
                freed.append(dependent)
        return freed

    async def _run_one(self, op: Operation) -> None:
        """Run one operation's handler and release what waited for it."""
        import trio

        try:
            handler = HANDLERS.get((op.kind, op.resource.split(":", 1)[0]))
            if handler is None:
                raise PlanError(f"internal: no handler for {op.id!r}")
            await handler(self.ctx, op)
            outcome = Outcome("done")
        except trio.TooSlowError:
            outcome = Outcome("failed", PlanError(f"timed out: {op.id}", hint="raise --wait-timeout"))
        except _Interrupted:
            outcome = Outcome("skipped", PlanError("interrupted"))
        except ComposerError as error:
            outcome = Outcome("failed", error, optional=op.id in self.optional)
            self.ctx.emit(Event(kind=_kind(op), name=_name(self.ctx, op), status=Status.ERROR, text=error.message))
        except trio.Cancelled:
            raise  # a second Ctrl-C: nothing is recorded any more
        except BaseException as error:  # noqa: BLE001 - a bug, or Ctrl-C inside a runtime call: raised by run
            outcome = Outcome("failed", PlanError(f"{op.id}: {error!r}"))
            self._fail(error)
        self._release(self._settle(op.id, outcome))


def _ctrl_c_signals() -> tuple[int, ...]:
    """The signals that mean Ctrl-C to the caller: those whose handler raises KeyboardInterrupt
    (read before ``trio.run`` puts its own on SIGINT); none outside the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return ()
    return tuple(s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is signal.default_int_handler)


@contextmanager
def _receiver(signals: tuple[int, ...]) -> Iterator[AsyncIterator[int] | None]:
    """``signals`` received by the run instead of raising KeyboardInterrupt (None: there are none)."""
    import trio

    if not signals:
        yield None
        return
    with trio.open_signal_receiver(*signals) as received:
        yield received


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


def _run(main: Callable[[], Awaitable[Any]]) -> Any:
    """``main`` in a fresh trio loop; a Ctrl-C comes out as KeyboardInterrupt, any other escape
    as itself, never as an exception group."""
    trio = import_trio()

    try:
        return trio.run(main)
    except BaseExceptionGroup as group:
        interrupted, _ = group.split(KeyboardInterrupt)
        raise (KeyboardInterrupt() if interrupted else _first(group)) from None


def execute(plan: Plan, runtime: Runtime, *, emit: EventSink = discard, parallel: int = 0,
            builder: Builder | None = None, wait_timeout: float | None = None) -> ExecutionResult:
    """Run every operation of ``plan`` as soon as its dependencies allow (one ``trio.run``);
    never raises for an operation's failure (see :meth:`ExecutionResult.raise_for_failures)`,
    but raises a bug's exception or KeyboardInterrupt as itself. ``plan.warnings`` are the
    caller's to show. An empty plan imports nothing."""
    if not plan:
        return ExecutionResult()

    if _starts_containers(plan):  # from this thread, before any other begins (zygote.ensure)
        prepare = getattr(runtime, "prepare_starts", None)
        if prepare is not None:
            prepare()
    signals = _ctrl_c_signals()
    head = HeadStart()
    with held(signals, head.halt) as taken:
        if parallel <= 0:  # --parallel N: the loop's limiter bounds every call
            head.begin(plan, runtime)
        import_trio()  # while the early calls run

    async def main() -> ExecutionResult:
        ctx = _Context(runtime, emit, parallel, builder, wait_timeout, head)
        return await _Walker(plan, ctx, signals, taken).run()

    return _run(main)


def _starts_containers(plan: Plan) -> bool:
    """Whether an operation of ``plan`` starts a container."""
    return any(op.kind in ("start", "restart") or (op.kind in ("create", "recreate") and op.params.get("start", True))
               for op in plan if op.resource.split(":", 1)[0] in ("service", "container"))


def first_exit(runtime: Runtime, containers: dict[str, str]) -> tuple[str, int]:
    """Block until the first of ``containers`` (``{id: name}``) stops; its name and exit code
    (``up --abort-on-container-exit`` / ``--exit-code-from``). The other waits end with it."""
    if not containers:
        raise PlanError("no container to wait for", hint="start the project first (composer up -d)")

    async def main() -> tuple[str, int]:
        import trio

        ctx = _Context(runtime, discard, 0, None, None)
        found: list[tuple[str, int]] = []

        async def watch(cid: str, name: str, nursery: trio.Nursery) -> None:
            found.append((name, await ctx.wait_exit(cid)))
            nursery.cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            for cid, name in containers.items():
                nursery.start_soon(watch, cid, name, nursery)
        return found[0]

    return _run(main)
