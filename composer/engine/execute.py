"""The executor: the plan DAG walked against a Runtime, every operation as soon as the operations
it needs have settled.

A failed operation skips the operations that need it (operations that only *want* it go on,
with a warning) while the rest settles; the result then names what failed (one PlanError).
Events are emitted from the caller's thread, in order. The handlers (one per kind of
operation) are in ``composer.engine.handlers``; how their calls are made, in
``composer.engine.opcontext``.

Head start (``composer.engine.headstart``): the operations that can run at once and are one
runtime call (stop, create a network or a container, remove ...) begin in plain threads first.
Then either:

- the plan is walked by a trio nursery (imported lazily: the import overlaps the early calls):
  blocking runtime calls in worker threads, at most ``parallel`` at a time; waits (health,
  exit) in threads that cancellation abandons, within one ``--wait-timeout``; or,
- when the head start began every operation wholly (a ``down``, a ``stop``, the ``up`` of
  services without conditions: nothing left to schedule, only calls under way to wait for),
  the handlers run directly in this thread, each resumed when its call moves. This spares the
  loop's import (~0.1 s of CPU, the longest part of such a command); ``COMPOSER_EXECUTOR=trio``
  walks every plan on the loop.

Ctrl-C (SIGINT, or SIGTERM where the caller made it raise KeyboardInterrupt): the first starts
nothing new and lets the runtime calls under way finish, the second abandons them; either way
``execute`` then raises KeyboardInterrupt.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Coroutine, Iterator

from composer.engine.events import Event, EventSink, Status, discard
from composer.engine.handlers import HANDLERS, first_error, kind_of, name_of
from composer.engine.headstart import HeadStart, held
from composer.engine.opcontext import Builder, DirectContext, Interrupted, LoopContext, OpContext, Preparation
from composer.engine.plan import ExecutionResult, Operation, Outcome, Plan
from composer.engine.runtime.base import Runtime
from composer.errors import ComposerError, PlanError
from composer.trio_import import import_trio

if TYPE_CHECKING:
    import trio

__all__ = ["Builder", "execute", "first_exit"]

SIGNAL_LOOK = 0.05
"""How often (seconds) the walk without a loop looks for a Ctrl-C while calls run."""

EXECUTOR_ENV = "COMPOSER_EXECUTOR"
"""``trio``: walk every plan on the trio loop, also one the head start began wholly."""


async def _run_handler(ctx: OpContext, op: Operation) -> None:
    """The handler of ``op``'s kind and resource type."""
    handler = HANDLERS.get((op.kind, op.resource.split(":", 1)[0]))
    if handler is None:
        raise PlanError(f"internal: no handler for {op.id!r}")
    await handler(ctx, op)


class _Walk:
    """Which operations may start, and how each ended (shared by both ways of walking)."""

    def __init__(self, plan: Plan, ctx: OpContext) -> None:
        self.ctx = ctx
        self.ops = {op.id: op for op in plan}
        self.pending = {op.id: len(op.needs) + len(op.wants) for op in plan}
        self.dependents = plan.dependents()
        needed = {n for op in plan for n in op.needs}
        self.optional = frozenset({w for op in plan for w in op.wants} - needed)
        self.result = ExecutionResult()
        self.unexpected: BaseException | None = None

    def _launch(self, op: Operation) -> None:
        """Begin running ``op``'s handler."""
        raise NotImplementedError

    def _all_settled(self) -> None:
        """Called once every operation has ended."""

    def _held_by_waits(self, op_id: str) -> None:
        """Called when a need of ``op_id`` settled and others remain."""

    def _begin(self) -> None:
        self._release([op_id for op_id, count in self.pending.items() if count == 0])

    def _fail(self, unexpected: BaseException) -> None:
        """Remember the first unexpected exception (raised at the end) and start nothing new."""
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
            self._launch(op)

    def _settle(self, op_id: str, outcome: Outcome) -> list[str]:
        """Record how an operation ended; the dependents it was the last to hold back."""
        self.result.outcomes[op_id] = outcome
        if len(self.result.outcomes) == len(self.ops):
            self._all_settled()
        freed = []
        for dependent in self.dependents[op_id]:
            self.pending[dependent] -= 1
            if self.pending[dependent] == 0:
                freed.append(dependent)
            else:
                self._held_by_waits(dependent)
        return freed

    def _finish(self, op: Operation, error: BaseException | None) -> None:
        """Record how ``op``'s handler ended (``error``: what it raised); release what waited."""
        self._release(self._settle(op.id, self._outcome(op, error)))

    def _outcome(self, op: Operation, error: BaseException | None) -> Outcome:
        trio = sys.modules.get("trio")
        if error is None:
            return Outcome("done")
        if trio is not None and isinstance(error, trio.TooSlowError):
            return Outcome("failed", PlanError(f"timed out: {op.id}", hint="raise --wait-timeout"))
        if isinstance(error, Interrupted):
            return Outcome("skipped", PlanError("interrupted"))
        if isinstance(error, ComposerError):
            self.ctx.emit(Event(kind=kind_of(op), name=name_of(self.ctx, op), status=Status.ERROR,
                                text=error.message))
            return Outcome("failed", error, optional=op.id in self.optional)
        self._fail(error)  # a bug, or Ctrl-C inside a runtime call: raised at the end
        return Outcome("failed", PlanError(f"{op.id}: {error!r}"))

    def _result(self) -> ExecutionResult:
        if self.unexpected is not None:
            raise self.unexpected
        self.result.ids = dict(self.ctx.ids)
        return self.result


class _LoopWalk(_Walk):
    """The walk on a trio loop: each operation a task of one nursery; an unexpected exception
    (a bug, Ctrl-C) is raised once every operation settled (or, at a second Ctrl-C, at once)."""

    def __init__(self, plan: Plan, ctx: LoopContext, signals: tuple[int, ...], taken: list[int]) -> None:
        import trio

        super().__init__(plan, ctx)
        self.ctx: LoopContext = ctx
        self.signals = signals
        self.taken = taken  # Ctrl-C received before the loop ran
        self.settled = trio.Event()
        self.nursery: trio.Nursery | None = None

    def _all_settled(self) -> None:
        self.settled.set()

    def _launch(self, op: Operation) -> None:
        assert self.nursery is not None
        self.nursery.start_soon(self._run_one, op, name=op.id)

    async def run(self) -> ExecutionResult:
        import trio

        try:
            with _receiver(self.signals) as signals:
                async with trio.open_nursery() as nursery:
                    self.nursery = nursery
                    if signals is not None:
                        nursery.start_soon(self._on_signals, signals, nursery.cancel_scope)
                    self._begin()
                    for _ in self.taken:  # after the release: the calls begun early are waited for
                        self._ctrl_c(nursery.cancel_scope)
                    await self.settled.wait()
                    nursery.cancel_scope.cancel()  # the signal watcher; every operation has ended
        finally:
            self.ctx.abandon_preparations()
        return self._result()

    def _held_by_waits(self, op_id: str) -> None:
        """A container's start held back only by conditions (health, completion) is prepared
        meanwhile: all of its start but the exec, so that it runs the moment they hold."""
        import trio

        op, ctx = self.ops[op_id], self.ctx
        prepare = getattr(ctx.runtime, "prepare_start", None)
        cid = op.params.get("id") or ctx.ids.get(op.resource)
        if prepare is None or op.kind != "start" or not cid or op_id in ctx.preparing or ctx.interrupted:
            return
        outcomes = self.result.outcomes
        unsettled = [n for n in (*op.needs, *op.wants) if n not in outcomes]
        if any(self.ops[n].kind != "wait" for n in unsettled) or any(
                outcomes[n].status != "done" for n in op.needs if n in outcomes):
            return
        ctx.preparing[op_id] = preparation = Preparation(trio.Event())
        assert self.nursery is not None
        self.nursery.start_soon(self._prepare, preparation, prepare, cid)

    async def _prepare(self, preparation: Preparation, prepare: Callable[[str], Any], cid: str) -> None:
        try:
            preparation.handle = await self.ctx.call(prepare, cid)
        except (ComposerError, Interrupted):
            pass  # not prepared: the start does it all (and reports what refuses it)
        finally:
            preparation.ready.set()

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

    async def _run_one(self, op: Operation) -> None:
        import trio

        try:
            await _run_handler(self.ctx, op)
        except trio.Cancelled:
            raise  # a second Ctrl-C: nothing is recorded any more
        except BaseException as error:  # noqa: BLE001 - recorded; a bug or Ctrl-C is raised by run
            self._finish(op, error)
            return
        self._finish(op, None)


class _DirectWalk(_Walk):
    """The walk without a loop, of a plan whose every call the head start began: the handlers'
    coroutines run in this thread, each resumed once the early call it waits for has moved
    (the head start's ``changed`` wakes this thread). Ctrl-C as on the loop, seen within
    SIGNAL_LOOK."""

    def __init__(self, plan: Plan, ctx: DirectContext, head: HeadStart, taken: list[int]) -> None:
        super().__init__(plan, ctx)
        self.changed, self.taken, self.seen = head.changed, taken, 0
        self.running: dict[str, tuple[Operation, Coroutine[Any, Any, None], threading.Event | None]] = {}

    def _launch(self, op: Operation) -> None:
        self.running[op.id] = (op, _run_handler(self.ctx, op), None)

    def run(self) -> ExecutionResult:
        self._begin()
        while self.running:
            self.changed.clear()  # before looking: a call moving from here on wakes the wait below
            self._on_signals()
            if not self._advance():
                self.changed.wait(SIGNAL_LOOK)  # (a signal handler cannot set it: see headstart.Flag)
        self._on_signals()
        return self._result()

    def _on_signals(self) -> None:
        """The first Ctrl-C starts nothing new; the second abandons the calls under way."""
        while self.seen < len(self.taken):
            self.seen += 1
            if self.ctx.interrupted:
                raise KeyboardInterrupt()
            self._fail(KeyboardInterrupt())

    def _advance(self) -> bool:
        """Resume every handler whose wait is over; whether there was one."""
        moved = False
        for op_id, (op, coroutine, waiting) in list(self.running.items()):
            if waiting is not None and not waiting.is_set():
                continue
            moved = True
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                error = None
            except BaseException as raised:  # noqa: BLE001 - recorded; a bug is raised by run
                error = raised
            else:
                self.running[op_id] = (op, coroutine, waiting)
                continue
            del self.running[op_id]
            self._finish(op, error)
        return moved


def _ctrl_c_signals() -> tuple[int, ...]:
    """The signals that mean Ctrl-C to the caller: those whose handler raises KeyboardInterrupt
    (read before ``trio.run`` puts its own on SIGINT); none outside the main thread."""
    import _signal as signal  # the C module: signal.py builds enums (~3 ms)
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


def _run(main: Callable[[], Awaitable[Any]]) -> Any:
    """``main`` in a fresh trio loop; a Ctrl-C comes out as KeyboardInterrupt, any other escape
    as itself, never as an exception group."""
    trio = import_trio()

    try:
        return trio.run(main)
    except BaseExceptionGroup as group:
        interrupted, _ = group.split(KeyboardInterrupt)
        raise (KeyboardInterrupt() if interrupted else first_error(group)) from None


def execute(plan: Plan, runtime: Runtime, *, emit: EventSink = discard, parallel: int = 0,
            builder: Builder | None = None, wait_timeout: float | None = None) -> ExecutionResult:
    """Run every operation of ``plan`` as soon as its dependencies allow; never raises for an
    operation's failure (see :meth:`ExecutionResult.raise_for_failures`), but raises a bug's
    exception or KeyboardInterrupt as itself. ``plan.warnings`` are the caller's to show. An
    empty plan imports nothing."""
    if not plan:
        return ExecutionResult()

    if _starts_containers(plan):  # from this thread, before any other begins (zygote.ensure)
        prepare = getattr(runtime, "prepare_starts", None)
        if prepare is not None:
            prepare()
    signals = _ctrl_c_signals()
    head = HeadStart()
    with held(signals, head) as taken:
        if parallel <= 0:  # --parallel N: the loop's limiter bounds every call
            head.begin(plan, runtime)
        if head.covers(plan) and os.environ.get(EXECUTOR_ENV) != "trio":
            return _DirectWalk(plan, DirectContext(runtime, emit, builder, head), head, taken).run()
        import_trio()  # while the early calls run

    async def main() -> ExecutionResult:
        ctx = LoopContext(runtime, emit, parallel, builder, wait_timeout, head)
        return await _LoopWalk(plan, ctx, signals, taken).run()

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

        ctx = LoopContext(runtime, discard, 0, None, None)
        found: list[tuple[str, int]] = []

        async def watch(cid: str, name: str, nursery: trio.Nursery) -> None:
            found.append((name, await ctx.wait_exit(cid)))
            nursery.cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            for cid, name in containers.items():
                nursery.start_soon(watch, cid, name, nursery)
        return found[0]

    return _run(main)
