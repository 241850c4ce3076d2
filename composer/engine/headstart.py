"""Head start: the calls of a plan that can begin before its trio loop runs.

``execute`` imports trio only when a plan has work, and that import is the longest part of a
short command. The operations that need nothing and begin with one runtime call (stop, remove,
create a network, a volume or a container), and those that need only such operations (the
removal after the stop, the network's removal after every container's, the start of a container
created early once its networks are made) begin here in plain threads, so that their work (a
container's exit, a bridge, an overlay, a supervisor) overlaps the import. The loop then waits
for each in its turn, as for any call under way, and emits the events; a call whose early need
failed, or that Ctrl-C (``held``) kept from beginning, is left to the loop.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterator

from composer.engine import labels as L
from composer.engine.events import Status
from composer.errors import PlanError

if TYPE_CHECKING:
    from composer.engine.plan import Operation, Plan
    from composer.engine.runtime.base import ContainerSpec, Runtime

EarlyKey = tuple[str, str, Status]
"""(object kind, name, "doing" status) of a step: how a handler's step finds its early call."""


class Flag:
    """A flag that a signal handler may raise: no lock (a ``threading.Event``'s ``set`` takes one,
    which deadlocks a handler run while the main thread holds it)."""

    __slots__ = ("raised",)

    def __init__(self) -> None:
        self.raised = False

    def set(self) -> None:
        self.raised = True

    def is_set(self) -> bool:
        return self.raised


class Early:
    """A runtime call begun in a plain thread before the loop runs, once the early calls it
    needs succeeded, unless ``halt`` (Ctrl-C) came first."""

    def __init__(self, name: str, fn: Callable[[], Any], needs: list[Early], halt: Flag,
                 changed: threading.Event) -> None:
        self.name = name
        self.started = time.monotonic()
        self.ran = False
        self.decided, self.done = threading.Event(), threading.Event()
        self._fn, self._needs, self._halt, self._changed = fn, needs, halt, changed
        self._value: Any = None
        self._error: BaseException | None = None
        # a daemon, as the loop's own worker threads: a second Ctrl-C abandons it (a stop's grace
        # under way), and the next up or down reconciles what it left
        self._thread = threading.Thread(target=self._run, name=f"composer-early-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # a need that failed, or never began (its own need failed, Ctrl-C), holds this one back
            self.ran = all(need.done.wait() and need.ran and need._error is None for need in self._needs) \
                and not self._halt.is_set()
            self.started = time.monotonic()
            self.decided.set()
            self._changed.set()
            if self.ran:
                self._value = self._fn()
        except BaseException as error:  # noqa: BLE001 - raised in the loop by result()
            self._error = error
        finally:
            self.decided.set()
            self.done.set()
            self._changed.set()

    def began(self) -> bool:
        """Whether the call ran (or runs): False when a need failed or Ctrl-C came first (the
        loop then decides as for any other operation). Blocks until that is known."""
        self.decided.wait()
        return self.ran

    def result(self) -> Any:
        """Block until the call ended; its value, or its error (an OSError as a PlanError naming
        the call, as the loop's calls do)."""
        self.done.wait()
        if isinstance(self._error, OSError):
            raise PlanError(f"{self.name}: {self._error}") from None
        if self._error is not None:
            raise self._error
        return self._value


class HeadStart:
    """The calls begun before the loop, by their step's key (see the module's docstring);
    ``halt`` keeps those not begun yet from beginning; ``changed`` is set whenever a call was
    decided or ended; ``wholly``: the operations that are nothing but their early
    calls (their handler has nothing else to do)."""

    LIMIT = 64  # threads at most (the loop's own bound)

    def __init__(self) -> None:
        self.halt, self.changed = Flag(), threading.Event()
        self.calls: dict[EarlyKey, Early] = {}
        self.wholly: set[str] = set()

    def covers(self, plan: Plan) -> bool:
        """Whether every operation of ``plan`` is wholly under way: its walk only waits for calls begun."""
        return all(op.id in self.wholly for op in plan)

    def begin(self, plan: Plan, runtime: Runtime) -> None:
        """Begin what can begin: operations in the plan's order, so needs come first."""
        chained: dict[str, Early] = {}  # op id -> its early call, when nothing follows it in the op
        created: dict[str, tuple[str, Early]] = {}  # resource -> (name, early creation) of a container
        met: set[str] = set()  # waits whose condition held when planned: nothing to wait for
        for op in plan:
            needs = [n for n in op.needs if n not in met]
            if op.kind == "wait" and op.params.get("met") and not needs and not op.wants:
                met.add(op.id)
                self.wholly.add(op.id)  # its handler only says so
                continue
            if op.wants or len(self.calls) >= self.LIMIT or any(n not in chained for n in needs):
                continue
            call = _first_call(op, runtime) or _start_of_created(op, runtime, created)
            if call is None or call[0] in self.calls:
                continue
            key, fn = call
            early = Early(getattr(fn.func, "__name__", "runtime"), fn, [chained[n] for n in needs], self.halt,
                          self.changed)
            self.calls[key] = early
            if _wholly(op):  # what needs it may begin early after it
                self.wholly.add(op.id)
                chained[op.id] = early
                if (op.kind, key[0]) == ("create", "Container"):
                    created[op.resource] = (key[1], early)


def _wholly(op: Operation) -> bool:
    """Whether the handler of ``op`` does nothing but its first call (then the early one): no
    post_start hook after a start, no start after a creation, no hooks or lookups around it."""
    if op.kind == "start":
        return not op.params.get("post_start")
    if op.kind == "create" and op.resource.startswith("service:"):
        return op.params.get("start") is False
    return op.kind in ("stop", "remove", "create")


def _first_call(op: Operation, runtime: Runtime) -> tuple[EarlyKey, partial] | None:
    """The step an operation's handler begins with (its key and call), when nothing else (a
    hook, a lookup in this run) comes before it; None otherwise."""
    params, target = op.params, op.resource.split(":", 1)[0]
    if target in ("service", "container") and op.kind in ("stop", "remove", "start"):
        if "id" not in params or "name" not in params or params.get("pre_stop"):
            return None
        if op.kind == "stop" and params.get("exited"):  # not running: nothing to call, nothing to wait for
            call = partial(_stopped_already)
        elif op.kind == "stop":
            call = partial(runtime.stop_container, params["id"], params.get("timeout"))
        elif op.kind == "remove":
            call = partial(runtime.remove_container, params["id"], force=params.get("force", False),
                           volumes=params.get("volumes", False))
        else:
            call = partial(runtime.start_container, params["id"])
        status = {"stop": Status.STOPPING, "remove": Status.REMOVING, "start": Status.STARTING}[op.kind]
        return ("Container", params["name"], status), call
    if (op.kind, target) == ("create", "service"):
        return ("Container", params["spec"].name, Status.CREATING), partial(create_container, runtime, params["spec"])
    if op.kind == "create" and target in ("network", "volume"):
        ensure = runtime.ensure_network if target == "network" else runtime.ensure_volume
        return (target.capitalize(), params["spec"].name, Status.CREATING), partial(ensure, params["spec"])
    if op.kind == "remove" and target in ("network", "volume"):
        remove = runtime.remove_network if target == "network" else runtime.remove_volume
        return (target.capitalize(), params["name"], Status.REMOVING), partial(remove, params["name"])
    return None


def _stopped_already() -> None:
    """The stop of a container that is not running (its handler shows Compose's two lines)."""


def _start_of_created(op: Operation, runtime: Runtime,
                      created: dict[str, tuple[str, Early]]) -> tuple[EarlyKey, partial] | None:
    """The start of a container created early (its key and call: it starts the id the creation
    returns), or None."""
    if op.kind != "start" or "id" in op.params or op.resource not in created:
        return None
    name, creation = created[op.resource]
    return ("Container", name, Status.STARTING), partial(start_created, runtime, creation)


def start_created(runtime: Runtime, creation: Early) -> None:
    """Start the container an early call created."""
    runtime.start_container(creation.result())


def with_image_id(runtime: Runtime, spec: ContainerSpec) -> ContainerSpec:
    """The spec with its ``com.docker.compose.image`` label (the image may have been pulled or
    built earlier in this run)."""
    if spec.labels.get(L.IMAGE):
        return spec
    return spec._replace(labels={**spec.labels, L.IMAGE: runtime.image_id(spec.image) or ""})


def create_container(runtime: Runtime, spec: ContainerSpec) -> str:
    """Create the container of ``spec``, labelled with its image's id; its id."""
    return runtime.create_container(with_image_id(runtime, spec))


@contextmanager
def held(signals: tuple[int, ...], head: HeadStart) -> Iterator[list[int]]:
    """Until the loop runs (or while a plan is walked without one), Ctrl-C (``signals``) is
    recorded in the list yielded rather than raised and sets the head start's ``halt`` (no early
    call begins any more): the walk takes them first, as if they came once it ran (the calls begun
    early then end as any call under way)."""
    import _signal as signal  # the C module: signal.py builds enums (~3 ms)

    taken: list[int] = []

    def hold(received: int, _frame: Any) -> None:
        taken.append(received)  # (no lock here: see Flag)
        head.halt.set()

    previous = {number: signal.signal(number, hold) for number in signals}
    try:
        yield taken
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
