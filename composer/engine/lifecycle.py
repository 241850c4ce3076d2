"""Planning ``down`` and the lifecycle commands (``start``, ``stop``, ``restart``, ``kill``,
``pause``, ``unpause``, ``rm``): pure, like ``reconcile``; containers stop dependents first
and start dependencies first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from composer.engine import convert
from composer.engine import labels as L
from composer.engine.options import DownOptions, LifecycleOptions
from composer.engine.plan import Plan, PlanBuilder
from composer.engine.reconcile import (
    ACTIVE, add_edges, attach_hooks, depends_on, gate, ident, resource_of, select, wait_for_dependencies,
)
from composer.errors import PlanError, UsageError

if TYPE_CHECKING:
    from composer.engine.observe import ObservedState
    from composer.engine.runtime.base import ContainerSummary
    from composer.spec.model import Project


# --- down --------------------------------------------------------------------------------------
def plan_down(project: "Project | None", observed: "ObservedState", options: DownOptions = DownOptions()) -> Plan:
    """Stop and remove containers dependents first, then networks, volumes (-v), images (--rmi).

    ``project`` may be None (``down -p name`` without a compose file): everything labelled goes.
    """
    plan = PlanBuilder()
    containers = _down_containers(project, observed, options)
    removed = _stop_remove_in_order(plan, project, containers, options)
    staying = [c for c in observed.containers if c not in containers]
    # as Compose (also for down SERVICE): what a staying container uses stays ("still in use")
    running = {n for c in staying if c.state in ACTIVE for n in c.networks}  # an exited one holds no endpoint
    kept = _remove_resources(plan, project, observed, removed, "network", running)
    if options.volumes:
        kept += _remove_resources(plan, project, observed, removed, "volume", {m for c in staying for m in c.mounts})
    if options.rmi and project is not None:
        _remove_images(plan, project, options.rmi, removed)
    attach_hooks(plan, project)
    built = plan.build()
    warnings = tuple(f"{name}: Resource is still in use" for name in kept)
    if not built and not observed.containers and not _declares_removable(project, options):
        warnings = (f'Warning: No resource found to remove for project "{observed.project}".',)
    return Plan(built.operations, warnings=warnings)


def _declares_removable(project: "Project | None", options: DownOptions) -> bool:
    """Whether the file declares a network (``-v``: a volume) down would remove: Compose 2.40 then
    says nothing of a project with nothing left (its down has an operation for each, found or not)."""
    if project is None:
        return False
    declared = [*project.networks.values(), *(project.volumes.values() if options.volumes else ())]
    return any(not (resource or {}).get("external") for resource in declared)


def _down_containers(project: "Project | None", observed: "ObservedState",
                     options: DownOptions) -> list["ContainerSummary"]:
    """What ``down`` removes, as Compose's: the containers of the file's services (all of the
    project's without a file) and their kept ``pre_start`` hook containers; one-off (``run``)
    containers and orphans only with --remove-orphans. A service its profiles disable keeps its
    containers (Compose walks the enabled services; they are no orphans): only its exited
    one-offs go, with --remove-orphans."""
    from composer.engine.prestart import HOOK_LABEL

    enabled = set(project.services) if project else None
    disabled = set(project.disabled_services) if project else set()

    def goes(container: "ContainerSummary") -> bool:
        service = container.labels.get(L.SERVICE)
        oneoff = container.labels.get(L.ONEOFF) == "True" and HOOK_LABEL not in container.labels
        if service in disabled:
            return options.remove_orphans and oneoff and container.state in ("exited", "dead")
        return options.remove_orphans or (not oneoff and (enabled is None or service in enabled))

    containers = [c for c in observed.containers if goes(c)]
    if options.services and project is not None:
        chosen = set(select(project, options.services, with_deps=False))
        containers = [c for c in containers if c.labels.get(L.SERVICE) in chosen]
    return containers


def _dependents(project: "Project | None", service: str | None) -> list[str]:
    if project is None or service is None:
        return []
    return [n for n in project.services if service in depends_on(project, n)]


def _stop_remove_in_order(plan: PlanBuilder, project: "Project | None",
                          containers: list["ContainerSummary"], options: DownOptions) -> tuple[str, ...]:
    """Stop each container (an exited one too: Compose shows its Stopping/Stopped lines) once the
    containers of the services depending on it are removed (Compose's down walks the services
    dependents first, stopping and removing each one's); remove it (``-v``: its anonymous volumes)."""
    by_service: dict[str | None, list["ContainerSummary"]] = {}
    for container in containers:
        by_service.setdefault(container.labels.get(L.SERVICE), []).append(container)
    removes = {s: [f"remove {resource_of(c)}" for c in cs] for s, cs in by_service.items()}
    removed = []
    for service, group in sorted(by_service.items(), key=lambda item: str(item[0])):
        after = tuple(o for d in _dependents(project, service) for o in removes.get(d, ()))
        for container in group:
            resource = resource_of(container)
            needs = (_add_stop(plan, container, "down", after, options.timeout),)
            removed.append(plan.add("remove", resource, "down", needs=needs, force=True, volumes=options.volumes,
                                    **ident(container)))
    return tuple(removed)


def _add_stop(plan: PlanBuilder, container: "ContainerSummary", cause: str, needs: tuple[str, ...],
              timeout: float | None) -> str:
    """A stop of ``container``; one that is not running runs no ``pre_stop`` hook (``exited``)."""
    exited = {} if container.state in ACTIVE else {"exited": True}
    return plan.add("stop", resource_of(container), cause, needs=needs, timeout=timeout, **exited,
                    **ident(container))


def _remove_resources(plan: PlanBuilder, project: "Project | None", observed: "ObservedState",
                      removed: tuple[str, ...], kind: str, in_use: set[str]) -> list[str]:
    """Remove the project's networks or volumes (``kind``) once ``removed`` are; the ones in
    ``in_use`` stay: their names (``Network x``), for the warning."""
    found = observed.networks if kind == "network" else observed.volumes
    declared = (project.networks if kind == "network" else project.volumes) if project else {}
    kept = []
    for resource in found:
        key = resource.labels.get(L.NETWORK if kind == "network" else L.VOLUME, resource.name)
        if project is not None and (key not in declared or declared[key].get("external")):
            continue
        if resource.name in in_use:
            kept.append(f"{kind.capitalize()} {resource.name}")
            continue
        plan.add("remove", f"{kind}:{key}", "down" if kind == "network" else "down -v", needs=removed,
                 name=resource.name)
    return kept


def _remove_images(plan: PlanBuilder, project: "Project", rmi: str, removed: tuple[str, ...]) -> None:
    if rmi not in ("local", "all"):
        raise UsageError(f"invalid --rmi value {rmi!r}", hint="use --rmi local or --rmi all")
    for name in sorted(project.services):
        service = project.services[name]
        if rmi == "all" or not service.image:
            ref = convert.image_reference(project.name, service)
            plan.add("remove-image", f"image:{ref}", f"--rmi {rmi}", needs=removed, reference=ref)


# --- the other lifecycle commands ----------------------------------------------------------------
def plan_lifecycle(verb: str, project: "Project", observed: "ObservedState",
                   options: LifecycleOptions = LifecycleOptions()) -> Plan:
    """``start``, ``stop``, ``restart``, ``kill``, ``pause``, ``unpause`` or ``rm``."""
    names = select(project, options.services, with_deps=verb == "start" and not options.no_deps)
    if verb == "restart" and not options.no_deps:
        names = select(project, _with_restart_dependents(project, names), with_deps=False)
    containers = [c for n in names for c in observed.service_containers(n)]
    plan = PlanBuilder()
    if verb in ("stop", "rm"):
        _stop_in_order(plan, project, containers, options, remove=verb == "rm")
    elif verb in ("start", "restart"):
        _start_in_order(plan, project, observed, names, verb, options)
    else:
        wanted = {"kill": ("running", "restarting", "paused"), "pause": ("running",), "unpause": ("paused",)}
        if verb not in wanted:
            raise UsageError(f"unknown command {verb!r}")
        params = {"signal": options.signal} if verb == "kill" else {}
        for container in containers:
            if verb == "pause" and container.state == "paused":  # dockerd's refusals
                raise PlanError(f"Error response from daemon: Container {container.id} is already paused",
                                hint=f"composer unpause {container.labels.get(L.SERVICE)}")
            if verb == "unpause" and container.state == "running":
                raise PlanError(f"Error response from daemon: Container {container.id} is not paused",
                                hint=f"composer pause {container.labels.get(L.SERVICE)}")
            if container.state in wanted[verb]:
                plan.add(verb, resource_of(container), f"container {container.state}", **params, **ident(container))
    attach_hooks(plan, project)
    return plan.build()


def _with_restart_dependents(project: "Project", names: list[str]) -> list[str]:
    """``names`` and, transitively, the services depending on them with ``restart: true``."""
    chosen = list(names)
    for name in chosen:  # grows while iterating: a breadth-first walk
        chosen += [n for n in project.services if n not in chosen
                   and (dep := depends_on(project, n).get(name)) is not None and dep.restart]
    return chosen


def _stop_in_order(plan: PlanBuilder, project: "Project", containers: list["ContainerSummary"],
                   options: LifecycleOptions, *, remove: bool) -> None:
    """Stop every container (Compose stops exited ones too: their Stopping/Stopped lines), the
    dependents' first; ``rm``: only with ``-s``, then remove the ones not running."""
    stops = {resource_of(c): c for c in containers if not remove or options.stop}
    for resource, container in stops.items():
        after = tuple(f"stop {r}" for r, o in stops.items()
                      if o.labels.get(L.SERVICE) in _dependents(project, container.labels.get(L.SERVICE)))
        _add_stop(plan, container, f"container {container.state}", after, options.timeout)
    if remove:
        for container in containers:
            resource = resource_of(container)
            if container.state not in ACTIVE or resource in stops:
                needs = (f"stop {resource}",) if resource in stops else ()
                plan.add("remove", resource, "rm", needs=needs, force=False, volumes=options.volumes,
                         **ident(container))


def _start_in_order(plan: PlanBuilder, project: "Project", observed: "ObservedState", names: list[str],
                    verb: str, options: LifecycleOptions) -> None:
    ops: dict[str, list[str]] = {}
    for name in names:
        ops[name] = []
        if verb == "start" and not observed.service_containers(name):
            raise PlanError(f"service {name!r} has no container to start",
                            hint="run composer up (or composer create) first")
        for container in observed.service_containers(name):
            if verb == "restart" or container.state not in ACTIVE:
                ops[name].append(plan.add(verb, resource_of(container), f"container {container.state}",
                                          timeout=options.timeout, **ident(container)))
    for name in names:
        if verb == "start":  # as Compose: also a running service waits for its dependencies
            wait_for_dependencies(plan, project, observed, name, list(ops[name]), ops)
            continue
        for dep_name, dep in depends_on(project, name).items():
            if not dep.restart:
                continue  # as Compose 2.40: restart waits only on a dependency marked restart: true
            if dep_name in ops and ops[dep_name]:
                add_edges(plan, ops[name], gate(plan, dep_name, dep.condition, ops[dep_name], observed), dep.required)
