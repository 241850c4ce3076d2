"""Service + project -> ContainerSpec: what Compose passes to docker's create API.

Pure functions over the canonical service dict (``Project.to_dict()["services"][name]``, long
syntax everywhere). Names follow Compose: ``<project>-<service>-<n>`` (or ``container_name``),
named volumes and networks by their real names (``<project>_<key>`` unless ``name:`` says otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from composer.engine import labels as L
from composer.engine.runtime.base import (
    ContainerSpec, EndpointSpec, HealthSpec, HookSpec, MountSpec, NetworkSpec, PortSpec, ResourceSpec,
    RestartPolicy, VolumeSpec,
)
from composer.errors import PlanError, SourceLocation

if TYPE_CHECKING:
    from composer.engine.options import RunOptions
    from composer.spec.model import Project, Service

NS = 10**9


def container_name(project: str, service: "Service", number: int) -> str:
    """``container_name`` if set, else ``<project>-<service>-<number>`` (Compose v2's separator)."""
    return service.container_name or f"{project}-{service.name}-{number}"


def image_reference(project: str, service: "Service") -> str:
    """The image a service runs: ``image:`` or, for a build-only service, ``<project>-<service>``."""
    return service.image or f"{project}-{service.name}"


def seconds(value: Any, default: float) -> float:
    """A Compose duration in seconds (``default`` when unset)."""
    from composer.spec.dump import parse_duration

    return default if value is None else parse_duration(value) / NS


def healthcheck(raw: Mapping[str, Any] | None, service: str = "") -> HealthSpec | None:
    """The healthcheck, None when absent or disabled (``disable: true`` / ``test: [NONE]``)."""
    if not raw or raw.get("disable") or not raw.get("test") or raw["test"][0] == "NONE":
        return None
    if raw.get("start_interval") is not None and raw.get("start_period") is None:
        raise PlanError("healthcheck.start_interval requires healthcheck.start_period to be set",
                        location=SourceLocation(path=f"services.{service}.healthcheck"),
                        hint="add start_period (the time start_interval applies to)")
    return HealthSpec(
        test=tuple(raw["test"]), interval=seconds(raw.get("interval"), 30.0),
        timeout=seconds(raw.get("timeout"), 30.0), retries=int(raw.get("retries", 3)),
        start_period=seconds(raw.get("start_period"), 0.0),
        start_interval=seconds(raw.get("start_interval"), 5.0),
    )


def restart_policy(raw: Mapping[str, Any]) -> RestartPolicy:
    """``restart:`` (``on-failure:3``), else ``deploy.restart_policy``, else ``no``."""
    text = raw.get("restart")
    if not text:
        policy = (raw.get("deploy") or {}).get("restart_policy") or {}
        condition = {"any": "always", "on-failure": "on-failure"}.get(policy.get("condition", ""), "no")
        return RestartPolicy(name=condition, max_retries=int(policy.get("max_attempts") or 0))
    name, _, retries = str(text).partition(":")
    return RestartPolicy(name=name, max_retries=int(retries or 0))


def resources(raw: Mapping[str, Any]) -> ResourceSpec:
    """Limits from ``mem_limit``/``cpus``/... and, where those are unset, ``deploy.resources``."""
    from composer.engine.runtime.blkiothrottle import compose_limits
    from composer.spec.dump import parse_bytes

    deploy = (raw.get("deploy") or {}).get("resources") or {}
    limits, reservations = deploy.get("limits") or {}, deploy.get("reservations") or {}
    memory = raw.get("mem_limit") or limits.get("memory") or 0
    cpus = raw.get("cpus") or limits.get("cpus") or 0
    return ResourceSpec(
        memory=parse_bytes(memory) if memory else 0,
        memory_reservation=parse_bytes(raw.get("mem_reservation") or reservations.get("memory") or 0),
        memory_swap=int(raw.get("memswap_limit") or 0),
        nano_cpus=int(round(float(cpus) * NS)),
        cpu_shares=int(raw.get("cpu_shares") or 0),
        cpuset_cpus=str(raw.get("cpuset") or ""),
        pids_limit=int(raw.get("pids_limit") or limits.get("pids") or 0),
        cpu_period=int(raw.get("cpu_period") or 0), cpu_quota=int(raw.get("cpu_quota") or 0),
        cpu_rt_period=int(raw.get("cpu_rt_period") or 0), cpu_rt_runtime=int(raw.get("cpu_rt_runtime") or 0),
        blkio_weight=int((raw.get("blkio_config") or {}).get("weight") or 0),
        memory_swappiness=-1 if raw.get("mem_swappiness") is None else int(raw["mem_swappiness"]),
        oom_kill_disable=bool(raw.get("oom_kill_disable")), blkio_throttle=compose_limits(raw.get("blkio_config")),
    )


def mounts(project: "Project", raw: Mapping[str, Any]) -> tuple[MountSpec, ...]:
    """Volumes (named ones by real name, anonymous ones with an empty source), binds, tmpfs."""
    result = []
    for volume in raw.get("volumes") or ():
        source = volume.get("source", "")
        if volume["type"] == "volume" and source:
            source = (project.volumes.get(source) or {}).get("name") or f"{project.name}_{source}"
        options = volume.get(volume["type"], {"create_host_path": True} if volume["type"] == "bind" else None) or {}
        result.append(MountSpec(type=volume["type"], target=volume["target"], source=source,
                                read_only=bool(volume.get("read_only")), options=dict(options)))
    for target in raw.get("tmpfs") or ():
        path, _, opts = str(target).partition(":")
        result.append(MountSpec(type="tmpfs", target=path, options={"options": opts} if opts else {}))
    return tuple(result)


def file_mounts(project: "Project", raw: Mapping[str, Any], service: str) -> tuple[MountSpec, ...]:
    """``secrets`` (under /run/secrets) and ``configs`` (under /): a file-based one is a
    read-only bind; an ``environment``/``content`` one a ``content`` mount the runtime writes."""
    result = []
    for key, base in (("secrets", "/run/secrets/"), ("configs", "/")):
        declared = getattr(project, key)
        for ref in raw.get(key) or ():
            source = ref["source"]
            target = ref.get("target") or source
            target = target if target.startswith("/") else base + target
            definition = declared.get(source) or {}
            if definition.get("file"):
                result.append(MountSpec(type="bind", source=definition["file"], target=target, read_only=True))
                continue
            content = definition.get("content")
            if definition.get("environment"):
                content = project.environment.get(definition["environment"])
            if content is None:
                raise PlanError(f"service {service!r}: {key[:-1]} {source!r} has no content",
                                location=SourceLocation(path=f"{key}.{source}"),
                                hint="set its file, content, or the environment variable it names")
            options = {"content": content, **{k: ref[k] for k in ("mode", "uid", "gid") if k in ref}}
            result.append(MountSpec(type="content", target=target, read_only=True, options=options))
    return tuple(result)


def endpoints(project: "Project", raw: Mapping[str, Any], name: str) -> tuple[EndpointSpec, ...]:
    """One endpoint per network, highest priority first; aliases: the service name, the
    container name and the configured ones (the runtime adds the short container id)."""
    if raw.get("network_mode"):
        return ()
    result = []
    for key, settings in (raw.get("networks") or {}).items():
        settings = settings or {}
        real = (project.networks.get(key) or {}).get("name") or f"{project.name}_{key}"
        aliases = tuple(dict.fromkeys((raw["_service"], name, *(settings.get("aliases") or ()))))
        result.append(EndpointSpec(
            network=real, aliases=aliases, ipv4_address=settings.get("ipv4_address"),
            ipv6_address=settings.get("ipv6_address"), mac_address=settings.get("mac_address"),
            priority=int(settings.get("priority") or 0),
            links=tuple(raw.get("links") or ()) + tuple(raw.get("external_links") or ()),  # CONTAINER:ALIAS
            link_local_ips=tuple(settings.get("link_local_ips") or ()), interface_name=settings.get("interface_name")))
    result.sort(key=lambda e: (-e.priority, e.network))
    if raw.get("mac_address") and result and not result[0].mac_address:  # the service's: its first network's
        result[0] = result[0]._replace(mac_address=raw["mac_address"])
    return tuple(result)


def ports(raw: Mapping[str, Any]) -> tuple[PortSpec, ...]:
    return tuple(PortSpec(target=int(p["target"]), published=str(p.get("published") or ""),
                          host_ip=p.get("host_ip") or "", protocol=p.get("protocol") or "tcp")
                 for p in raw.get("ports") or ())


def environment(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """``KEY=value`` pairs; variables left unresolved (None) are not passed, as Compose."""
    return tuple(f"{k}={v}" for k, v in (raw.get("environment") or {}).items() if v is not None)


def ulimits(raw: Mapping[str, Any]) -> tuple[tuple[str, int, int], ...]:
    result = []
    for name, value in (raw.get("ulimits") or {}).items():
        soft, hard = (value, value) if isinstance(value, int) else (value["soft"], value["hard"])
        result.append((name, int(soft), int(hard)))
    return tuple(result)


def _donor(project: "Project", name: str) -> str:
    """The container another service shares from: its first replica's name."""
    service = project.services.get(name)
    return container_name(project.name, service, 1) if service else f"{project.name}-{name}-1"


def network_mode(project: "Project", raw: Mapping[str, Any]) -> str:
    """``service:db`` becomes ``container:<db's first container>`` (the runtime resolves it)."""
    return shared_mode(project, raw.get("network_mode") or "")


def shared_mode(project: "Project", mode: str) -> str:
    """A namespace mode (network_mode, pid, ipc) with ``service:db`` as ``container:<db's first container>``."""
    if mode.startswith("service:"):
        return f"container:{_donor(project, mode.split(':', 1)[1])}"
    return mode


def volumes_from(project: "Project", raw: Mapping[str, Any]) -> tuple[str, ...]:
    """``volumes_from`` as container names with their mode: ``db:ro`` -> ``<db's container>:ro``."""
    result = []
    for entry in raw.get("volumes_from") or ():
        if entry.startswith("container:"):
            result.append(entry.split(":", 1)[1])
            continue
        name, _, mode = entry.partition(":")
        result.append(_donor(project, name) + (f":{mode}" if mode else ""))
    return tuple(result)


def container_spec(project: "Project", service: "Service", raw: Mapping[str, Any], *, number: int,
                   config_hash: str, image_id: str, env_files: tuple[str, ...] = ()) -> ContainerSpec:
    """The ContainerSpec of replica ``number`` of ``service`` (``raw``: its canonical dict)."""
    from composer.engine.fieldcheck import check_fields
    from composer.spec.dump import parse_bytes

    name = container_name(project.name, service, number)
    raw = {**raw, "_service": service.name}
    labels = L.container_labels(project, service, number=number, config_hash=config_hash,
                                image_id=image_id, env_files=env_files)
    return ContainerSpec(
        name=name, image=image_reference(project.name, service), platform=raw.get("platform") or "",
        labels=labels, env=environment(raw),
        entrypoint=_args(raw.get("entrypoint")), command=_args(raw.get("command")),
        working_dir=raw.get("working_dir") or "", user=raw.get("user") or "",
        hostname=raw.get("hostname") or "", domainname=raw.get("domainname") or "",
        mounts=mounts(project, raw) + file_mounts(project, raw, service.name), volumes_from=volumes_from(project, raw),
        network_mode=network_mode(project, raw),
        endpoints=endpoints(project, raw, name), ports=ports(raw),
        healthcheck=healthcheck(raw.get("healthcheck"), service.name), restart=restart_policy(raw),
        resources=resources(raw), stop_signal=raw.get("stop_signal") or "",  # "": the image's STOPSIGNAL
        stop_grace_period=seconds(raw.get("stop_grace_period"), 10.0), init=bool(raw.get("init")),
        tty=bool(raw.get("tty")), stdin_open=bool(raw.get("stdin_open")),
        privileged=bool(raw.get("privileged")), read_only=bool(raw.get("read_only")),
        cap_add=tuple(raw.get("cap_add") or ()), cap_drop=tuple(raw.get("cap_drop") or ()),
        security_opt=tuple(raw.get("security_opt") or ()), sysctls=dict(raw.get("sysctls") or {}),
        ulimits=ulimits(raw), extra_hosts=tuple(raw.get("extra_hosts") or ()),
        dns=tuple(raw.get("dns") or ()), dns_search=tuple(raw.get("dns_search") or ()),
        dns_opt=tuple(raw.get("dns_opt") or ()),
        shm_size=parse_bytes(raw["shm_size"]) if raw.get("shm_size") else 0,
        pid=shared_mode(project, raw.get("pid") or ""), ipc=shared_mode(project, raw.get("ipc") or ""),
        group_add=tuple(map(str, raw.get("group_add") or ())),
        devices=tuple(":".join(str(d[k]) for k in ("source", "target", "permissions") if d.get(k))
                      if isinstance(d, Mapping) else str(d) for d in raw.get("devices") or ()),
        expose=tuple(e if "/" in str(e) else f"{e}/tcp" for e in map(str, raw.get("expose") or ())),
        oom_score_adj=raw.get("oom_score_adj"), cgroup_parent=raw.get("cgroup_parent") or "",
        userns_mode=raw.get("userns_mode") or "", uts=raw.get("uts") or "",
        log_driver=(raw.get("logging") or {}).get("driver") or "",
        log_options=dict((raw.get("logging") or {}).get("options") or {}),
        cgroupns=raw.get("cgroup") or "", warnings=check_fields(raw, service.name),
        device_cgroup_rules=tuple(raw.get("device_cgroup_rules") or ()),
        annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
    )


def _args(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _resource_hash(project: "Project", kind: str, key: str) -> str:
    """A network's or volume's config hash: the project's (computed once, or cached with its
    load), else computed here (a Project made without them)."""
    known = project.resource_hashes.get(f"{kind}:{key}")
    if known:
        return known
    from composer.spec.model import resource_hash

    return resource_hash(project.name, kind, key, getattr(project, f"{kind}s")[key])


def network_spec(project: "Project", key: str) -> NetworkSpec:
    """The NetworkSpec of a (non-external) project network."""
    raw = project.networks[key]
    name = raw.get("name") or f"{project.name}_{key}"
    labels = L.network_labels(project.name, key, raw.get("labels"))
    labels[L.CONFIG_HASH] = _resource_hash(project, "network", key)
    return NetworkSpec(
        name=name, driver=raw.get("driver") or "bridge", labels=labels, internal=bool(raw.get("internal")),
        enable_ipv6=bool(raw.get("enable_ipv6")), attachable=bool(raw.get("attachable")),
        ipam=dict(raw.get("ipam") or {}), options=dict(raw.get("driver_opts") or {}),
    )


def volume_spec(project: "Project", key: str) -> VolumeSpec:
    """The VolumeSpec of a (non-external) project volume."""
    raw = project.volumes[key]
    name = raw.get("name") or f"{project.name}_{key}"
    labels = L.volume_labels(project.name, key, raw.get("labels"))
    labels[L.CONFIG_HASH] = _resource_hash(project, "volume", key)
    return VolumeSpec(name=name, driver=raw.get("driver") or "local", labels=labels,
                      options=dict(raw.get("driver_opts") or {}))


def replicas(service: "Service", override: Mapping[str, int]) -> int:
    """How many containers a service wants: ``--scale``, ``scale:``, ``deploy.replicas``, else 1."""
    if service.name in override:
        count = override[service.name]
    elif service.scale is not None:
        count = service.scale
    else:
        count = int((service.deploy or {}).get("replicas", 1) if service.deploy else 1)
    if count > 1 and service.container_name:
        raise PlanError(f"service {service.name!r} sets container_name {service.container_name!r} and "
                        f"scale {count}: a container name must be unique",
                        location=SourceLocation(path=f"services.{service.name}.container_name"),
                        hint="remove container_name or keep one replica")
    return count


def oneoff_spec(project: "Project", service: "Service", raw: Mapping[str, Any], options: "RunOptions", *,
                slug: str, config_hash: str, image_id: str) -> ContainerSpec:
    """The container of ``composer run``: named ``<project>-<service>-run-<slug[:12]>``, labelled
    one-off (no container-number, as Compose), no restart policy, ports only with
    ``--service-ports`` or ``-p``, the service's network aliases only with ``--use-aliases``."""
    base = container_spec(project, service, raw, number=1, config_hash=config_hash, image_id=image_id)
    name = options.name or service.container_name or f"{project.name}-{service.name}-run-{slug[:12]}"
    labels = {key: value for key, value in {**base.labels, **options.labels, L.ONEOFF: "True", L.SLUG: slug}.items()
              if key != L.CONTAINER_NUMBER}  # Compose's one-off has no container-number label
    env = dict(item.split("=", 1) for item in base.env)
    env.update(options.environment)
    keep = (lambda e: tuple(a for a in e.aliases if a != base.name)) if options.use_aliases else (lambda e: ())
    endpoints = tuple(e._replace(aliases=keep(e) + (name,)) for e in base.endpoints)
    return base._replace(
        name=name, labels=labels, env=tuple(f"{k}={v}" for k, v in env.items()),
        command=options.command if options.command is not None else base.command,
        entrypoint=options.entrypoint if options.entrypoint is not None else base.entrypoint,
        user=options.user if options.user is not None else base.user,
        working_dir=options.workdir if options.workdir is not None else base.working_dir,
        ports=(base.ports if options.service_ports else ()) + options.publish,
        mounts=base.mounts + options.volumes, endpoints=endpoints, restart=RestartPolicy(),
        tty=options.tty, stdin_open=options.interactive, auto_remove=options.remove,
    )


def hooks(raw: Mapping[str, Any], key: str) -> tuple[HookSpec, ...]:
    """A service's ``post_start`` or ``pre_stop`` hooks (a string command is shell-split)."""
    import shlex

    result = []
    for hook in raw.get(key) or ():
        command = hook.get("command") or ()
        argv = tuple(shlex.split(command)) if isinstance(command, str) else tuple(map(str, command))
        env = tuple(f"{k}={v}" for k, v in (hook.get("environment") or {}).items() if v is not None)
        result.append(HookSpec(command=argv, user=hook.get("user") or "", working_dir=hook.get("working_dir") or "",
                               env=env, privileged=bool(hook.get("privileged"))))
    return tuple(result)
