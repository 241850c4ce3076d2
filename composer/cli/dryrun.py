"""Global ``--dry-run``: what a command would do, shown as Compose 2.40 shows it (its progress lines
with the `` DRY-RUN MODE - `` prefix: `` DRY-RUN MODE -  Container p-web-1  Stopping``), nothing done."""

from __future__ import annotations

from typing import Any, Iterable

from composer.engine.events import Event, Status

PREFIX = " DRY-RUN MODE - "

# an operation's kind -> the statuses its execution reports
_STEPS = {
    "pull": (Status.PULLING, Status.PULLED), "build": (Status.BUILDING, Status.BUILT),
    "create": (Status.CREATING, Status.CREATED), "recreate": (Status.RECREATE, Status.RECREATED),
    "start": (Status.STARTING, Status.STARTED), "stop": (Status.STOPPING, Status.STOPPED),
    "kill": (Status.KILLING, Status.KILLED), "restart": (Status.RESTARTING, Status.RESTARTED),
    "pause": (Status.PAUSING, Status.PAUSED), "unpause": (Status.UNPAUSING, Status.UNPAUSED),
    "remove": (Status.REMOVING, Status.REMOVED), "remove-image": (Status.REMOVING, Status.REMOVED),
}
_KINDS = {"service": "Container", "container": "Container", "network": "Network", "volume": "Volume",
          "image": "Image"}


def plan_events(plan: Iterable[Any]) -> list[Event]:
    """The events executing ``plan`` would emit (its waits, warnings and hooks show none)."""
    operations = list(plan)
    names = {op.resource: _name(op) for op in operations if _name(op)}
    events: list[Event] = []
    for op in operations:
        steps = _STEPS.get(op.kind)
        if steps is None:
            continue
        kind = op.resource.split(":", 1)[0]
        name = names.get(op.resource) or op.resource.split(":", 1)[-1]
        events.extend(Event(kind=_KINDS.get(kind, kind.capitalize()), name=name, status=s) for s in steps)
    return events


def _name(op: Any) -> str:
    """The real name of an operation's object, where its parameters tell it."""
    params = op.params
    if "spec" in params:
        return params["spec"].name
    return params.get("name") or params.get("reference") or ""


def show(ctx: Any, events: Iterable[Event], verb: str = "up") -> None:
    """Print ``events`` as compose's dry run does (``verb`` picks compose's words, as the real command)."""
    from composer.cli import compose as C

    progress = C.progress_for(ctx)
    progress.prefix = PREFIX
    sink = C.compose_words(progress, verb)
    for event in events:
        sink.event(event)


def show_plan(ctx: Any, plan: Iterable[Any], verb: str = "up") -> None:
    """``show`` the events of ``plan``."""
    show(ctx, plan_events(plan), verb)


def show_up(ctx: Any, project: Any, options: Any) -> None:
    """``up``/``create``/``scale``: the pulls and builds, then the operations ``up`` would run."""
    from composer.cli import compose as C
    from composer.engine import reconcile

    service = C.engine()
    observed = service.observe(project)
    images = reconcile.plan_images(project, observed, options, mounts=True)
    settled = options._replace(pull="never" if options.pull == "never" else "missing", build=False)
    plan = reconcile.plan_up(project, observed, settled)  # as up: after the images, none pulled twice
    show(ctx, [*plan_events(images), *(e for e in plan_events(plan) if e.kind != "Image")])


def show_builds(project: Any, names: Iterable[str]) -> None:
    """``build``: compose's dry run lines of each service's build (``naming to``, ``Built``) on stderr."""
    import sys

    from composer.engine import convert

    for name in names:
        reference = convert.image_reference(project.name, project.services[name])
        sys.stderr.write(f"{PREFIX} {name} ==> ==> naming to {reference} \n{PREFIX} {name}  Built\n")
    sys.stderr.flush()
