"""``LinuxRuntime``: the engine's ``Runtime`` protocol on composer's own kernel runtime.

Containers go through ``composer.engine.runtime.containers`` (detached, supervised), networks
through ``composer.network.manager.NetworkManager``, volumes through
``composer.engine.volumes.VolumeStore`` and images through the image store and ``pull``. This
module only translates: a compose ``ContainerSpec`` becomes a ``ContainerConfig``, a
``ContainerInfo`` a ``ContainerSummary``, foreign errors composer's own. Heavy modules are
imported inside the methods that need them.
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterator, Mapping

from composer.engine.runtime.base import (
    ContainerSpec, ContainerSummary, HealthStatus, HookSpec, MountSpec, NetworkSpec, NetworkSummary,
    PortSpec, PullCallback, VolumeSpec, VolumeSummary, matches,
)
from composer.errors import ContainerRuntimeError, NetworkError

NS = 1_000_000_000


def _containers() -> Any:
    from composer.engine.runtime import containers

    return containers


# --- ContainerSpec -> ContainerConfig --------------------------------------------------------------
def process_args(spec: ContainerSpec, image_config: Mapping[str, Any]) -> list[str]:
    """ENTRYPOINT + CMD as docker combines them (a given entrypoint drops the image's CMD)."""
    if spec.entrypoint is not None:
        args = list(spec.entrypoint) + list(spec.command or ())
    else:
        command = spec.command if spec.command is not None else image_config.get("Cmd") or ()
        args = entrypoint_of(spec, image_config) + list(command)
    if not args:
        raise ContainerRuntimeError(f"container {spec.name}: no command specified",
                                    hint="set command: (or entrypoint:) for the service")
    return ["/sbin/docker-init", "--", *args] if spec.init else args


def entrypoint_of(spec: ContainerSpec, image_config: Mapping[str, Any]) -> list[str]:
    """The ENTRYPOINT part of ``process_args`` (docker's Config.Entrypoint)."""
    return list(spec.entrypoint if spec.entrypoint is not None else image_config.get("Entrypoint") or ())


def merged_env(image_env: list[str], env: tuple[str, ...]) -> list[str]:
    """The image's Env overridden by the service's (the service's first, as dockerd merges them)."""
    from composer.engine.runtime.config import docker_env

    return docker_env(image_env, list(env))


def healthcheck(spec: ContainerSpec, image_config: Mapping[str, Any]) -> dict | None:
    """docker's Healthcheck dict (nanoseconds), the service's or else the image's."""
    if spec.healthcheck is None:
        return image_config.get("Healthcheck") or None
    check = spec.healthcheck
    if not check.test or check.test[0] == "NONE":
        return None
    return {"Test": list(check.test), "Interval": int(check.interval * NS), "Timeout": int(check.timeout * NS),
            "StartPeriod": int(check.start_period * NS), "StartInterval": int(check.start_interval * NS),
            "Retries": check.retries}


def publish_spec(port: PortSpec) -> str:
    """``[IP:]HOST:CONTAINER/PROTO`` (``-p`` syntax) of a published port."""
    host = f"{port.host_ip}:" if port.host_ip else ""
    if ":" in port.host_ip:
        host = f"[{port.host_ip}]:"
    return f"{host}{port.published}:{port.target}/{port.protocol}" if (host or port.published) \
        else f"{port.target}/{port.protocol}"


def convert_mount(mount: MountSpec, content_dir: str, index: int) -> Any:
    """A compose mount as the runtime's ``Mount`` (content mounts become read-only file binds)."""
    from composer.engine.runtime.config import Mount

    options = dict(mount.options)
    if mount.type == "content":
        return Mount(type="bind", target=mount.target, source=_write_content(content_dir, index, options),
                     readonly=True)
    if mount.type == "tmpfs":
        parts = [f"size={options['size']}" if options.get("size") else "",
                 f"mode={options['mode']:o}" if isinstance(options.get("mode"), int) else
                 (f"mode={options['mode']}" if options.get("mode") else "")]
        return Mount(type="tmpfs", target=mount.target, readonly=mount.read_only,
                     options=",".join(p for p in parts if p))
    if mount.type == "volume":
        return Mount(type="volume", target=mount.target, source=mount.source or _anonymous_volume(),
                     readonly=mount.read_only, volume_nocopy=bool(options.get("nocopy")),
                     subpath=str(options.get("subpath") or ""),
                     anonymous=not mount.source or bool(options.get("anonymous")))
    if mount.type == "image":  # (the plan pulled a missing one: images.mountpulls)
        from composer.engine.runtime.imagemount import image_mount

        return image_mount(mount.source, mount.target, str(options.get("subpath") or ""))
    if mount.type == "bind":
        return Mount(type="bind", target=mount.target, source=mount.source, readonly=mount.read_only,
                     propagation=str(options.get("propagation") or ""),
                     create_source=bool(options.get("create_host_path")),  # (a bind without bind: creates)
                     recursive="" if options.get("recursive") in (None, "enabled") else str(options["recursive"]))
    raise ContainerRuntimeError(f"mount type {mount.type!r} at {mount.target} is not supported",
                                hint="use bind, volume or tmpfs")


def _anonymous_volume() -> str:
    """A new anonymous volume, named when the container is created (as docker does), so that it
    stays the container's across restarts and ``volumes_from`` can share it."""
    from composer.engine.volumes import VolumeStore

    return VolumeStore().create_anonymous()


def _write_content(directory: str, index: int, options: Mapping[str, Any]) -> str:
    """Write a secret/config given by value to a host file (mode, owner as asked)."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"content-{index}")
    content = options.get("content", "")
    with open(path, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else bytes(content))
    os.chmod(path, int(options.get("mode", 0o444)))
    os.chown(path, int(options.get("uid", 0) or 0), int(options.get("gid", 0) or 0))
    return path


def security_of(spec: ContainerSpec) -> Any:
    from composer.engine.runtime.config import Security

    security = Security(privileged=spec.privileged, cap_add=list(spec.cap_add), cap_drop=list(spec.cap_drop),
                        read_only=spec.read_only, sysctls=dict(spec.sysctls))
    for option in spec.security_opt:
        key, _, value = option.replace(":", "=", 1).partition("=")
        if key == "no-new-privileges":
            security.no_new_privileges = value in ("", "true")
        elif key == "seccomp":
            security.seccomp = value
        elif key not in ("label", "apparmor"):
            raise ContainerRuntimeError(f"container {spec.name}: security_opt {option!r} is not supported",
                                        hint="use no-new-privileges or seccomp=...")
    return security


def network_of(spec: ContainerSpec) -> str:
    """The runtime's ``network``: the mode (none/host/container:...), else ``private`` when the
    endpoints name the networks (the runtime joins each endpoint, with its aliases)."""
    if spec.network_mode and spec.network_mode not in ("bridge", "default"):
        return spec.network_mode
    return "private" if spec.endpoints else "bridge"


def ordered_endpoints(spec: ContainerSpec) -> list[Any]:
    """The endpoints, highest priority first (the first gets the published ports, as docker's)."""
    return sorted(spec.endpoints, key=lambda e: -e.priority) if network_of(spec) == "private" else []


def container_config(spec: ContainerSpec, image: Any, container_id: str, content_dir: str) -> Any:
    """The runtime ``ContainerConfig`` of a compose ``ContainerSpec`` on ``image``."""
    from composer.engine.runtime.blkiothrottle import resolve as resolve_throttles
    from composer.engine.runtime.config import ContainerConfig, Endpoint, Resources, parse_device

    image_config = image.config or {}
    r = spec.resources
    mounts = [convert_mount(m, content_dir, i) for i, m in enumerate(spec.mounts)]
    mounts += shared_mounts(spec, {m.target for m in mounts})
    if spec.init:
        mounts.append(_init_mount())
    network = network_of(spec)
    config = ContainerConfig(
        id=container_id, name=spec.name, image=spec.image, image_id=image.id,
        layers=[str(p) for p in image.layer_dirs], args=process_args(spec, image_config),
        entrypoint=entrypoint_of(spec, image_config),
        env=merged_env(list(image_config.get("Env") or []), spec.env),
        cwd=spec.working_dir or image_config.get("WorkingDir") or "/",
        user=spec.user or image_config.get("User") or "", hostname=spec.hostname or container_id[:12],
        domainname=spec.domainname, network=network, pid_mode=spec.pid, ipc_mode=spec.ipc, uts_mode=spec.uts,
        userns_mode=spec.userns_mode, mounts=mounts,
        resources=Resources(memory=r.memory, memory_swap=r.memory_swap, memory_reservation=r.memory_reservation,
                            nano_cpus=r.nano_cpus, cpu_shares=r.cpu_shares, cpuset_cpus=r.cpuset_cpus,
                            pids_limit=r.pids_limit, cpu_period=r.cpu_period, cpu_quota=r.cpu_quota,
                            cpu_rt_period=r.cpu_rt_period, cpu_rt_runtime=r.cpu_rt_runtime,
                            blkio_weight=r.blkio_weight, memory_swappiness=r.memory_swappiness,
                            oom_kill_disable=r.oom_kill_disable, blkio_throttle=resolve_throttles(r.blkio_throttle)),
        cgroupns_mode=spec.cgroupns,
        security=security_of(spec), ulimits=list(spec.ulimits), oom_score_adj=spec.oom_score_adj,
        tty=spec.tty, stdin=spec.stdin_open, init=spec.init,
        stop_signal=spec.stop_signal or image_config.get("StopSignal") or "SIGTERM",
        labels={**(image_config.get("Labels") or {}), **spec.labels}, auto_remove=spec.auto_remove,
        extra_hosts=list(spec.extra_hosts), dns=list(spec.dns), dns_search=list(spec.dns_search),
        dns_options=list(spec.dns_opt),
        publish=[publish_spec(p) for p in spec.ports], group_add=list(spec.group_add),
        exposed=[*(image_config.get("ExposedPorts") or {}), *spec.expose],  # compose's expose: (cparity)
        healthcheck=healthcheck(spec, image_config),
        restart_policy={"Name": spec.restart.name, "MaximumRetryCount": spec.restart.max_retries},
        log_driver=spec.log_driver or "json-file", log_options=dict(spec.log_options),
        stop_timeout=int(spec.stop_grace_period),
        endpoints=[Endpoint(network=e.network, aliases=list(e.aliases), ipv4_address=e.ipv4_address or "",
                            ipv6_address=e.ipv6_address or "", mac_address=e.mac_address or "",
                            priority=e.priority, links=list(e.links), link_local_ips=list(e.link_local_ips),
                            interface_name=e.interface_name or "")
                   for e in ordered_endpoints(spec)],
        devices=[parse_device(d) for d in spec.devices], device_cgroup_rules=list(spec.device_cgroup_rules),
        annotations=dict(spec.annotations),
    )
    if spec.shm_size:
        config.shm_size = spec.shm_size
    config.warnings = tuple(spec.warnings)  # the fields composer does not apply (fieldcheck)
    return config


def shared_mounts(spec: ContainerSpec, taken: set[str]) -> list[Any]:
    """``volumes_from``: the bind and volume mounts of each donor container (``NAME[:ro|:rw]``), in
    the donor's mode unless one is given; a target the container mounts itself stays its own."""
    from composer.engine.runtime.config import Mount
    from composer.engine.runtime.state import ContainerDir

    shared = []
    for entry in spec.volumes_from:
        name, mode = entry, ""
        if entry.endswith((":ro", ":rw")):
            name, mode = entry[:-3], entry[-2:]
        try:
            donor = ContainerDir(_containers().resolve(name)).read_config()
        except (ContainerRuntimeError, OSError) as error:
            raise ContainerRuntimeError(f"container {spec.name}: volumes_from {entry!r}: no such container {name}",
                                        hint="create the service or container it names first") from error
        for mount in donor.get("mounts") or ():
            if mount.get("type") in ("bind", "volume") and mount.get("target") not in taken:
                taken.add(mount["target"])
                readonly = mode == "ro" if mode else bool(mount.get("readonly"))
                shared.append(Mount(**{**mount, "readonly": readonly, "anonymous": False}))
    return shared


def _init_mount() -> Any:
    from composer.engine.runtime.config import Mount

    binary = next((p for p in ("/usr/bin/tini-static", "/usr/bin/tini") if os.path.exists(p)), None)
    if binary is None:
        raise ContainerRuntimeError("init: true needs tini on the host", hint="apt-get install tini")
    return Mount(type="bind", source=binary, target="/sbin/docker-init", readonly=True)


def summary_of(info: Any, details: Mapping[str, Any] | None = None) -> ContainerSummary:
    """A ``ContainerSummary`` from the runtime's ``ContainerInfo`` (and its inspect dict, for
    ports, networks and mounts)."""
    details = details or {}
    settings = details.get("NetworkSettings") or {}
    ports = published_ports(info, binding_specs((details.get("HostConfig") or {}).get("PortBindings") or {}))
    ports += exposed_only((details.get("Config") or {}).get("ExposedPorts") or {}, ports)  # as docker ps
    mounts = tuple(m.get("Name") or m.get("Source", "") for m in details.get("Mounts") or ())
    return ContainerSummary(
        id=info.id, name=info.name, image=info.image, image_id=info.image_id, labels=dict(info.labels),
        state=info.state, exit_code=info.exit_code, health=info.health, created=info.created,
        started_at=info.started_at, finished_at=info.finished_at, command=info.command, ports=ports,
        networks=tuple(settings.get("Networks") or ()), mounts=mounts)


def exposed_only(exposed: Mapping[str, Any], published: tuple[PortSpec, ...]) -> tuple[PortSpec, ...]:
    """The exposed ports (``80/tcp``, ``7000-7001/udp``) no binding publishes (``published`` "")."""
    from composer.engine.status import port_items

    taken = {(p.target, p.protocol) for p in published}
    ports = port_items(exposed)
    return tuple(PortSpec(target=n, protocol=p) for n, p in dict.fromkeys(ports) if (n, p) not in taken)


def binding_specs(port_bindings: Mapping[str, Any]) -> list[str]:
    """``-p`` specs back from docker's ``HostConfig.PortBindings`` (``{"80/tcp": [{"HostIp",
    "HostPort"}]}``; a random host port is "")."""
    specs = []
    for key, hosts in port_bindings.items():
        for host in hosts or ({},):
            address = host.get("HostIp") or ""
            address = f"[{address}]" if ":" in address else address
            port = host.get("HostPort") or ""
            specs.append(f"{address}:{port}:{key}" if address else f"{port}:{key}" if port else key)
    return specs


def published_ports(info: Any, specs: Any) -> tuple[PortSpec, ...]:
    """The container's published ports from its ``-p`` specs; ephemeral host ports (0) and ports
    picked from a host range (``31500-31502:80``) as the network layer allocated them while it runs."""
    from composer.network.ports import parse_publish

    bindings = [b for spec in specs for b in parse_publish(spec)]
    if any(b.host_port == 0 or b.host_port_end for b in bindings) and info.state == "running":
        from composer.network.manager import NetworkManager

        bindings = NetworkManager().ports_of(info.id) or bindings
    return tuple(PortSpec(target=b.container_port, published=str(b.host_port or ""), host_ip=b.host_ip,
                          protocol=b.proto) for b in bindings)


class LinuxRuntime:
    """The Runtime protocol (``composer.engine.runtime.base.Runtime``) on the Linux kernel."""

    def __init__(self) -> None:
        self._networks: Any = None
        self._volumes: Any = None
        self._warnings: dict[str, tuple[str, ...]] = {}  # create's warnings, until the executor takes them

    @property
    def networks(self) -> Any:
        if self._networks is None:
            from composer.network.manager import NetworkManager

            self._networks = NetworkManager()
        return self._networks

    @property
    def volumes(self) -> Any:
        if self._volumes is None:
            from composer.engine.volumes import VolumeStore

            self._volumes = VolumeStore()
        return self._volumes

    # --- containers --------------------------------------------------------------------------------
    def list_containers(self, labels: Mapping[str, str | None], *, all: bool = True) -> list[ContainerSummary]:
        """The containers whose labels match, oldest first (the runtime's listing: only running,
        paused or restarting ones unless ``all``; the other projects' state is not read)."""
        from composer.engine.runtime.describe import info_from, inspect_dict

        def describe(config: dict, state: dict) -> ContainerSummary:
            return summary_of(info_from(config, state), inspect_dict(config, state))

        return _containers().list_containers(all=all, labels=dict(labels), describe=describe)

    def create_container(self, spec: ContainerSpec) -> str:
        from composer.engine.runtime.imagecache import resolve_image

        image = resolve_image(spec.image)
        if spec.platform:  # (dockerd's create, before anything is made)
            from composer.engine.images.platforms import mismatch

            refused = mismatch(spec.image, spec.platform, self.image_platform(spec.image) or "")
            if refused:
                from composer.errors import ImageNotFound

                raise ImageNotFound(refused, hint=f"pull the image for {spec.platform}, or drop the service's platform")
        container_id = os.urandom(32).hex()
        content_dir = self._content_dir(container_id)
        try:
            config = container_config(spec, image, container_id, content_dir)
            created = _containers().create(config)
            if config.warnings:
                self._warnings[created] = tuple(config.warnings)
            return created
        except BaseException:
            _remove_tree(content_dir)
            raise

    @staticmethod
    def _content_dir(container_id: str) -> str:
        from composer.settings import state_root_dir  # (not state_root: no pathlib on up/down)

        return os.path.join(state_root_dir(), "compose-content", container_id)

    def create_warnings(self, container_id: str) -> tuple[str, ...]:
        return self._warnings.pop(container_id, ())

    def start_container(self, container_id: str) -> None:
        _containers().start(container_id)

    def prepare_start(self, container_id: str) -> Any:
        """Everything of the container's start but its program's exec, done now (while what it
        depends on becomes ready); the handle's ``go()`` execs it, ``abandon()`` gives it all back."""
        return _containers().prepare_start(container_id)

    def prepare_starts(self) -> None:
        """Before a run that starts containers: the zygote that forks their supervisors, started
        now (from the caller's thread) unless it runs; a failure is left to the starts to report."""
        from composer.engine.runtime.zygote import ensure

        try:
            ensure()
        except OSError:
            pass

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        _containers().stop(container_id, timeout)

    def kill_container(self, container_id: str, signal: str = "SIGKILL") -> None:
        _containers().kill(container_id, signal)

    def remove_container(self, container_id: str, *, force: bool = False, volumes: bool = False) -> None:
        full_id = self._full_id(container_id)
        _containers().remove(full_id, force=force, volumes=volumes)
        _remove_tree(self._content_dir(full_id))

    def _full_id(self, reference: str) -> str:
        resolved = _containers().resolve(reference)
        return getattr(resolved, "id", resolved)

    def pause_container(self, container_id: str) -> None:
        _containers().pause(container_id)

    def unpause_container(self, container_id: str) -> None:
        _containers().unpause(container_id)

    def rename_container(self, container_id: str, new_name: str) -> None:
        rename = getattr(_containers(), "rename", None)
        if rename is None:
            raise ContainerRuntimeError("renaming containers is not supported yet")
        rename(container_id, new_name)

    def wait_container(self, container_id: str, timeout: float | None = None) -> int | None:
        code = _containers().wait(container_id, timeout=timeout)
        return None if code is None else int(code)

    def wait_health(self, container_id: str, last: HealthStatus | None, timeout: float) -> HealthStatus:
        """The container's state and health once they differ from ``last`` (or at ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            now = self._health_status(container_id)
            remaining = deadline - time.monotonic()
            if last is None or now[:2] != last[:2] or remaining <= 0:
                return now
            key = last.health if last.state == "running" and last.health != "none" else last.state
            _containers().wait_health_change(container_id, key, min(remaining, 5.0))

    def _health_status(self, container_id: str) -> HealthStatus:
        details = _containers().inspect(container_id)
        state = details.get("State") or {}
        health = state.get("Health") or {}
        log = health.get("Log") or []
        status, code = state.get("Status", "created"), int(state.get("ExitCode", 0))
        if status == "created" and state.get("Error"):  # its start failed: it will never run
            return HealthStatus(state="exited", health="none", exit_code=code or 128, output=state["Error"])
        return HealthStatus(state=status, health=health.get("Status", "none") if health else "none",
                            exit_code=code, output=(log[-1].get("Output", "") if log else ""))

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return _containers().inspect(container_id)

    def exec_container(self, container_id: str, hook: HookSpec) -> tuple[int, str]:
        """Run a hook in the container, stdin from /dev/null, stdout and stderr into one pipe;
        its exit code and output (read to its end, as docker's attached exec)."""
        from composer.engine.runtime.execute import ExecRequest, spawn, wait_exit

        pid = _containers().running_pid(container_id)
        request = ExecRequest(argv=list(hook.command), env=list(hook.env), user=hook.user,
                              workdir=hook.working_dir, privileged=hook.privileged)
        reader, writer = os.pipe2(os.O_CLOEXEC)
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            child = spawn(container_id, pid, request, (null, writer, writer))
        except BaseException:
            os.close(reader)
            raise
        finally:
            os.close(writer)
            os.close(null)
        with open(reader, "rb") as output:
            text = output.read().decode(errors="replace")
        return wait_exit(child), text

    # --- beyond the protocol: what the CLI needs ---------------------------------------------------
    def read_logs(self, container_id: str, *, follow: bool = False, tail: int | None = None,
                  since: float | None = None, until: float | None = None, timestamps: bool = False) -> Iterator[Any]:
        return _containers().read_logs(container_id, follow=follow, tail=tail, since=since, until=until,
                                       timestamps=timestamps)

    def exec_in(self, container_id: str, argv: list[str], **options: Any) -> int:
        from composer.engine.runtime.sessions import exec_in

        return int(exec_in(container_id, argv, **options) or 0)

    # --- networks ------------------------------------------------------------------------------------
    def ensure_network(self, spec: NetworkSpec) -> NetworkSummary:
        try:
            net = self.networks.get(spec.name)
        except NetworkError:
            net = self._create_network(spec)
        return NetworkSummary(id=net.id, name=net.name, labels=dict(net.labels))

    def _create_network(self, spec: NetworkSpec) -> Any:
        config = (list((spec.ipam or {}).get("config") or []) or [{}])
        v4 = next((c for c in config if ":" not in str(c.get("subnet", ""))), {})
        v6 = next((c for c in config if ":" in str(c.get("subnet", ""))), {})
        try:
            return self.networks.create(
                spec.name, driver=spec.driver or "bridge", subnet=v4.get("subnet"), gateway=v4.get("gateway"),
                ip_range=v4.get("ip_range"), internal=spec.internal, attachable=spec.attachable,
                labels=dict(spec.labels), options=dict(spec.options), ipv6=spec.enable_ipv6,
                subnet6=v6.get("subnet"))
        except NetworkError:
            try:  # made meanwhile by another command: that one is ours too
                return self.networks.get(spec.name)
            except NetworkError:
                pass
            raise

    def remove_network(self, name: str) -> None:
        from composer.network.store import NetworkNotFound

        try:
            self.networks.get(name)
        except NetworkNotFound:  # (only that: a failed read must not pass for "already removed")
            return
        self.networks.remove(name)

    def list_networks(self, labels: Mapping[str, str | None]) -> list[NetworkSummary]:
        return [NetworkSummary(id=n.id, name=n.name, labels=dict(n.labels)) for n in self.networks.list()
                if not n.default and matches(n.labels, labels)]

    # --- volumes -------------------------------------------------------------------------------------
    def ensure_volume(self, spec: VolumeSpec) -> VolumeSummary:
        meta = self.volumes.create(spec.name, labels=dict(spec.labels), driver=spec.driver or "local",
                                   options=dict(spec.options))
        return VolumeSummary(name=meta["Name"], labels=meta.get("Labels") or {}, mountpoint=meta["Mountpoint"])

    def remove_volume(self, name: str) -> None:
        if self.volumes.exists(name):
            self.volumes.remove(name)

    def list_volumes(self, labels: Mapping[str, str | None]) -> list[VolumeSummary]:
        return [VolumeSummary(name=m["Name"], labels=m.get("Labels") or {}, mountpoint=m["Mountpoint"])
                for m in self.volumes.list() if matches(m.get("Labels") or {}, labels)]

    # --- images --------------------------------------------------------------------------------------
    def image_id(self, reference: str) -> str | None:
        from composer.engine.runtime.imagecache import resolve_image
        from composer.errors import ImageError

        try:
            return resolve_image(reference).id
        except ImageError:
            return None

    def image_platform(self, reference: str) -> str | None:
        from composer.engine.images.platforms import stored_platform

        return stored_platform(reference)

    def pull_image(self, reference: str, on_event: PullCallback | None = None, platform: str = "") -> str:
        from composer.engine.images.pull import pull

        def forward(event: Any) -> None:
            if on_event is not None:
                on_event(event.status, {"id": event.id, "current": event.current, "total": event.total})

        return pull(reference, on_event=forward, platform=platform or None).image_id

    def remove_image(self, reference: str) -> None:
        from composer.engine.images import catalog
        from composer.engine.images.store import ImageStore

        catalog.remove(ImageStore(), reference)


def _remove_tree(path: str) -> None:
    """``rm -rf path``, errors ignored (shutil's import is not paid by every ``down``)."""
    from composer.engine.runtime.state import remove_tree

    try:
        remove_tree(path)
    except OSError:
        pass

