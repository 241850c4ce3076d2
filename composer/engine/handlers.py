"""The executor's handlers: one coroutine per kind of operation (and resource type), run on a
context (``composer.engine.opcontext``) that makes its calls: on the trio loop, or directly for a
plan the head start began wholly. Each emits Compose's progress events for its object.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Awaitable, Callable

from composer.engine import labels as L
from composer.engine.events import Event, Status, layer_event, throttled
from composer.engine.headstart import create_container, with_image_id
from composer.engine.opcontext import LoopContext, OpContext
from composer.engine.plan import Operation
from composer.engine.runtime.base import ContainerSpec, HealthStatus
from composer.errors import BuildError, ComposerError, ContainerNotFound, ImageNotFound, PlanError


async def _hooks(ctx: OpContext, op: Operation, key: str, cid: str, name: str) -> None:
    """Run the operation's ``post_start``/``pre_stop`` hooks in order; a failing one fails it."""
    for hook in op.params.get(key, ()):
        code, output = await ctx.call(ctx.runtime.exec_container, cid, hook)
        if code != 0:
            raise PlanError(f"{key} hook {' '.join(hook.command)!r} of {name} exited with {code}",
                            hint=output.strip()[-200:] or f"fix the {key} command")


# --- handlers: one per (kind, resource type) -----------------------------------------------------
async def _create_network(ctx: OpContext, op: Operation) -> None:
    spec = op.params["spec"]
    await ctx.step("Network", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_network, spec)


async def _create_volume(ctx: OpContext, op: Operation) -> None:
    spec = op.params["spec"]
    await ctx.step("Volume", spec.name, Status.CREATING, Status.CREATED, ctx.runtime.ensure_volume, spec)


async def _remove_network(ctx: OpContext, op: Operation) -> None:
    name = op.params["name"]
    await ctx.step("Network", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_network, name)


async def _remove_volume(ctx: OpContext, op: Operation) -> None:
    name = op.params["name"]
    await ctx.step("Volume", name, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_volume, name)


async def _pull(ctx: LoopContext, op: Operation) -> None:
    """One pull for every service that needs the image, named as Compose names its pulls: each
    service's ``web Pulling``/``web Pulled`` (``compose pull``, ``skip_shared``: the first one's,
    the others ``Skipped - Image is already being pulled by web``), the layers' lines under the
    first (none with ``quiet``)."""
    import trio

    ref, token = op.params["reference"], trio.lowlevel.current_trio_token()
    pullers = pullers_of(op)
    if op.params.get("skip_shared"):
        for other in pullers[1:]:
            ctx.emit(Event(kind="", name=other, status=Status.SKIPPED,
                           text=f"Image is already being pulled by {pullers[0]}"))
        pullers = pullers[:1]

    def progress(status: str, detail: Any) -> None:  # called in the pull's threads (one per layer too)
        layer = detail.get("id", "") if isinstance(detail, dict) else ""
        if len(layer) == 12 and not op.params.get("quiet"):  # (not "Pulling from ...", named by the tag)
            event = layer_event(pullers[0], layer, status, detail.get("current") or 0, detail.get("total") or 0)
            trio.from_thread.run_sync(ctx.emit, event, trio_token=token)

    for other in pullers[1:]:
        ctx.emit(Event(kind="", name=other, status=Status.PULLING))
    started = time.monotonic()
    try:
        await ctx.step("", pullers[0], Status.PULLING, Status.PULLED, ctx.runtime.pull_image, ref,
                       throttled(progress), platform=op.params.get("platform") or "")
    except ComposerError as error:  # (the first one's Error line is the executor's)
        for other in pullers[1:]:
            ctx.emit(Event(kind="", name=other, status=Status.ERROR, text=error.message))
        raise
    for other in pullers[1:]:
        ctx.emit(Event(kind="", name=other, status=Status.PULLED, duration=time.monotonic() - started))


def pullers_of(op: Operation) -> tuple[str, ...]:
    """The services (and ``web:volume 0`` mounts) a pull is for, the first one its planner."""
    return tuple(op.params.get("pullers") or (op.params.get("service") or op.params["reference"],))


async def _build(ctx: OpContext, op: Operation) -> None:
    ref, service = op.params["reference"], op.params["service"]
    if ctx.builder is None:
        raise BuildError(f"service {service!r} needs its image {ref!r} built, and building is not available",
                         hint="build the image first or set image: to a pullable reference")
    await ctx.step("Image", ref, Status.BUILDING, Status.BUILT, ctx.builder, service, ref)


async def _remove_image(ctx: OpContext, op: Operation) -> None:
    ref = op.params["reference"]
    try:
        await ctx.step("Image", ref, Status.REMOVING, Status.REMOVED, ctx.runtime.remove_image, ref)
    except ImageNotFound:
        ctx.emit(Event(kind="Image", name=ref, status=Status.WARNING, text="not found"))


async def _create(ctx: OpContext, op: Operation) -> None:
    spec = op.params["spec"]
    cid = await ctx.step("Container", spec.name, Status.CREATING, Status.CREATED, create_container, ctx.runtime, spec)
    ctx.ids[op.resource], ctx.names[cid] = cid, spec.name
    _create_warnings(ctx, cid, spec.name)
    if op.params.get("start", True):
        await ctx.step("Container", spec.name, Status.STARTING, Status.STARTED, ctx.runtime.start_container, cid)
        await _hooks(ctx, op, "post_start", cid, spec.name)


async def _recreate(ctx: OpContext, op: Operation) -> None:
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


def _create_warnings(ctx: OpContext, cid: str, name: str) -> None:
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


async def _pre_start(ctx: LoopContext, op: Operation) -> None:
    """A service's ``pre_start`` hooks, each in its own container (``composer.engine.prestart``),
    run from a worker thread whose runtime calls and waits come back to this run's loop."""
    import trio

    from composer.engine.prestart import run_pre_start

    replica = op.params.get("id") or ctx.ids[op.params["replica"]]
    run = partial(run_pre_start, ctx.runtime, ctx.from_thread(ctx.call), op.params["spec"], op.params["hooks"],
                  replica, wait=ctx.from_thread(ctx.wait_exit))
    await trio.to_thread.run_sync(run, limiter=ctx.threads)


async def _start(ctx: OpContext, op: Operation) -> None:
    """Start an existing container, or the one created (or recreated) earlier in this run."""
    cid = op.params.get("id") or ctx.ids[op.resource]
    name = op.params.get("name") or ctx.names[cid]
    start = await ctx.starter(op.id, cid)
    await ctx.step("Container", name, Status.STARTING, Status.STARTED, start)
    await _hooks(ctx, op, "post_start", cid, name)


async def _stop(ctx: OpContext, op: Operation) -> None:
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


async def _restart(ctx: OpContext, op: Operation) -> None:
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


async def _kill(ctx: OpContext, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.KILLING, Status.KILLED, ctx.runtime.kill_container,
                   op.params["id"], op.params.get("signal", "SIGKILL"))


async def _pause(ctx: OpContext, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.PAUSING, Status.PAUSED,
                   ctx.runtime.pause_container, op.params["id"])


async def _unpause(ctx: OpContext, op: Operation) -> None:
    await ctx.step("Container", op.params["name"], Status.UNPAUSING, Status.UNPAUSED,
                   ctx.runtime.unpause_container, op.params["id"])


async def _remove(ctx: OpContext, op: Operation) -> None:
    try:
        await ctx.step("Container", op.params["name"], Status.REMOVING, Status.REMOVED,
                       ctx.runtime.remove_container, op.params["id"], force=op.params.get("force", False),
                       volumes=op.params.get("volumes", False))
    except ContainerNotFound:
        pass
    ctx.removed.add(op.params["id"])


async def _wait(ctx: LoopContext, op: Operation) -> None:
    """A ``depends_on`` condition: every replica healthy, or exited 0 (one waiting task each; the
    first failure ends the others)."""
    service, condition = op.params["service"], op.params["condition"]
    if op.params.get("met"):  # healthy (exited 0) already, as planned: said at once, no loop needed
        _say_met(ctx, op.params["met"], up_wait=condition == "ready")
        return
    import trio
    targets = dict(op.params.get("containers") or {})
    targets.update({cid: ctx.names.get(cid, cid) for r, cid in ctx.ids.items()
                    if r.startswith(f"service:{service}:")})
    if condition == "ready":  # up --wait: a one-shot others wait to complete, as Compose, until it exits
        waiter = partial(_wait_completed, up_wait=True) if op.params.get("may_exit") else _wait_ready
    else:
        waiter = _wait_healthy if condition == "service_healthy" else _wait_completed
    try:
        async with trio.open_nursery() as nursery:
            for cid, name in targets.items():
                if cid not in ctx.removed:
                    nursery.start_soon(waiter, ctx, cid, name, service)
    except BaseExceptionGroup as group:
        raise first_error(group) from None


def _say_met(ctx: OpContext, ends: dict[str, str], up_wait: bool) -> None:
    """A wait whose condition held when planned (``ends``: container name -> the status its wait
    ends with): each container's lines as a wait that ends at once says them (``Waiting`` first,
    except in ``up --wait``'s phase, whose Waiting lines are ``WaitWords``')."""
    for name, end in ends.items():
        if not up_wait:
            ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
        ctx.emit(Event(kind="Container", name=name, status=Status(end), duration=0.0, up_wait=up_wait))


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The first exception of a (nested) group."""
    first = group.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first


async def _wait_healthy(ctx: LoopContext, cid: str, name: str, service: str) -> None:
    ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = await ctx.wait_health(cid, last)
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


async def _wait_ready(ctx: LoopContext, cid: str, name: str, service: str) -> None:
    """``up --wait``: running (and healthy when it has a healthcheck), never hanging on an exit."""
    started, last = time.monotonic(), None
    while True:
        status: HealthStatus = await ctx.wait_health(cid, last)
        if status.state == "running" and status.health in ("none", "healthy"):
            ready = Status.HEALTHY if status.health == "healthy" else Status.RUNNING
            ctx.emit(Event(kind="Container", name=name, status=ready, duration=time.monotonic() - started,
                           up_wait=True))
            return
        if status.state in ("exited", "dead"):
            raise PlanError(f"container {name} exited ({status.exit_code})", hint=f"see composer logs {service}")
        if status.health == "unhealthy":
            output = status.output.strip()
            raise PlanError(f"container {name} is unhealthy",
                            hint=f"last healthcheck output: {output}" if output else f"see composer logs {service}")
        last = status


async def _wait_completed(ctx: LoopContext, cid: str, name: str, service: str, *, up_wait: bool = False) -> None:
    """Exit 0 (``service_completed_successfully``; ``up --wait``'s one-shots: its Waiting line is
    WaitWords')."""
    if not up_wait:
        ctx.emit(Event(kind="Container", name=name, status=Status.WAITING))
    started = time.monotonic()
    code = await ctx.wait_exit(cid)
    if code != 0:
        raise PlanError(f'service "{service}" didn\'t complete successfully: exit {code}',
                        hint=f"see composer logs {service}")
    ctx.emit(Event(kind="Container", name=name, status=Status.EXITED, duration=time.monotonic() - started,
                   up_wait=up_wait))


Handler = Callable[[Any, Operation], Awaitable[None]]
"""``handler(context, operation)`` (the waits, pulls and pre_start hooks need a LoopContext)."""
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




def kind_of(op: Operation) -> str:
    """How Compose names the object of an operation (Container, Network, Volume, Image, Service)."""
    kind = op.resource.split(":", 1)[0]
    if op.kind == "wait":
        return "Service"
    if op.kind == "pull":
        return ""  # Compose's pull lines name the service alone
    return {"service": "Container", "container": "Container"}.get(kind, kind.capitalize())


def name_of(ctx: OpContext, op: Operation) -> str:
    params = op.params
    if op.kind == "pull":
        return pullers_of(op)[0]
    if "spec" in params:
        return params["spec"].name
    if op.resource in ctx.ids:
        return ctx.names[ctx.ids[op.resource]]
    return params.get("name") or params.get("reference") or params.get("service") or op.resource


