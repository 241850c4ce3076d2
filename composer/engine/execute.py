"""The executor: a trio nursery walks the plan DAG against a Runtime.

Every operation starts as soon as the operations it needs are done; blocking runtime calls run
in worker threads, at most ``parallel`` at a time. A failed operation skips the operations that
need it (operations that only *want* it go on, with a warning) while the rest settles; the
result then raises one PlanError naming what failed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Awaitable, Callable

import trio

from composer.engine import labels as L
from composer.engine.events import Event, EventSink, Status, discard
from composer.engine.plan import ExecutionResult, Operation, Outcome, Plan
from composer.engine.runtime.base import ContainerSpec, HealthStatus, Runtime
from composer.errors import BuildError, ComposerError, ContainerNotFound, ImageNotFound, PlanError

Builder = Callable[[str, str], str]
"""Builds the image of a service: ``builder(service, reference) -> image id``."""


@dataclass(slots=True)
class _Context:
    runtime: Runtime
    emit: EventSink
    limiter: trio.CapacityLimiter
    waiters: trio.CapacityLimiter
    builder: Builder | None
    wait_timeout: float | None
    ids: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking runtime call in a worker thread (bounded by ``--parallel``)."""
        try:
            return await trio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.limiter)
        except OSError as error:
            raise PlanError(f"{getattr(fn, '__name__', 'runtime')}: {error}") from None

    async def block(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A long wait in a thread that cancellation abandons (not bounded by ``--parallel``)."""
        return await trio.to_thread.run_sync(partial(fn, *args), limiter=self.waiters,
                                             abandon_on_cancel=True)

    async def step(self, kind: str, name: str, doing: Status, done: Status,
                   fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Emit ``doing``, run ``fn``, emit ``done`` with its duration (errors: see ``_run_one``)."""
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
    ref = op.params["reference"]

    def progress(status: str, detail: Any) -> None:
        ctx.emit(Event(kind="Image", name=ref, status=Status.PULLING, text=status))

    await ctx.step("Image", ref, Status.PULLING, Status.PULLED, ctx.runtime.pull_image, ref, progress)


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


async def _with_image_id(ctx: _Context, spec: ContainerSpec) -> ContainerSpec:
    """The spec with its ``com.docker.compose.image`` label (the image may have been pulled or
    built earlier in this run)."""
    if spec.labels.get(L.IMAGE):
        return spec
    return spec._replace(labels={**spec.labels, L.IMAGE: await ctx.call(ctx.runtime.image_id, spec.image) or ""})


async def _create(ctx: _Context, op: Operation) -> None:
    spec = op.params["spec"]
    spec = await _with_image_id(ctx, spec)
    cid = await ctx.step("Container", spec.name, Status.CREATING, Status.CREATED,
                         ctx.runtime.create_container, spec)
    ctx.ids[op.resource], ctx.names[cid] = cid, spec.name
    if op.params.get("start", True):
        await ctx.step("Container", spec.name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        await _hooks(ctx, op, "post_start", cid, spec.name)


async def _recreate(ctx: _Context, op: Operation) -> None:
    """As Compose: create the new container under a temporary name while the old one still
    runs, then stop and remove the old one and give the new one its name; start it."""
    old, name, spec = op.params["id"], op.params["name"], op.params["spec"]
    ctx.emit(Event(kind="Container", name=name, status=Status.RECREATE))
    started = time.monotonic()
    spec = await _with_image_id(ctx, spec)
    if op.params.get("inherit_volumes", True):
        spec = _inherit_anonymous_volumes(spec, await ctx.call(ctx.runtime.inspect_container, old))
    final = spec.name
    temporary = f"{old[:12]}_{final}" if name == final else final  # the old one may hold the name
    spec = spec._replace(name=temporary, labels={**spec.labels, L.REPLACE: old})
    cid = await ctx.call(ctx.runtime.create_container, spec)
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


def _inherit_anonymous_volumes(spec: ContainerSpec, inspected: dict[str, Any]) -> ContainerSpec:
    """As Compose: a recreated container keeps its predecessor's anonymous volumes (``-V`` not)."""
    previous = {m.get("Destination"): m.get("Name") for m in inspected.get("Mounts") or ()
                if m.get("Type") == "volume" and m.get("Name")}
    mounts = tuple(m._replace(source=previous[m.target], options={**m.options, "anonymous": True})
                   if m.type == "volume" and not m.source and previous.get(m.target) else m for m in spec.mounts)
    return spec._replace(mounts=mounts)


async def _start(ctx: _Context, op: Operation) -> None:
    """Start an existing container, or the one created (or recreated) earlier in this run."""
    cid = op.params.get("id") or ctx.ids[op.resource]
    name = op.params.get("name") or ctx.names[cid]
    await ctx.step("Container", name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
    await _hooks(ctx, op, "post_start", cid, name)


async def _stop(ctx: _Context, op: Operation) -> None:
    name, timeout = op.params["name"], op.params.get("timeout")
    await _hooks(ctx, op, "pre_stop", op.params["id"], name)
    started = time.monotonic()
    await ctx.step("Container", name, Status.STOPPING, Status.STOPPED, ctx.runtime.stop_container,
                   op.params["id"], timeout)
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
    """A ``depends_on`` condition: every replica healthy, or exited 0."""
    service, condition = op.params["service"], op.params["condition"]
    targets = dict(op.params.get("containers") or {})
    targets.update({cid: ctx.names.get(cid, cid) for r, cid in ctx.ids.items()
                    if r.startswith(f"service:{service}:")})
    waiter = {"service_healthy": _wait_healthy, "ready": partial(_wait_ready, may_exit=op.params.get("may_exit", False))
              }.get(condition, _wait_completed)
    with trio.fail_after(ctx.wait_timeout if ctx.wait_timeout is not None else math.inf):
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
        status: HealthStatus = await ctx.block(ctx.runtime.wait_health, cid, last, 60.0)
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
        status: HealthStatus = await ctx.block(ctx.runtime.wait_health, cid, last, 60.0)
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
    code = await ctx.block(ctx.runtime.wait_container, cid)
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
    ("wait", "service"): _wait,
    **{(kind, target): handler for target in ("service", "container") for kind, handler in (
        ("start", _start), ("stop", _stop), ("restart", _restart), ("kill", _kill), ("pause", _pause),
        ("unpause", _unpause), ("remove", _remove))},
}


# --- walking the DAG -------------------------------------------------------------------------------
async def _run_one(ctx: _Context, op: Operation, done: dict[str, trio.Event], result: ExecutionResult,
                   optional: frozenset[str]) -> None:
    try:
        for dependency in (*op.needs, *op.wants):
            await done[dependency].wait()
        blocked = [n for n in op.needs if result.outcomes[n].status != "done"]
        if blocked:
            result.outcomes[op.id] = Outcome("skipped", PlanError(f"not done: {blocked[0]} failed"))
            return
        for want in op.wants:
            if result.outcomes[want].status != "done":
                dependency = want.split(":")[1]
                ctx.emit(Event(kind="Service", name=op.resource.split(":")[1], status=Status.WARNING,
                               text=f'optional dependency "{dependency}" failed to start (required: false)'))
        handler = HANDLERS.get((op.kind, op.resource.split(":", 1)[0]))
        if handler is None:
            raise PlanError(f"internal: no handler for {op.id!r}")
        await handler(ctx, op)
        result.outcomes[op.id] = Outcome("done")
    except trio.TooSlowError:
        result.outcomes[op.id] = Outcome("failed", PlanError(f"timed out: {op.id}",
                                                             hint="raise --wait-timeout"))
    except ComposerError as error:
        result.outcomes[op.id] = Outcome("failed", error, optional=op.id in optional)
        ctx.emit(Event(kind=_kind(op), name=_name(ctx, op), status=Status.ERROR, text=error.message))
    finally:
        done[op.id].set()


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


async def execute(plan: Plan, runtime: Runtime, *, emit: EventSink = discard, parallel: int = 0,
                  builder: Builder | None = None, wait_timeout: float | None = None) -> ExecutionResult:
    """Run every operation of ``plan`` as soon as its dependencies allow; never raises for an
    operation's failure (see :meth:`ExecutionResult.raise_for_failures`). ``plan.warnings`` are
    the caller's to show."""
    ctx = _Context(runtime=runtime, emit=emit, limiter=trio.CapacityLimiter(parallel if parallel > 0 else 64),
                   waiters=trio.CapacityLimiter(math.inf), builder=builder, wait_timeout=wait_timeout)
    result = ExecutionResult()
    done = {op.id: trio.Event() for op in plan}
    needed = {n for op in plan for n in op.needs}
    wanted = {w for op in plan for w in op.wants}
    optional = frozenset(wanted - needed)
    async with trio.open_nursery() as nursery:
        for op in plan:
            nursery.start_soon(_run_one, ctx, op, done, result, optional)
    result.ids = dict(ctx.ids)
    return result


def run(plan: Plan, runtime: Runtime, **kwargs: Any) -> ExecutionResult:
    """``execute`` in a fresh trio loop (the one ``trio.run`` of a project command). A Ctrl-C
    comes out as KeyboardInterrupt, any other escape as itself, never as an exception group."""
    if not plan:
        return ExecutionResult()
    try:
        return trio.run(partial(execute, plan, runtime, **kwargs))
    except BaseExceptionGroup as group:
        interrupted, _ = group.split(KeyboardInterrupt)
        raise (KeyboardInterrupt() if interrupted else _first(group)) from None


def first_exit(runtime: Runtime, containers: dict[str, str]) -> tuple[str, int]:
    """Block until the first of ``containers`` (``{id: name}``) stops; its name and exit code
    (``up --abort-on-container-exit`` / ``--exit-code-from``)."""
    async def main() -> tuple[str, int]:
        found: list[tuple[str, int]] = []
        waiters = trio.CapacityLimiter(math.inf)
        async with trio.open_nursery() as nursery:
            async def watch(cid: str, name: str) -> None:
                code = await trio.to_thread.run_sync(runtime.wait_container, cid, limiter=waiters,
                                                     abandon_on_cancel=True)
                found.append((name, code))
                nursery.cancel_scope.cancel()

            for cid, name in containers.items():
                nursery.start_soon(watch, cid, name)
        return found[0]

    if not containers:
        raise PlanError("no container to wait for", hint="start the project first (composer up -d)")
    return trio.run(main)

