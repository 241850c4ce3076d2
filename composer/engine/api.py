"""ProjectService: every compose command as lock -> observe -> plan (pure) -> execute (trio).

How the CLI should call it (``composer/cli/project.py``)::

    from composer.engine.api import ProjectService, UpOptions, DownOptions, LifecycleOptions
    from composer.engine.runtime.linux import LinuxRuntime      # the real Runtime adapter (issue 6)
    project = load_project_from_options(ctx.obj)                 # composer.spec.loader
    service = ProjectService(LinuxRuntime(), emit=renderer.event) # cli/render.py draws the events
    service.up(project, UpOptions(services=tuple(args),
               recreate="force" if force_recreate else "never" if no_recreate else "diverged",
               always_recreate_deps=..., no_deps=..., scale=dict(parsed_scale), remove_orphans=...,
               no_start=..., pull=..., build=..., renew_anon_volumes=..., timeout=..., wait=...,
               wait_timeout=..., parallel=..., env_files=tuple(global_options.env_files)))
    service.down(project, DownOptions(volumes=v, rmi=rmi, remove_orphans=..., timeout=t))
    service.down(None, DownOptions(...), project_name=name)       # -p NAME without a compose file
    service.stop(project, LifecycleOptions(services=..., timeout=t))   # start/restart/kill/pause/unpause/rm
    service.scale(project, {"web": 3}, no_deps=...); service.pull(project, services)
    service.wait(project, services) -> (container id, code)...    # ``wait``
    service.wait_first_exit(project, services) -> (name, code)    # --abort-on-container-exit
    spec = service.prepare_run(project, RunOptions(...))          # ``run``: deps up, then run ``spec``
    for c in service.ps(project.name, PsOptions(all=a, services=s, status=st)):
        composer.engine.status.ps_record(c)                       # ``ps --format json`` line
    print(service.plan_up(project, options).text())               # ``--dry-run``

Each method raises a ComposerError (PlanError when operations failed, naming each; ``exit_code``
is the CLI's exit code) and otherwise returns what the command prints (``ps``, ``wait``) or the
ExecutionResult. The engine never prints: progress arrives as
:class:`composer.engine.events.Event` through ``emit`` (from the executor's trio loop, in order),
warnings (orphans ...) as ``Status.WARNING`` events. trio is imported only when a plan has work: a
no-change ``up`` costs a lock, one observation and a pure plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

from composer.engine import convert, lifecycle, reconcile
from composer.engine import labels as L
from composer.engine.events import (
    CreatesFirst, Event, EventSink, NetworksFirst, RunningInOrder, Status, WaitWords, discard,
)
from composer.engine.lock import project_lock
from composer.engine.observe import ObservedState, observe
from composer.engine.options import DownOptions, LifecycleOptions, PsOptions, RunOptions, UpOptions
from composer.engine.plan import ExecutionResult, Plan

if TYPE_CHECKING:
    from composer.engine.execute import Builder
    from composer.engine.runtime.base import ContainerSpec, ContainerSummary, Runtime
    from composer.spec.model import Project

__all__ = ["ProjectService", "UpOptions", "DownOptions", "PsOptions", "LifecycleOptions", "RunOptions"]


class ProjectService:
    """The compose commands of one runtime. ``emit`` receives progress events; ``builder``
    builds images (None: services that need a build fail with BuildError)."""

    def __init__(self, runtime: "Runtime", *, emit: EventSink = discard, builder: "Builder | None" = None,
                 lock_timeout: float | None = None) -> None:
        self.runtime = runtime
        self.emit = emit
        self.builder = builder
        self.lock_timeout = lock_timeout

    # --- planning only ---------------------------------------------------------------------------
    def observe(self, project: "Project", services: tuple[str, ...] = ()) -> ObservedState:
        """The project's actual state, with the ids of the images its services use."""
        from composer.engine.images.mountpulls import project_mount_images

        names = tuple(n for n in services or tuple(project.services) if n in project.services)
        refs = [convert.image_reference(project.name, project.services[n]) for n in names]
        placed = [convert.image_reference(project.name, project.services[n]) for n in names
                  if project.services[n].raw.get("platform")]  # (their image's platform is compared)
        return observe(self.runtime, project.name, images=refs + project_mount_images(project, names),
                       platforms=placed)

    def plan_up(self, project: "Project", options: UpOptions = UpOptions()) -> Plan:
        observed = self.observe(project)
        return reconcile.plan_up(project, observed, options)

    def plan_down(self, project: "Project | None", options: DownOptions = DownOptions(),
                  project_name: str | None = None) -> Plan:
        name = project.name if project else project_name
        if not name:
            raise ValueError("plan_down needs a project or a project name")
        return lifecycle.plan_down(project, observe(self.runtime, name), options)

    # --- commands ----------------------------------------------------------------------------------
    def up(self, project: "Project", options: UpOptions = UpOptions()) -> "ExecutionResult":
        """Pull/build what is missing, then converge networks, volumes and containers."""
        with project_lock(project.name, timeout=self.lock_timeout):
            observed = self.observe(project)
            images = reconcile.plan_images(project, observed, options, mounts=True)
            if images:
                self._run(_pulls_shown(images, quiet=options.quiet_pull), options.parallel)
                observed = self.observe(project)
            settled = options._replace(pull="never" if options.pull == "never" else "missing", build=False)
            # images are here now: pull nothing twice (nor again one of another platform: its create says so)
            plan = reconcile.plan_up(project, observed._replace(platforms={}), settled)
            self._warn(plan)  # as Compose: the warnings before the "Running" lines
            chosen = reconcile.select(project, options.services, with_deps=not options.no_deps)
            running = self._running_lines(plan, observed, set(chosen))
            depends = {name: tuple(service.depends_on or {}) for name, service in project.services.items()}
            return self._run(Plan(plan.operations), options.parallel, wait_timeout=options.wait_timeout,
                             running=(running, depends))

    def scale(self, project: "Project", replicas: dict[str, int], *, no_deps: bool = False) -> "ExecutionResult":
        """``scale svc=n ...``: those services to n replicas; their dependencies (unless
        ``no_deps``) back to their configured scale."""
        return self.up(project, UpOptions(services=tuple(replicas), scale=replicas, no_deps=no_deps))

    def create(self, project: "Project", options: UpOptions = UpOptions()) -> "ExecutionResult":
        """``up --no-start``."""
        return self.up(project, options._replace(no_start=True))

    def down(self, project: "Project | None", options: DownOptions = DownOptions(),
             project_name: str | None = None) -> "ExecutionResult":
        """Stop and remove the project's containers (dependents first), networks, and on
        request volumes and images."""
        name = project.name if project else project_name or ""
        with project_lock(name, timeout=self.lock_timeout):
            result = self._run(self.plan_down(project, options, name), options.parallel)
            if options.volumes and not self.runtime.list_containers(L.project_filter(name), all=True):
                from composer.engine.journal import forget

                forget(name)  # gone for good: its event log too (composer.engine.journal)
            return result

    def pull(self, project: "Project", services: tuple[str, ...] = (), *, parallel: int = 0,
             quiet: bool = False) -> "ExecutionResult":
        """``pull``: every service with an ``image:`` (build-only services are skipped); a service
        whose image another pulls is "Skipped" (as Compose); ``quiet``: no layer lines."""
        names = [n for n in reconcile.select(project, services, with_deps=False) if project.services[n].image]
        observed = self.observe(project, tuple(names))
        plan = reconcile.plan_images(project, observed, UpOptions(pull="always"), services=names)
        return self._run(_pulls_shown(plan, skip_shared=True, quiet=quiet), parallel)

    def wait(self, project: "Project", services: tuple[str, ...] = ()) -> Iterator[tuple[str, int]]:
        """``wait``: ``(container id, exit code)`` of each of the services' containers as it stops
        (Compose waits for them all at once and says each as it comes)."""
        from composer.engine.execute import first_exit

        names = set(reconcile.select(project, services, with_deps=False))
        observed = observe(self.runtime, project.name, networks=False, volumes=False)
        waiting = {c.id: c.id for n in sorted(names) for c in observed.service_containers(n)}
        while waiting:
            container_id, code = first_exit(self.runtime, waiting)
            del waiting[container_id]
            yield container_id, code

    def wait_first_exit(self, project: "Project", services: tuple[str, ...] = (),
                        seen: "frozenset[str] | None" = None) -> tuple[str, int]:
        """The first of the services' running containers to stop: ``(name, exit code)``. With
        ``seen`` (the names of those the caller knew ended), one that ended since it looked counts
        at once: an exit between the caller's look and this wait is never missed."""
        from composer.engine.execute import first_exit

        names = reconcile.select(project, services, with_deps=False)
        observed = observe(self.runtime, project.name, networks=False, volumes=False)
        containers = [c for n in names for c in observed.service_containers(n)]
        if seen is not None:
            ended = sorted((c for c in containers if c.state in ("exited", "dead") and c.name not in seen),
                           key=lambda c: c.finished_at)
            if ended:
                return ended[0].name, ended[0].exit_code
        return first_exit(self.runtime, {c.id: c.name for c in containers if c.state == "running"})

    def prepare_run(self, project: "Project", options: RunOptions) -> "ContainerSpec":
        """``run``: bring the service's dependencies up (unless ``no_deps``), ensure its networks,
        volumes and image, and return the one-off container's spec for the CLI to run attached."""
        import secrets

        reconcile.select(project, (options.service,), with_deps=False)
        deps = tuple(reconcile.dependencies(project, options.service))
        images = UpOptions(pull=options.pull, build=options.build, remove_orphans=options.remove_orphans,
                           quiet_pull=options.quiet_pull)
        started = bool(deps) and not options.no_deps
        if started:
            self.up(project, images._replace(services=deps))  # says the orphan warning (or removes them)
        service = project.services[options.service]
        with project_lock(project.name, timeout=self.lock_timeout):
            observed = self.observe(project, (options.service,))
            plan = reconcile.plan_run(project, observed, options.service, images)
            orphans = () if started else reconcile.orphan_warning(project, observed, options.remove_orphans)
            warned = Plan(plan.operations, plan.warnings + orphans)  # as Compose, said once
            self._run(_pulls_shown(warned, quiet=options.quiet_pull), 0)
            observed = self.observe(project, (options.service,))
        raw = project.to_dict()["services"][options.service]
        image_id = observed.images.get(convert.image_reference(project.name, service)) or ""
        return convert.oneoff_spec(project, service, raw, options, slug=secrets.token_hex(32),
                                   config_hash=reconcile.config_hashes(project)[options.service],
                                   image_id=image_id)

    def ps(self, project_name: str, options: PsOptions = PsOptions(),
           project: "Project | None" = None) -> list["ContainerSummary"]:
        """The project's running containers (paused and restarting ones too, as docker lists
        them); with ``all`` every one, one-off (``run``) ones included (as Compose's ``ps``); by name."""
        if project is not None and options.services:
            reconcile.select(project, options.services, with_deps=False)
        found = self.runtime.list_containers(L.project_filter(project_name), all=True)
        return sorted((c for c in found
                       if (options.all or c.state in reconcile.ACTIVE or c.state in options.status)
                       and (options.all or c.labels.get(L.ONEOFF) != "True")
                       and (not options.status or c.state in options.status)
                       and (not options.services or c.labels.get(L.SERVICE) in options.services)),
                      key=lambda c: c.name)

    def start(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("start", project, options)

    def stop(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("stop", project, options)

    def restart(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("restart", project, options)

    def kill(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("kill", project, options)

    def pause(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("pause", project, options)

    def unpause(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("unpause", project, options)

    def rm(self, project: "Project", options: LifecycleOptions = LifecycleOptions()) -> "ExecutionResult":
        return self._lifecycle("rm", project, options)

    # --- helpers --------------------------------------------------------------------------------------
    def _lifecycle(self, verb: str, project: "Project", options: LifecycleOptions) -> "ExecutionResult":
        with project_lock(project.name, timeout=self.lock_timeout):
            observed = observe(self.runtime, project.name, networks=False, volumes=False)
            return self._run(lifecycle.plan_lifecycle(verb, project, observed, options), options.parallel)

    def _running_lines(self, plan: Plan, observed: ObservedState, services: set[str]) -> dict[str, list[str]]:
        """The running containers of ``services`` the plan leaves alone, by service: each gets
        a "Container x  Running" line (as Compose, which names no other service's)."""
        touched = {op.params.get("id") for op in plan}
        running: dict[str, list[str]] = {}
        for container in sorted(observed.containers, key=lambda c: c.name):
            service = container.labels.get(L.SERVICE)
            if container.state == "running" and container.id not in touched \
                    and service in services and container.labels.get(L.ONEOFF) != "True":
                running.setdefault(service, []).append(container.name)
        return running

    def _already_stopped(self, plan: Plan) -> "ExecutionResult":
        """A plan that only stops containers that do not run: Compose's Stopping/Stopped lines
        with no runtime call (stopping them is a no-op) and no executor (no trio import)."""
        from composer.engine.plan import Outcome

        result = ExecutionResult()
        for op in plan:
            for status in (Status.STOPPING, Status.STOPPED):
                self.emit(Event(kind="Container", name=op.params["name"], status=status,
                                duration=0.0 if status is Status.STOPPED else None))
            result.outcomes[op.id] = Outcome("done")
        return result

    def _warn(self, plan: Plan) -> None:
        for warning in plan.warnings:
            self.emit(Event(kind="Project", name="", status=Status.WARNING, text=warning))

    def _run(self, plan: Plan, parallel: int, wait_timeout: float | None = None,
             running: "tuple[dict[str, list[str]], dict[str, tuple[str, ...]]] | None" = None) -> "ExecutionResult":
        """Execute ``plan``; ``running``: up's containers left running, by service, and each
        service's dependencies (their lines are shown in Compose's order: ``RunningInOrder``)."""
        self._warn(plan)
        if not plan:
            if running is not None:
                RunningInOrder(discard, self.emit, running[0], running[1], {}, set()).begin()
            return ExecutionResult()
        if all(op.kind == "stop" and op.params.get("exited") for op in plan):
            return self._already_stopped(plan)
        from composer.engine.execute import execute

        emit, flush = in_compose_order(plan, self.emit, running)
        try:
            result = execute(plan, self.runtime, emit=emit, parallel=parallel, builder=self.builder,
                             wait_timeout=wait_timeout)
        finally:
            flush()
        result.raise_for_failures()
        return result


def _pulls_shown(plan: Plan, **shown: bool) -> Plan:
    """``plan`` with its pulls' lines chosen (``skip_shared``: ``compose pull``'s Skipped lines;
    ``quiet``: no layer lines)."""
    return Plan(tuple(op._replace(params={**op.params, **shown}) if op.kind == "pull" else op for op in plan),
                plan.warnings)


def in_compose_order(plan: Plan, emit: EventSink, running: "tuple[dict, dict] | None" = None
                     ) -> tuple[EventSink, Callable[[], None]]:
    """``emit`` with the lines in Compose's order (networks and volumes first, ``up --wait``'s
    Waiting/Healthy, up's Running lines after their dependencies converged) and what passes the
    events held when the run ends."""
    final = emit
    pending = {(op.resource.split(":", 1)[0].capitalize(), op.params["spec"].name) for op in plan
               if op.kind == "create" and op.resource.startswith(("network:", "volume:"))}
    waits = [op for op in plan if op.kind == "wait" and op.params.get("condition") == "ready"]
    if waits:
        names = _container_names(plan)
        services = {f"service:{op.params['service']}:" for op in waits}
        targets = [*(n for op in waits for n in op.params.get("containers", {}).values()),
                   *(n for r, n in names.items() if r.startswith(tuple(services)))]
        starting = {names[op.resource] for op in plan if op.resource in names and op.resource.startswith(
            tuple(services)) and op.kind in ("create", "recreate", "start") and op.params.get("start", True)}
        awaited = {n for op in plan if op.kind == "wait" and op.params.get("condition") != "ready"
                   for n in [*op.params.get("containers", {}).values(),
                             *(n for r, n in names.items() if r.startswith(f"service:{op.params['service']}:"))]}
        words = WaitWords(emit, list(dict.fromkeys(targets)), starting, awaited)
        emit = words
    flushes: list[Callable[[], None]] = []
    made = {n for names in _created_by_service(plan).values() for n in names}
    if made and any(op.kind == "start" for op in plan):  # (Compose: every container made, then started)
        creates = CreatesFirst(emit, made)
        emit = creates
        flushes.append(creates.flush)
    if running is not None and any(running[0].values()):
        lines = RunningInOrder(emit, final, running[0], running[1], _created_by_service(plan), pending)
        lines.begin()  # (before the Waiting lines)
        emit = lines
        flushes.append(lines.flush)
    if waits:
        words.begin()
    if pending:
        first = NetworksFirst(emit, pending)
        emit = first
        flushes.insert(0, first.flush)

    def flush() -> None:
        for held in flushes:  # (the networks' first: they hold the container lines)
            held()

    return emit, flush


def _created_by_service(plan: Plan) -> dict[str, set[str]]:
    """The containers the plan creates or recreates (Compose's convergence), by service."""
    made: dict[str, set[str]] = {}
    for resource, name in _container_names(plan).items():
        if any(op.resource == resource and op.kind in ("create", "recreate") for op in plan):
            made.setdefault(resource.split(":")[1], set()).add(name)
    return made


def _container_names(plan: Plan) -> dict[str, str]:
    """The name of each container the plan creates, recreates or starts, by resource."""
    names: dict[str, str] = {}
    for op in plan:
        if op.kind == "create" and "spec" in op.params and op.resource.startswith("service:"):
            names[op.resource] = op.params["spec"].name
        elif op.kind in ("recreate", "start") and op.params.get("name"):
            names.setdefault(op.resource, op.params["name"])
    return names
