"""The ``Runtime`` protocol: what the compose engine needs from a container runtime.

The engine (observe, execute) talks only to this protocol. ``LinuxRuntime`` implements it on the
kernel, ``FakeRuntime`` (``composer.engine.runtime.fake``) in memory for tests. Every method is
blocking and thread-safe: the trio executor calls them through ``trio.to_thread``.

Errors are composer's own (``ContainerNotFound``, ``ContainerStateError``, ``ImageNotFound`` ...).
Deletes tolerate absence only where the method says so.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping, Protocol

from composer.records import Record

ContainerState = Literal["created", "running", "paused", "restarting", "exited", "dead", "removing"]
Health = Literal["none", "starting", "healthy", "unhealthy"]
EMPTY: Mapping[str, Any] = MappingProxyType({})
"""The default of every mapping field (records are ``Record``s: immutable named tuples)."""


# --- what the engine asks to create ------------------------------------------------------------
class MountSpec(Record):
    """A mount: ``bind`` (host path), ``volume`` (volume name, "" = anonymous), ``tmpfs``, or
    ``content`` (a file the runtime writes from ``options["content"]``, with optional
    ``mode``/``uid``/``gid``: secrets and configs given by value)."""

    type: str
    target: str
    source: str = ""
    read_only: bool = False
    options: Mapping[str, Any] = EMPTY  # bind/volume/tmpfs sub-options


class EndpointSpec(Record):
    """A connection of the container to a network (by the network's real name)."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    mac_address: str | None = None
    priority: int = 0
    links: tuple[str, ...] = ()  # compose links: SERVICE[:ALIAS], resolvable by this container only
    link_local_ips: tuple[str, ...] = ()
    interface_name: str | None = None  # docker 28's: the container's interface on this network


class PortSpec(Record):
    """A published port: container ``target`` port, host ``published`` port(s) or "" (ephemeral)."""

    target: int
    published: str = ""
    host_ip: str = ""
    protocol: str = "tcp"


class HealthSpec(Record):
    """A healthcheck, durations in seconds (``test`` as docker's: ["CMD", ...] / ["CMD-SHELL", s])."""

    test: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0
    start_interval: float = 5.0


class HookSpec(Record):
    """A ``post_start``/``pre_stop`` lifecycle hook: a command run inside the container."""

    command: tuple[str, ...]
    user: str = ""
    working_dir: str = ""
    env: tuple[str, ...] = ()
    privileged: bool = False


class RestartPolicy(Record):
    """``no``, ``always``, ``on-failure`` (with ``max_retries``) or ``unless-stopped``."""

    name: str = "no"
    max_retries: int = 0


class ResourceSpec(Record):
    """cgroup limits in docker's units (bytes, nano-CPUs); 0 = unset."""

    memory: int = 0
    memory_reservation: int = 0
    memory_swap: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    pids_limit: int = 0
    cpu_period: int = 0  # CFS, microseconds
    cpu_quota: int = 0
    cpu_rt_period: int = 0
    cpu_rt_runtime: int = 0
    blkio_weight: int = 0
    memory_swappiness: int = -1  # -1: unset
    oom_kill_disable: bool = False
    blkio_throttle: Mapping[str, tuple[tuple[str, int], ...]] = EMPTY  # read_bps ...: ((device path, rate), ...)


class ContainerSpec(Record):
    """Everything docker's create API gets from Compose; the runtime adapter translates it.

    ``entrypoint``/``command`` of None mean "the image's"; an empty tuple means "reset it".
    """

    name: str
    image: str
    labels: Mapping[str, str] = EMPTY
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    mounts: tuple[MountSpec, ...] = ()
    volumes_from: tuple[str, ...] = ()  # container names, optionally ":ro"/":rw"
    network_mode: str = ""  # "", none, host, service:<container>, container:<id>
    endpoints: tuple[EndpointSpec, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    healthcheck: HealthSpec | None = None
    restart: RestartPolicy = RestartPolicy()
    resources: ResourceSpec = ResourceSpec()
    stop_signal: str = "SIGTERM"
    stop_grace_period: float = 10.0
    init: bool = False
    tty: bool = False
    stdin_open: bool = False
    privileged: bool = False
    read_only: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    sysctls: Mapping[str, str] = EMPTY
    ulimits: tuple[tuple[str, int, int], ...] = ()
    extra_hosts: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_opt: tuple[str, ...] = ()
    shm_size: int = 0
    pid: str = ""
    ipc: str = ""
    group_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    auto_remove: bool = False  # run --rm
    expose: tuple[str, ...] = ()  # "80/tcp": exposed, not published
    oom_score_adj: int | None = None
    cgroup_parent: str = ""
    userns_mode: str = ""
    uts: str = ""
    log_driver: str = ""
    log_options: Mapping[str, str] = EMPTY
    cgroupns: str = ""  # "" / private / host (Compose's ``cgroup``)
    warnings: tuple[str, ...] = ()  # fields composer does not apply, said at create as docker's warnings
    device_cgroup_rules: tuple[str, ...] = ()  # "c 1:3 mr"
    annotations: Mapping[str, str] = EMPTY
    platform: str = ""  # the service's ``platform:``: an image of another one is refused, as dockerd


class NetworkSpec(Record):
    """A network to ensure (``name`` is the real name, e.g. ``myapp_default``)."""

    name: str
    driver: str = "bridge"
    labels: Mapping[str, str] = EMPTY
    internal: bool = False
    enable_ipv6: bool = False
    attachable: bool = False
    ipam: Mapping[str, Any] = EMPTY
    options: Mapping[str, str] = EMPTY


class VolumeSpec(Record):
    """A named volume to ensure (``name`` is the real name, e.g. ``myapp_data``)."""

    name: str
    driver: str = "local"
    labels: Mapping[str, str] = EMPTY
    options: Mapping[str, str] = EMPTY


# --- what the runtime reports ------------------------------------------------------------------
class ContainerSummary(Record):
    """One container as ``docker ps -a`` sees it."""

    id: str
    name: str
    image: str
    image_id: str = ""
    labels: Mapping[str, str] = EMPTY
    state: ContainerState = "created"
    exit_code: int = 0
    health: Health = "none"
    created: float = 0.0  # seconds since the epoch
    started_at: float = 0.0
    finished_at: float = 0.0
    command: str = ""
    ports: tuple[PortSpec, ...] = ()  # published ports (``published`` filled in)
    networks: tuple[str, ...] = ()  # network names
    mounts: tuple[str, ...] = ()  # volume names and bind sources


class HealthStatus(Record):
    """What ``wait_health`` returns: the state and health now, and the last probe's output."""

    state: ContainerState
    health: Health
    exit_code: int = 0
    output: str = ""


class NetworkSummary(Record):
    id: str
    name: str
    labels: Mapping[str, str] = EMPTY


class VolumeSummary(Record):
    name: str
    labels: Mapping[str, str] = EMPTY
    mountpoint: str = ""


PullCallback = Callable[[str, Mapping[str, Any]], None]
"""Called by ``pull_image`` with a status ("Pulling fs layer", "Downloading" ...) and details."""


class Runtime(Protocol):
    """The minimum the compose commands need (``tests/unit/engine/test_runtime_contract.py`` is
    its executable contract). Label filters are ``{key: value or None}`` (None: the label exists
    with any value); an empty filter selects everything. Containers are named by id or name.
    Errors: ContainerNotFound for an unknown container, ContainerStateError for a name in use or
    a state that forbids the call, ImageNotFound, NetworkError, VolumeError; never OSError."""

    # containers
    def list_containers(self, labels: Mapping[str, str | None], *, all: bool = True) -> list[ContainerSummary]:
        """Containers whose labels match (only running ones unless ``all``)."""
    def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container: rootfs, network endpoints, mounts; its id."""
    def create_warnings(self, container_id: str) -> tuple[str, ...]:
        """The warnings of the container's create (docker's: limits this host cannot apply), once."""
    def start_container(self, container_id: str) -> None:
        """Start a created or stopped container (a no-op when it runs)."""
    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """The stop signal, SIGKILL after ``timeout`` s (None: the spec's stop_grace_period);
        a no-op when it is not running."""
    def kill_container(self, container_id: str, signal: str = "SIGKILL") -> None: ...
    def remove_container(self, container_id: str, *, force: bool = False, volumes: bool = False) -> None:
        """Remove it (``force`` kills a running one; ``volumes`` removes its anonymous volumes)."""
    def pause_container(self, container_id: str) -> None: ...
    def unpause_container(self, container_id: str) -> None: ...
    def rename_container(self, container_id: str, new_name: str) -> None: ...
    def wait_container(self, container_id: str, timeout: float | None = None) -> int | None:
        """Block until the container is not running, its exit code; None once ``timeout`` seconds
        passed first (None: wait as long as it takes)."""
    def wait_health(self, container_id: str, last: HealthStatus | None, timeout: float) -> HealthStatus:
        """Block until state or health differs from ``last`` (None: return at once) or timeout;
        health stays ``starting`` while probes fail within ``start_period``."""
    def inspect_container(self, container_id: str) -> dict[str, Any]:
        """The ``docker inspect`` dict of a container."""
    def exec_container(self, container_id: str, hook: HookSpec) -> tuple[int, str]:
        """Run a command in a running container, detached from any terminal; its exit code and
        combined output (lifecycle hooks; the interactive ``exec`` command is the CLI's)."""

    # networks and volumes: ensure is idempotent (returns the existing one), remove tolerates absence
    def ensure_network(self, spec: NetworkSpec) -> NetworkSummary: ...
    def remove_network(self, name: str) -> None: ...
    def list_networks(self, labels: Mapping[str, str | None]) -> list[NetworkSummary]: ...
    def ensure_volume(self, spec: VolumeSpec) -> VolumeSummary: ...
    def remove_volume(self, name: str) -> None: ...
    def list_volumes(self, labels: Mapping[str, str | None]) -> list[VolumeSummary]: ...

    # images
    def image_id(self, reference: str) -> str | None:
        """The local image id (``sha256:...``) of a reference, or None when it is not here."""
    def image_platform(self, reference: str) -> str | None:
        """``os/architecture[/variant]`` of a local image, or None when it is not here."""
    def pull_image(self, reference: str, on_event: PullCallback | None = None, platform: str = "") -> str:
        """Pull from its registry (``platform``'s image of a multi-platform one; "": this
        machine's); the image id. ImageNotFound/RegistryError on failure."""
    def remove_image(self, reference: str) -> None:
        """Remove a local image (ImageNotFound when it is not here)."""


def matches(labels: Mapping[str, str], wanted: Mapping[str, str | None]) -> bool:
    """Whether ``labels`` satisfy a label filter (see :class:`Runtime`)."""
    return all(k in labels and (v is None or labels[k] == v) for k, v in wanted.items())
