"""What the executor's handlers share while a plan runs: the runtime, the event sink, the ids of
the containers made in this run, and how a blocking runtime call is made.

Two kinds of run make those calls differently:

- :class:`LoopContext`, on a trio loop: a call runs in a worker thread (at most ``--parallel``
  at a time), waits (health, exit) in threads that cancellation abandons, within one deadline;
- :class:`DirectContext`, without a loop, for a plan the head start began wholly
  (``composer.engine.headstart``): each step only waits for a call already under way in its own
  thread; the handler's coroutine hands that wait (an :class:`Until`) to the caller's driver.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Generator

from composer.engine.events import Event, EventSink, Status
from composer.engine.headstart import Flag
from composer.errors import PlanError

if TYPE_CHECKING:
    import trio

    from composer.engine.headstart import HeadStart
    from composer.engine.runtime.base import HealthStatus, Runtime

Builder = Callable[[str, str], str]
"""Builds the image of a service: ``builder(service, reference) -> image id``."""

WAIT_SLICE = 2.0
"""The longest one waiting thread blocks (seconds): an abandoned wait ends within it."""


class Interrupted(Exception):
    """Ctrl-C (or an unexpected error elsewhere) came before this operation could go on."""


class OpContext:
    """The state the handlers share; how calls are made is a subclass's."""

    def __init__(self, runtime: Runtime, emit: EventSink, builder: Builder | None = None,
                 head: HeadStart | None = None) -> None:
        self.early = head.calls if head else {}
        self.halt = head.halt if head else Flag()
        self.runtime = runtime
        self.emit = emit
        self.builder = builder
        self.interrupted = False
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.removed: set[str] = set()

    def interrupt(self) -> None:
        """Start nothing new: later calls raise Interrupted."""
        self.interrupted = True
        self.halt.set()

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking runtime call; Interrupted once the run is interrupted."""
        raise NotImplementedError

    async def once(self, ready: threading.Event, fn: Callable[[], Any]) -> Any:
        """``fn()`` of an early call once ``ready`` is set (``fn`` then does not block)."""
        raise NotImplementedError

    async def starter(self, op_id: str, container_id: str) -> Callable[[], None]:
        """How the start operation ``op_id`` starts its container: the runtime's start, or the
        ``go`` of a start prepared meanwhile (``LoopContext``)."""
        return partial(self.runtime.start_container, container_id)

    async def step(self, kind: str, name: str, doing: Status, done: Status,
                   fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Emit ``doing``, run ``fn``, emit ``done`` with its duration. A step begun early is
        waited for instead, even once interrupted."""
        early = self.early.pop((kind, name, doing), None)
        if early is not None and await self.once(early.decided, early.began):
            self.emit(Event(kind=kind, name=name, status=doing))
            value = await self.once(early.done, early.result)
            self.emit(Event(kind=kind, name=name, status=done, duration=time.monotonic() - early.started))
            return value
        if self.interrupted:
            raise Interrupted()
        self.emit(Event(kind=kind, name=name, status=doing))
        started = time.monotonic()
        value = await self.call(fn, *args, **kwargs)
        self.emit(Event(kind=kind, name=name, status=done, duration=time.monotonic() - started))
        return value


def _as_plan_error(fn: Callable[..., Any], error: OSError) -> PlanError:
    """An OSError of a runtime call fails its operation (naming the call), not the run."""
    return PlanError(f"{getattr(fn, '__name__', 'runtime')}: {error}")


class Preparation:
    """A container's start prepared while its conditions are awaited: ``handle`` (the runtime's
    prepared start, None if it could not be prepared) once ``ready``; ``used`` once ``go`` was taken."""

    def __init__(self, ready: trio.Event) -> None:
        self.ready = ready
        self.handle: Any = None
        self.used = False


class LoopContext(OpContext):
    """Calls in trio worker threads: at most ``parallel`` at a time (a ``trio.CapacityLimiter``),
    waits in threads that cancellation abandons, one deadline (``--wait-timeout``) for every wait;
    the starts prepared while their conditions are awaited (``preparing``, by start operation).
    Made inside the trio run."""

    def __init__(self, runtime: Runtime, emit: EventSink, parallel: int, builder: Builder | None,
                 wait_timeout: float | None, head: HeadStart | None = None) -> None:
        import trio

        super().__init__(runtime, emit, builder, head)
        self.limiter = trio.CapacityLimiter(parallel if parallel > 0 else 64)
        self.threads = trio.CapacityLimiter(math.inf)  # waits and calls past the limiter: no other bound
        self.deadline = math.inf if wait_timeout is None else trio.current_time() + wait_timeout
        self.waits: set[trio.CancelScope] = set()
        self.preparing: dict[str, Preparation] = {}

    async def starter(self, op_id: str, container_id: str) -> Callable[[], None]:
        preparation = self.preparing.get(op_id)
        if preparation is None:
            return await super().starter(op_id, container_id)
        await preparation.ready.wait()
        if preparation.handle is None:
            return await super().starter(op_id, container_id)
        preparation.used = True
        return preparation.handle.go

    def abandon_preparations(self) -> None:
        """Give back every prepared start not taken (its start skipped, or the run interrupted)."""
        for preparation in self.preparing.values():
            if preparation.handle is not None and not preparation.used:
                preparation.used = True
                preparation.handle.abandon()

    def interrupt(self) -> None:
        """Start nothing new; waits under way end with Interrupted."""
        super().interrupt()
        for scope in self.waits:
            scope.cancel()

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking call in a worker thread, none once the run is interrupted (also when the
        interruption came while it waited for its turn)."""
        async with self.limiter:
            if self.interrupted:
                raise Interrupted()
            return await self._in_thread(fn, *args, **kwargs)

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn`` in a worker thread that cancellation abandons."""
        import trio

        try:
            return await trio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.threads,
                                                 abandon_on_cancel=True)
        except OSError as error:
            raise _as_plan_error(fn, error) from None

    async def once(self, ready: threading.Event, fn: Callable[[], Any]) -> Any:
        return fn() if ready.is_set() else await self._in_thread(fn)

    async def block(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A wait in a thread that cancellation abandons (not bounded by ``--parallel``):
        TooSlowError at the deadline, Interrupted on Ctrl-C."""
        import trio

        if self.interrupted:
            raise Interrupted()
        with trio.CancelScope() as scope:
            self.waits.add(scope)
            try:
                with trio.fail_at(self.deadline):
                    return await self._in_thread(fn, *args)
            finally:
                self.waits.discard(scope)
        raise Interrupted()  # only the interruption cancels this scope

    async def wait_exit(self, container_id: str) -> int:
        """Block until the container is not running; its exit code."""
        while True:
            code = await self.block(self.runtime.wait_container, container_id, WAIT_SLICE)
            if code is not None:
                return code

    async def wait_health(self, container_id: str, last: HealthStatus | None) -> HealthStatus:
        """Block until the container's health or state differs from ``last``; the new status."""
        return await self.block(self.runtime.wait_health, container_id, last, WAIT_SLICE)

    def from_thread(self, afn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        """``afn`` as a blocking function for a worker thread of this run (it runs on the loop)."""
        import trio

        return lambda *args, **kwargs: trio.from_thread.run(partial(afn, *args, **kwargs))


class Until:
    """Awaited by a handler on a :class:`DirectContext`: the driver resumes it once ``event`` is set."""

    __slots__ = ("event",)

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __await__(self) -> Generator[threading.Event, None, None]:
        if not self.event.is_set():
            yield self.event


class DirectContext(OpContext):
    """Steps that wait for calls the head start began (no loop): a call not begun early (a
    need's call was held back by Ctrl-C) runs in the caller's thread."""

    async def once(self, ready: threading.Event, fn: Callable[[], Any]) -> Any:
        await Until(ready)
        return fn()

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.interrupted:
            raise Interrupted()
        try:
            return fn(*args, **kwargs)
        except OSError as error:
            raise _as_plan_error(fn, error) from None
