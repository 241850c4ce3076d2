"""The planner of ``up``: Project + ObservedState + options -> Plan. Pure (no runtime calls, no I/O).

``lifecycle`` plans ``down`` and the other commands with the helpers shared here.

Resources are named ``network:<key>``, ``volume:<key>``, ``image:<reference>``,
``service:<name>:<number>`` (a service's replica) and ``container:<name>`` (one-off and orphan
containers). ``wait service:<name>:healthy|completed`` operations stand for ``depends_on``
conditions; ``service_started`` is an edge to the dependency's own operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, NamedTuple

from composer.engine import convert
from composer.engine import labels as L
from composer.engine.options import UpOptions
from composer.engine.plan import Plan, PlanBuilder
from composer.errors import ImageNotFound, PlanError, SemanticError, UsageError

if TYPE_CHECKING:
    from composer.engine.observe import ObservedState
    from composer.engine.runtime.base import ContainerSpec, ContainerSummary, NetworkSpec, VolumeSpec
    from composer.spec.model import Dependency, Project, Service

WAIT_SUFFIX = {"service_healthy": "healthy", "service_completed_successfully": "completed"}
ACTIVE = ("running", "paused", "restarting")
RECONNECTED = "network recreated"  # the cause of a start on a recreated network


# --- the project's shape -----------------------------------------------------------------------
def depends_on(project: "Project", name: str) -> dict[str, "Dependency"]:
    """``depends_on`` plus the implicit edges Compose adds (``network_mode: service:x``,
    ``volumes_from: x``, ``links``), restricted to the services the project defines."""
    service = project.services[name]
    edges = dict(service.depends_on)
    if service.links or service.volumes_from or (service.network_mode or "").startswith("service:"):
        from composer.spec.model import Dependency

        implicit = [m.split(":", 1)[1] for m in (service.network_mode,) if m and m.startswith("service:")]
        implicit += [v.split(":", 1)[0] for v in service.volumes_from if not v.startswith("container:")]
        implicit += [link.split(":", 1)[0] for link in service.links]
        edges = {**{d: Dependency() for d in implicit}, **edges}
    return {d: dep for d, dep in edges.items() if d in project.services and d != name}


def dependencies(project: "Project", name: str) -> list[str]:
    """The services ``name`` depends on that the project defines."""
    return list(depends_on(project, name))


def start_order(project: "Project", names: Iterable[str] | None = None) -> list[str]:
    """Service names, dependencies first, ties by name (a dependency cycle is a SemanticError)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + (name,)
            raise SemanticError("dependency cycle detected: " + " -> ".join(cycle),
                                hint="remove one of these depends_on edges")
        state[name] = 1
        for dep in sorted(dependencies(project, name)):
            visit(dep, path + (name,))
        state[name] = 2
        order.append(name)

    for name in sorted(project.services if names is None else names):
        visit(name, ())
    wanted = set(project.services if names is None else names)
    return [n for n in order if n in wanted]


def select(project: "Project", services: Iterable[str], *, with_deps: bool) -> list[str]:
    """The services a command acts on (all when none are named), in start order."""
    names = list(services) or list(project.services)
    for name in names:
        if name not in project.services:
            hint = "it is disabled by its profiles" if name in project.disabled_services else \
                "see composer config --services"
            raise UsageError(f"no such service: {name}", hint=hint)
    chosen = set(names)
    stack = list(names) if with_deps else []
    while stack:
        for dep in dependencies(project, stack.pop()):
            if dep not in chosen:
                chosen.add(dep)
                stack.append(dep)
    return start_order(project, chosen)


def check_env_files(project: "Project", services: Iterable[str]) -> None:
    """As Docker Compose, a command creating containers fails when one of its services (or a
    service they depend on, even with ``--no-deps``) has an env_file that cannot be read."""
    if project.env_file_errors:
        project.check_env_files(select(project, services, with_deps=True))


def config_hashes(project: "Project", services: Mapping[str, Mapping] | None = None) -> dict[str, str]:
    """Each service's config hash (the ``com.docker.compose.config-hash`` label): the loader's
    (``Project.config_hashes``, computed as Docker Compose does), else computed from ``services``
    (the canonical service dicts) for a Project built by hand."""
    known = getattr(project, "config_hashes", None)
    if known:
        return dict(known)
    from composer.spec.render import service_hash

    if services is None:
        services = project.to_dict().get("services", {})
    return {name: service_hash(name, dict(raw)) for name, raw in services.items()}


def resource_of(container: "ContainerSummary") -> str:
    service = container.labels.get(L.SERVICE)
    if service and container.labels.get(L.ONEOFF) != "True":
        return f"service:{service}:{L.container_number(container.labels)}"
    return f"container:{container.name}"


def ident(container: "ContainerSummary") -> dict[str, str]:
    return {"id": container.id, "name": container.name}


# --- up ----------------------------------------------------------------------------------------
class _Desired(NamedTuple):
    """Everything ``plan_up`` reads, computed once."""

    project: "Project"
    observed: "ObservedState"
    options: UpOptions
    hashes: Mapping[str, str]
    raw: Mapping[str, Mapping]
    targets: frozenset[str]


def plan_images(project: "Project", observed: "ObservedState", options: UpOptions,
                services: Iterable[str] | None = None, mounts: bool = False) -> Plan:
    """Pull or build what the services need (``observed.images`` holds what is here); with
    ``mounts``, also the missing images their ``type: image`` volumes mount (as up, not pull)."""
    plan = PlanBuilder()
    names = select(project, options.services, with_deps=not options.no_deps) if services is None else services
    for name in names:
        _image_op(plan, project, project.services[name], observed, options)
        if mounts:
            _mount_pulls(plan, project, project.services[name], observed)
    return plan.build()


def _image_op(plan: PlanBuilder, project: "Project", service: "Service", observed: "ObservedState",
              options: UpOptions) -> str | None:
    from composer.engine.fieldcheck import refuse

    refuse(service.raw, service.name)  # gpus, storage_opt, provider ...: before anything is pulled or created
    ref = convert.image_reference(project.name, service)
    if service.build is None and any(s.build is not None and convert.image_reference(project.name, s) == ref
                                     for s in project.services.values()):
        return _image_op(plan, project, _builder_of(project, ref), observed, options)  # built, not pulled
    present = observed.images.get(ref) is not None
    policy = options.pull or service.raw.get("pull_policy") or "missing"
    platform = service.raw.get("platform") or ""
    if present and platform and policy != "never" and service.build is None:
        from composer.engine.images.platforms import runs_on

        present = runs_on(platform, observed.platforms.get(ref, platform))  # another platform's: pulled (Compose)
    if policy not in ("always", "never", "build", "missing", "if_not_present") and present and service.build is None:
        from composer.engine.images.freshness import pull_now  # daily, weekly, every_<duration>: "always" when due

        policy = pull_now(policy, ref, service.raw.get("pull_refresh_after"), path=f"services.{service.name}")
    if policy not in ("always", "never", "build"):
        policy = "missing"  # missing, if_not_present, daily, weekly, every_<duration>
    if service.build is not None and options.no_build and not present:
        return _unbuilt(plan, service, ref)
    if service.build is not None and (options.build or policy == "build" or not present):
        return plan.add("build", f"image:{ref}", "--build" if options.build else "image not found",
                        reference=ref, service=service.name)
    if policy == "always" or (policy in ("missing", "if_not_present") and not present):
        from composer.engine.images.mountpulls import add_pull

        pulled = add_pull(plan, ref, "pull_policy always" if present else "image not found", service.name)
        if platform:
            plan.add("pull", f"image:{ref}", platform=platform)
        return pulled
    if not present and policy == "never":
        raise ImageNotFound(f"service {service.name!r}: image {ref} not found locally and pull policy is never",
                            hint=f"pull it first (composer pull {service.name}) or drop --pull never")
    return None


def _unbuilt(plan: PlanBuilder, service: "Service", ref: str) -> str:
    """``--no-build`` of a missing image that would be built: pulled when the service names it
    (Compose tries), else refused as Compose's create is (before anything is created here)."""
    if not service.image:
        raise ImageNotFound(f"Error response from daemon: No such image: {ref}",
                            hint=f"build it first (composer build {service.name}) or drop --no-build")
    from composer.engine.images.mountpulls import add_pull

    return add_pull(plan, ref, "--no-build: image not found", service.name)


def _mount_pulls(plan: PlanBuilder, project: "Project", service: "Service",
                 observed: "ObservedState") -> tuple[str, ...]:
    from composer.engine.images.mountpulls import plan_mount_pulls

    built = frozenset(convert.image_reference(project.name, s) for s in project.services.values() if s.build)
    return plan_mount_pulls(plan, service, observed, built)


def _builder_of(project: "Project", ref: str) -> "Service":
    return next(s for s in project.services.values()
                if s.build is not None and convert.image_reference(project.name, s) == ref)


def plan_up(project: "Project", observed: "ObservedState", options: UpOptions = UpOptions(),
            hashes: Mapping[str, str] | None = None) -> Plan:
    """Networks and volumes, then every replica created, recreated or started as needed."""
    names = select(project, options.services, with_deps=not options.no_deps)
    check_env_files(project, options.services)
    raw = project.to_dict().get("services", {})
    desired = _Desired(project, observed, options, hashes if hashes is not None else config_hashes(project, raw),
                       raw, frozenset(options.services or names))
    _check_donors(project, observed, names)
    plan = PlanBuilder()
    specs = resource_specs(project)
    observed = _renew_diverged_volumes(plan, project, observed, options, specs)
    desired = desired._replace(observed=observed)
    every = options.all_resources
    networks = tuple(_ensure_networks(plan, project, names, observed, specs, every))
    recreated, stopped = _recreate_diverged_networks(plan, desired, names, specs)
    networks += tuple(recreated.values())
    volumes = tuple(_ensure_volumes(plan, project, names, observed, specs, every))
    ops: dict[str, list[str]] = {}
    for name in names:
        image = _image_op(plan, project, project.services[name], observed, options)
        pulls = _mount_pulls(plan, project, project.services[name], observed)  # its type: image volumes
        ops[name] = _converge_service(plan, desired, name, volumes + ((image,) if image else ()) + pulls, networks)
    _restart_reconnected(plan, stopped, recreated, ops)
    _add_dependency_edges(plan, desired, names, ops)
    for name in names:
        _plan_pre_start(plan, desired, name, ops[name])
    if options.wait and not options.no_start:
        _wait_ready(plan, desired, names, ops)
    _orphans(plan, project, observed, options.remove_orphans)
    attach_hooks(plan, project)
    built = plan.build()
    return Plan(built.operations, warnings=built.warnings + orphan_warning(project, observed, options.remove_orphans))


def plan_run(project: "Project", observed: "ObservedState", name: str, options: UpOptions = UpOptions()) -> Plan:
    """What a one-off container of ``name`` needs first: its networks, volumes and image
    (pulled or built as ``options.pull``/``options.build`` say)."""
    check_env_files(project, [name])
    plan = PlanBuilder()
    specs = resource_specs(project)
    _ensure_networks(plan, project, [name], observed, specs)
    _ensure_volumes(plan, project, [name], observed, specs)
    _image_op(plan, project, project.services[name], observed, options)
    _mount_pulls(plan, project, project.services[name], observed)
    _orphans(plan, project, observed, options.remove_orphans)
    return plan.build()


def _check_donors(project: "Project", observed: "ObservedState", names: list[str]) -> None:
    """With ``--no-deps``, a service sharing another's network or volumes needs its container."""
    chosen = set(names)
    for name in names:
        service = project.services[name]
        mode = service.network_mode or ""
        donors = [(mode.split(":", 1)[1], "network namespace")] if mode.startswith("service:") else []
        donors += [(v.split(":", 1)[0], "volume") for v in service.volumes_from if not v.startswith("container:")]
        for donor, what in donors:
            if donor in project.services and donor not in chosen and not observed.service_containers(donor):
                raise PlanError(f"service {name!r} cannot share {what} with service {donor}: container missing",
                                hint=f"run without --no-deps, or start {donor} first")


def attach_hooks(plan: PlanBuilder, project: "Project | None") -> None:
    """Give starting operations their ``post_start`` hooks, stopping ones their ``pre_stop`` and
    ``stop_grace_period``."""
    if project is None:
        return
    for op_id in plan.ids():
        kind, resource = op_id.split(" ", 1)
        parts = resource.split(":")
        if parts[0] != "service" or parts[1] not in project.services:
            continue
        raw = project.services[parts[1]].raw
        if kind in ("create", "recreate", "start", "restart") and raw.get("post_start"):
            plan.add(kind, resource, post_start=convert.hooks(raw, "post_start"))
        if kind in ("stop", "restart") and raw.get("pre_stop") and not plan.get(op_id).params.get("exited"):
            plan.add(kind, resource, pre_stop=convert.hooks(raw, "pre_stop"))
        if kind == "stop" and raw.get("stop_grace_period"):
            plan.add(kind, resource, grace=convert.seconds(raw["stop_grace_period"], 10.0))


def resource_specs(project: "Project") -> dict[str, "NetworkSpec | VolumeSpec"]:
    """The spec of each network and volume the project makes (not external), by ``network:<key>``
    and ``volume:<key>``: their config hashes are computed once per plan."""
    specs: dict[str, NetworkSpec | VolumeSpec] = {
        f"network:{k}": convert.network_spec(project, k) for k, v in project.networks.items() if not v.get("external")}
    specs.update((f"volume:{k}", convert.volume_spec(project, k))
                 for k, v in project.volumes.items() if not v.get("external"))
    return specs


def _ensure_networks(plan: PlanBuilder, project: "Project", names: list[str], observed: "ObservedState",
                     specs: Mapping[str, "NetworkSpec | VolumeSpec"], every: bool = False) -> list[str]:
    from composer.engine.fieldcheck import refuse_network

    ids = []
    for key in sorted(_used_networks(project, names, every) & set(project.networks)):
        if project.networks[key].get("external"):
            continue
        refuse_network(project.networks[key], key)  # enable_ipv4: false
        spec = specs[f"network:{key}"]
        if spec.name in observed.other_networks:
            plan.warnings.append(f"a network with name {spec.name} exists but was not created for this project; "
                                 f"set `external: true` to use an existing network")
        elif observed.network(spec.name) is None:
            ids.append(plan.add("create", f"network:{key}", "not found", spec=spec))
    return ids


def _recreate_diverged_networks(plan: PlanBuilder, desired: _Desired, names: list[str],
                                specs: Mapping[str, "NetworkSpec | VolumeSpec"]
                                ) -> tuple[dict[str, str], dict[str, "ContainerSummary"]]:
    """Networks whose config-hash label differs from the file's (compose's NetworkConfigChanged):
    the project's service containers on one are stopped, the network removed and created again;
    the containers keep their identity (a container joins its networks, by name, when it starts:
    ``_restart_reconnected`` starts them again). The create operation of each network by key, and
    the containers stopped, by resource."""
    project, observed, options = desired.project, desired.observed, desired.options
    created: dict[str, str] = {}
    stopped: dict[str, "ContainerSummary"] = {}
    for key in sorted(_used_networks(project, names, options.all_resources) & set(project.networks)):
        spec = specs.get(f"network:{key}")
        live = observed.network(spec.name) if spec is not None else None
        if live is None:  # external, or to be created
            continue
        if live.labels.get(L.NETWORK) != key:
            raise PlanError(f'network {spec.name} was found but has incorrect label {L.NETWORK} set to '
                            f'"{live.labels.get(L.NETWORK, "")}" (expected: "{key}")',
                            hint=f"remove it (composer network rm {spec.name}) or declare it external")
        found = live.labels.get(L.CONFIG_HASH)
        if not found or found == spec.labels[L.CONFIG_HASH]:
            continue
        users = [c for c in observed.containers if _on_network(project, c, key) and c.state in ACTIVE]
        _refuse_one_offs(spec.name, users)
        cause = f"network {key} config changed"
        stops = tuple(plan.add("stop", resource_of(c), cause, timeout=options.timeout, **ident(c)) for c in users)
        stopped.update((resource_of(c), c) for c in users)
        removed = plan.add("remove", f"network:{key}", "config hash diverged", needs=stops, name=spec.name)
        created[key] = plan.add("create", f"network:{key}", "recreate after config change", needs=(removed,), spec=spec)
    return created, stopped


def _refuse_one_offs(network: str, users: list["ContainerSummary"]) -> None:
    """A running one-off container keeps a network from being removed: refused before anything
    is stopped (Compose tries, and fails on the removal)."""
    one_offs = sorted(c.name for c in users if c.labels.get(L.ONEOFF) == "True")
    if one_offs:
        raise PlanError(f"network {network} must be recreated (its configuration changed), but one-off "
                        f"container(s) {', '.join(one_offs)} still use it",
                        hint=f"stop them first (composer stop {' '.join(one_offs)}), then run up again")


def _restart_reconnected(plan: PlanBuilder, stopped: Mapping[str, "ContainerSummary"],
                         recreated: Mapping[str, str], ops: dict[str, list[str]]) -> None:
    """Start again, on the networks made anew, the containers stopped for them (those not
    recreated or removed by the rest of the plan). As Compose, a network that cannot be removed
    (another project's container still on it) fails ``up`` and leaves them stopped."""
    creates = tuple(recreated.values())
    for resource, container in stopped.items():
        if f"recreate {resource}" in plan or f"remove container:{container.name}" in plan:
            continue
        service = container.labels.get(L.SERVICE, "")
        started = plan.add("start", resource, RECONNECTED, needs=creates, **ident(container))
        ops.setdefault(service, []).append(started)


def _used_networks(project: "Project", names: list[str], every: bool) -> set[str]:
    """The network keys the services ``names`` join (every declared one with ``every``)."""
    return {n for s in names for n in (project.services[s].networks or {})
            if not project.services[s].network_mode} | (set(project.networks) if every else set())


def _on_network(project: "Project", container: "ContainerSummary", key: str) -> bool:
    """Whether a service container of the project joins network ``key`` (one-offs count too)."""
    service = project.services.get(container.labels.get(L.SERVICE, ""))
    return service is not None and not service.network_mode and key in (service.networks or {})


def _renew_diverged_volumes(plan: PlanBuilder, project: "Project", observed: "ObservedState",
                            options: UpOptions, specs: Mapping[str, "NetworkSpec | VolumeSpec"]) -> "ObservedState":
    """Volumes whose config-hash label differs from the file's: when ``-y`` or ``options.confirm``
    (Compose's prompt) says yes, the containers using one are removed, then the volume (its data is
    lost), which is made again; otherwise it is kept, with a warning. The observed state returned
    lacks what goes, so the containers are planned anew."""
    gone: set[str] = set()
    for key in sorted(k for k, v in project.volumes.items() if not v.get("external")):
        spec = specs[f"volume:{key}"]
        live = observed.volume(spec.name)
        found = live.labels.get(L.CONFIG_HASH) if live is not None else None
        if not found or found == spec.labels[L.CONFIG_HASH]:  # no hash: made elsewhere, left alone (as compose)
            continue
        question = (f'Volume "{spec.name}" exists but doesn\'t match configuration in compose file. '
                    "Recreate (data will be lost)?")
        if not (options.assume_yes or (options.confirm is not None and options.confirm(question))):
            plan.warnings.append(f"volume {spec.name} kept: it doesn't match the configuration in the compose "
                                 "file; `up -y` recreates it (data will be lost)")
            continue
        users = [c for c in observed.containers if spec.name in c.mounts]
        removals = tuple(_remove(plan, c, f"volume {spec.name} recreated") for c in users)
        dropped = plan.add("remove", f"volume:{key}", "definition changed", needs=removals, name=spec.name)
        plan.add("create", f"volume:{key}", "definition changed", needs=(dropped,), spec=spec)
        gone |= {spec.name} | {c.id for c in users}
    if not gone:
        return observed
    return observed._replace(containers=tuple(c for c in observed.containers if c.id not in gone), by_service=None,
                             volumes=tuple(v for v in observed.volumes if v.name not in gone))


def _ensure_volumes(plan: PlanBuilder, project: "Project", names: list[str], observed: "ObservedState",
                    specs: Mapping[str, "NetworkSpec | VolumeSpec"], every: bool = False) -> list[str]:
    used = {v.get("source") for s in names for v in project.services[s].volumes if v.get("type") == "volume"}
    used |= set(project.volumes) if every else set()
    from composer.engine.fieldcheck import refuse_volume

    ids = []
    for key in sorted(k for k in used if k in project.volumes):
        if project.volumes[key].get("external"):
            continue
        spec = specs[f"volume:{key}"]
        refuse_volume(project.volumes[key], key, spec.name)  # driver_opts
        if spec.name in observed.other_volumes:
            plan.warnings.append(f"volume {spec.name!r} already exists but was not created for this project; "
                                 f"set `external: true` to use an existing volume")
        elif observed.volume(spec.name) is None:
            ids.append(plan.add("create", f"volume:{key}", "not found", spec=spec))
    return ids


def _converge_service(plan: PlanBuilder, desired: _Desired, name: str, needs: tuple[str, ...],
                      networks: tuple[str, ...] = ()) -> list[str]:
    """The operations that bring one service's replicas to the wanted number and config. A new
    container is created while its ``networks`` are being created (only its start joins them)."""
    project, options = desired.project, desired.options
    service = project.services[name]
    count = convert.replicas(service, options.scale)
    by_number, ops = _by_number(plan, desired, service)
    needs = needs + tuple(ops)  # a duplicate must be gone before its name is reused
    if len(by_number) > count:  # as compose: obsolete replicas go first, then the highest numbers
        stale_first = sorted(by_number, key=lambda n: (_recreate_cause(plan, desired, name, by_number[n]) is None, -n))
        for number in stale_first[:len(by_number) - count]:
            ops.append(_remove(plan, by_number.pop(number), f"scale {len(by_number) + 1} -> {count}"))
    for number, container in sorted(by_number.items()):
        ops += _converge_container(plan, desired, name, number, container, needs + networks)
    free = [n for n in range(1, count + len(by_number) + 1) if n not in by_number][:count - len(by_number)]
    for number in free:
        cause = "no container" if not by_number else f"scale {len(by_number)} -> {count}"
        ops.append(plan.add("create", f"service:{name}:{number}", cause, needs=needs,
                            spec=_spec(desired, name, number), start=False))
        if not options.no_start:
            ops.append(plan.add("start", f"service:{name}:{number}", "created", needs=(ops[-1], *networks)))
    return ops


def _by_number(plan: PlanBuilder, desired: _Desired, service: "Service") -> tuple[dict[int, "ContainerSummary"], list[str]]:
    """One container per number (the one with the canonical name, else the newest); the others
    (left by an interrupted recreate) are removed."""
    groups: dict[int, list["ContainerSummary"]] = {}
    for container in desired.observed.service_containers(service.name):
        groups.setdefault(L.container_number(container.labels), []).append(container)
    kept: dict[int, "ContainerSummary"] = {}
    removals: list[str] = []
    for number, group in sorted(groups.items()):
        canonical = convert.container_name(desired.project.name, service, number)
        group.sort(key=lambda c: (c.name != canonical, -c.created))
        if number >= 1:
            kept[number] = group.pop(0)
        removals += [_remove(plan, c, f"duplicate container-number {number}") for c in group]
    return kept, removals


def _remove(plan: PlanBuilder, container: "ContainerSummary", cause: str) -> str:
    resource = f"container:{container.name}"
    needs: tuple[str, ...] = ()
    if container.state in ACTIVE:
        needs = (plan.add("stop", resource, cause, **ident(container)),)
    return plan.add("remove", resource, cause, needs=needs, force=True, volumes=False, **ident(container))


def _recreate_cause(plan: PlanBuilder, desired: _Desired, name: str, container: "ContainerSummary") -> str | None:
    options = desired.options
    if options.recreate == "never":
        return None
    if name not in desired.targets and options.always_recreate_deps:
        return "--always-recreate-deps"
    if options.recreate == "force" and name in desired.targets:
        return "--force-recreate"
    if options.renew_anon_volumes:
        return "--renew-anon-volumes"
    if container.labels.get(L.CONFIG_HASH) != desired.hashes.get(name):
        return "config hash diverged"
    service = desired.project.services[name]
    mode = desired.project.services[name].network_mode or ""
    if mode.startswith("service:") and plan.ids("recreate", f"service:{mode.split(':', 1)[1]}:"):
        return f"network namespace of {mode.split(':', 1)[1]} recreated"
    if container.name != convert.container_name(desired.project.name, service, L.container_number(container.labels)):
        return "container renamed"
    ref = convert.image_reference(desired.project.name, desired.project.services[name])
    image_id = desired.observed.images.get(ref)
    if image_id and container.labels.get(L.IMAGE) not in (None, "", image_id):
        return "image changed"
    return None


def _converge_container(plan: PlanBuilder, desired: _Desired, name: str, number: int,
                        container: "ContainerSummary", needs: tuple[str, ...]) -> list[str]:
    """Recreate (then start) a diverged replica, start a stopped one, or nothing."""
    resource = f"service:{name}:{number}"
    start = not desired.options.no_start
    cause = _recreate_cause(plan, desired, name, container)
    if cause:
        recreate = plan.add("recreate", resource, cause, needs=needs, spec=_spec(desired, name, number),
                            start=False, timeout=desired.options.timeout,
                            inherit_volumes=not desired.options.renew_anon_volumes, **ident(container))
        return [recreate, plan.add("start", resource, "recreated", needs=(recreate,))] if start else [recreate]
    if start and container.state not in ACTIVE:
        return [plan.add("start", resource, f"container {container.state}", needs=needs, **ident(container))]
    return []


def _spec(desired: _Desired, name: str, number: int) -> "ContainerSpec":
    project = desired.project
    service = project.services[name]
    image_id = desired.observed.images.get(convert.image_reference(project.name, service)) or ""
    return convert.container_spec(project, service, desired.raw.get(name, {}), number=number,
                                  config_hash=desired.hashes.get(name, ""), image_id=image_id,
                                  env_files=desired.options.env_files)


def _plan_pre_start(plan: PlanBuilder, desired: _Desired, name: str, ops: list[str]) -> None:
    """A service's ``pre_start`` hooks as one operation before all its starts, when every
    replica is being started (none stays running: see ``composer.engine.prestart``)."""
    raw = desired.raw.get(name, {})
    if not raw.get("pre_start"):
        return
    starts = sorted((o for o in ops if o.startswith("start ") and plan.get(o).cause != RECONNECTED),
                    key=lambda o: int(o.rsplit(":", 1)[1]))  # a container started again on a new network: no hooks
    if not starts or len(starts) < convert.replicas(desired.project.services[name], desired.options.scale):
        return
    from composer.engine.prestart import pre_start_hooks

    resource = starts[0].split(" ", 1)[1]
    number = int(resource.rsplit(":", 1)[1])
    existing = next((c for c in desired.observed.service_containers(name)
                     if L.container_number(c.labels) == number), None)
    made = plan.ids("create", resource) + plan.ids("recreate", resource)
    params = {"id": existing.id} if existing is not None and not made else {}
    needs = tuple(n for s in starts for n in plan.needs_of(s))
    hook = plan.add("pre-start", f"service:{name}", "pre_start hooks", needs=needs, replica=resource,
                    spec=_spec(desired, name, number), hooks=pre_start_hooks({"name": name, **raw}), **params)
    for start in starts:
        plan.add("start", start.split(" ", 1)[1], needs=(hook,))


def _add_dependency_edges(plan: PlanBuilder, desired: _Desired, names: list[str],
                          ops: dict[str, list[str]]) -> None:
    """Make each service's starting operations wait for its ``depends_on`` conditions."""
    project, observed = desired.project, desired.observed
    for name in names:
        creating = [o for o in ops[name] if o.startswith(("create ", "recreate "))]
        starting = [o for o in ops[name] if o.startswith("start ")] + _restarts_for(plan, desired, name, ops)
        for dep_name, dep in depends_on(project, name).items():
            if dep_name in ops and creating:  # created after what it depends on
                add_edges(plan, creating, tuple(o for o in ops[dep_name] if o.startswith(("create ", "recreate "))),
                          dep.required)
        if not desired.options.no_start and convert.replicas(project.services[name], desired.options.scale):
            wait_for_dependencies(plan, project, observed, name, starting, ops)


def wait_for_dependencies(plan: PlanBuilder, project: "Project", observed: "ObservedState", name: str,
                          starting: list[str], ops: dict[str, list[str]]) -> None:
    """Compose's ``startService``: ``starting`` (the service's starts) wait for its ``depends_on``
    conditions. A service with nothing to start waits for its healthy/completed conditions all
    the same (Compose's ``db Waiting``/``Healthy`` on a no-change ``up``): those waits join
    ``ops[name]``, so what depends on the service waits for them in turn."""
    for dep_name, dep in depends_on(project, name).items():
        if dep_name not in ops:
            continue
        if starting:
            add_edges(plan, starting, gate(plan, dep_name, dep.condition, ops[dep_name], observed), dep.required)
        elif dep.condition in WAIT_SUFFIX and dep.required:
            ops[name] += gate(plan, dep_name, dep.condition, ops[dep_name], observed)


def add_edges(plan: PlanBuilder, op_ids: list[str], after: tuple[str, ...], required: bool) -> None:
    for op_id in op_ids:
        plan.add(*op_id.split(" ", 1), needs=after if required else (), wants=() if required else after)


def gate(plan: PlanBuilder, dep_name: str, condition: str, dep_ops: list[str],
          observed: "ObservedState") -> tuple[str, ...]:
    """The operation ids a dependent must wait for under ``condition``."""
    suffix = WAIT_SUFFIX.get(condition)
    if suffix is None:
        return tuple(o for o in dep_ops if not o.startswith(("stop ", "remove ")))
    found = observed.service_containers(dep_name)
    return (plan.add("wait", f"service:{dep_name}:{suffix}", condition, needs=tuple(dep_ops),
                     service=dep_name, condition=condition, containers={c.id: c.name for c in found},
                     met=already_met(plan, condition, found, list(dep_ops))),)


def already_met(plan: PlanBuilder, condition: str, containers: list[ContainerSummary], dep_ops: list[str],
                may_exit: bool = False) -> dict[str, str]:
    """The end of a wait whose ``condition`` holds already, each container's name -> the status its
    wait would end with, when nothing in the plan changes that (the service's own operations are
    only waits met as well); ``{}`` otherwise. Held: every container healthy (``service_healthy``),
    exited 0 (``service_completed_successfully``, and ``up --wait``'s one-shots: ``may_exit``), or
    running, healthy or without a healthcheck (``ready``). Its handler then says so without
    waiting and without the loop: a no-change ``up`` of a stack with healthchecks imports no trio."""
    def end(c: ContainerSummary) -> str | None:
        if c.state == "exited" and c.exit_code == 0 and (may_exit or condition == "service_completed_successfully"):
            return "Exited"
        if c.state != "running" or condition == "service_completed_successfully":
            return None
        if c.health == "healthy":
            return "Healthy"
        return "Running" if condition == "ready" and c.health == "none" else None

    ends = {c.name: end(c) for c in containers}
    if not ends or None in ends.values() or not all(
            op_id in plan and plan.get(op_id).kind == "wait" and plan.get(op_id).params.get("met") for op_id in dep_ops):
        return {}
    return ends  # type: ignore[return-value]


def _wait_ready(plan: PlanBuilder, desired: _Desired, names: list[str], ops: dict[str, list[str]]) -> None:
    """``up --wait``: every service running (healthy when it has a healthcheck); one-shot
    services others wait on with ``service_completed_successfully`` may have exited 0."""
    project = desired.project
    one_shots = {d for s in project.services for d, dep in depends_on(project, s).items()
                 if dep.condition == "service_completed_successfully"}
    for name in names:
        found = desired.observed.service_containers(name)
        plan.add("wait", f"service:{name}:ready", "--wait",
                 needs=tuple(ops[name]), service=name, condition="ready", containers={c.id: c.name for c in found},
                 may_exit=name in one_shots, met=already_met(plan, "ready", found, ops[name], name in one_shots))


def _restarts_for(plan: PlanBuilder, desired: _Desired, name: str, ops: dict[str, list[str]]) -> list[str]:
    """``depends_on.restart: true``: restart running replicas whose dependency is recreated."""
    recreated = [d for d, dep in depends_on(desired.project, name).items()
                 if dep.restart and any(o.startswith("recreate ") for o in ops.get(d, ()))]
    if not recreated or desired.options.no_start:
        return []
    touched = {o.split(" ", 1)[1] for o in ops[name]}
    result = []
    for container in desired.observed.service_containers(name):
        resource = f"service:{name}:{L.container_number(container.labels)}"
        if resource not in touched and container.state == "running":
            result.append(plan.add("restart", resource, f"dependency {recreated[0]} recreated",
                                   timeout=desired.options.timeout, **ident(container)))
    ops[name].extend(result)
    return result


def _orphans(plan: PlanBuilder, project: "Project", observed: "ObservedState", remove: bool) -> None:
    if remove:
        for container in observed.orphans([*project.services, *project.disabled_services]):
            _remove(plan, container, "orphan")


def orphan_warning(project: "Project", observed: "ObservedState", remove: bool) -> tuple[str, ...]:
    """Compose's words about containers of services the file no longer has, finished one-offs."""
    orphans = observed.orphans([*project.services, *project.disabled_services])
    if remove or not orphans:
        return ()
    names = " ".join(c.name for c in orphans)  # as Go prints a slice: [a b]
    return (f"Found orphan containers ([{names}]) for this project. If you removed or renamed this "
            "service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",)
