"""What a container is made of: the typed, JSON-serialisable configuration of one container.

The CLI (or the compose engine) builds a ``ContainerConfig``; the runtime writes it as
``config.json`` into the container's state directory and hands it to the init child.
"""

from __future__ import annotations

from composer.engine.runtime.record import Record, factory


class Mount(Record):
    """One mount inside the container: ``bind``, ``volume``, ``tmpfs`` (source is a host path,
    a volume name or empty)."""

    type: str
    target: str
    source: str = ""
    readonly: bool = False
    propagation: str = ""          # rprivate (default), private, rshared, shared, rslave, slave
    options: str = ""              # tmpfs: "size=...,mode=..."
    create_source: bool = False    # -v creates a missing host path, --mount refuses it
    volume_nocopy: bool = False
    anonymous: bool = False        # a volume named by the runtime (removed with --rm)
    subpath: str = ""              # volume: a directory inside it to mount instead (relative, no "..")
    recursive: str = ""            # bind: docker's bind-recursive ("" = enabled, disabled, writable, readonly)


class Device(Record):
    """``--device HOST[:CONTAINER][:PERMISSIONS]``: a host device node made in the container (docker's
    DeviceMapping); permissions are the devices cgroup's r(ead), w(rite), m(knod)."""

    path_on_host: str
    path_in_container: str = ""    # "" = the host path
    permissions: str = "rwm"


def parse_device(value: str) -> Device:
    """``HOST[:CONTAINER][:PERMISSIONS]``, docker's ``--device`` and compose's ``devices:`` short form
    (permissions from r, w, m)."""
    parts = value.split(":")
    permissions = "rwm"
    if len(parts) > 1 and parts[-1] and set(parts[-1]) <= set("rwm") and not parts[-1].startswith("/"):
        permissions = parts.pop()
    if len(parts) > 2 or not all(p.startswith("/") for p in parts):
        from composer.errors import UsageError

        raise UsageError(f"invalid device mapping {value!r}",
                         hint="use /dev/HOST[:/dev/CONTAINER][:rwm], with absolute paths")
    return Device(path_on_host=parts[0], path_in_container=parts[1] if len(parts) > 1 else parts[0],
                  permissions=permissions)


class Resources(Record):
    """cgroup limits, in docker's units (bytes, nano-CPUs, shares ...); 0 or None = unset."""

    memory: int = 0
    memory_swap: int = 0           # -1 = unlimited swap
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int = 0            # <= 0: unlimited
    blkio_weight: int = 0
    cpu_period: int = 0            # --cpu-period/--cpu-quota (CFS, microseconds): with nano_cpus, never both
    cpu_quota: int = 0
    cpu_rt_period: int = 0         # real-time scheduler: recorded (inspect), as docker's update
    cpu_rt_runtime: int = 0
    kernel_memory: int = 0         # deprecated: recorded only (kernels >= 5.4 ignore kmem limits)
    memory_swappiness: int = -1    # 0-100; -1: the parent's (v1 memory.swappiness)
    oom_kill_disable: bool = False  # v1 memory.oom_control
    blkio_throttle: dict[str, list] = {}  # kind -> [[path, "major:minor", rate]] (blkiothrottle)


# docker's masked and read-only paths of an unprivileged container (rootfs applies them,
# inspect shows them; here so that inspect need not import rootfs and ctypes)
MASKED_PATHS = ("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware", "/sys/devices/virtual/powercap")
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


class Security(Record):
    """Capabilities, seccomp and friends."""

    privileged: bool = False
    cap_add: list[str] = []
    cap_drop: list[str] = []
    no_new_privileges: bool = False
    seccomp: str = "default"       # "default", "unconfined" or a profile file path
    read_only: bool = False
    sysctls: dict[str, str] = {}


class Endpoint(Record):
    """One network the container joins (besides ``ContainerConfig.network``), as compose gives it."""

    network: str
    aliases: list[str] = []
    ipv4_address: str = ""
    ipv6_address: str = ""
    mac_address: str = ""
    priority: int = 0
    links: list[str] = []           # CONTAINER:ALIAS, resolvable by this container only (--link, compose links)
    link_local_ips: list[str] = []  # extra addresses of its interface (--link-local-ip)
    interface_name: str = ""        # "": eth<n>, the next free one


class ContainerConfig(Record):
    """Everything needed to start one container (the content of ``config.json``)."""

    id: str
    name: str
    image: str
    image_id: str
    layers: list[str]              # read-only lower dirs, BOTTOM first
    args: list[str]                # entrypoint + cmd, resolved
    entrypoint: list[str] = []     # the ENTRYPOINT part of args (docker's Config.Entrypoint; [] none)
    env: list[str]                 # "KEY=value"
    cwd: str = "/"
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    network: str = "private"       # none, host, private (loopback only), or a network name
    pid_mode: str = ""             # "" (private) or "host"
    ipc_mode: str = ""             # "" / "private" / "shareable" / "host"
    uts_mode: str = ""             # "" or "host"
    cgroupns_mode: str = ""        # "" / "private" or "host"
    userns_mode: str = ""          # "" / "host", or "private": root = the first id of a block of composer's /etc/subuid range
    mounts: list[Mount] = []
    resources: Resources = factory(Resources)
    security: Security = factory(Security)
    ulimits: list[tuple[str, int, int]] = []
    oom_score_adj: int | None = None
    shm_size: int = 64 * 1024 * 1024
    tty: bool = False
    stdin: bool = False
    attached: bool = False         # created to be attached to (create, a foreground run): Config.AttachStd*
    init: bool = False
    stop_signal: str = "SIGTERM"
    labels: dict[str, str] = {}
    auto_remove: bool = False
    extra_hosts: list[str] = []
    dns: list[str] = []
    dns_search: list[str] = []
    dns_options: list[str] = []
    publish: list[str] = []        # -p specs (bridge networks only)
    exposed: list[str] = []        # "80/tcp": the image's EXPOSE and --expose (with -p's: Config.ExposedPorts)
    group_add: list[str] = []      # extra groups, by name (in the container's /etc/group) or gid
    # detached containers (the supervisor): docker's shapes, durations in nanoseconds
    healthcheck: dict | None = None   # {"Test": [...], "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"}
    restart_policy: dict = {"Name": "no", "MaximumRetryCount": 0}
    log_driver: str = "json-file"     # json-file or none
    log_options: dict[str, str] = {}  # max-size, max-file
    stop_timeout: int | None = None   # seconds (None: 10, docker's default)
    endpoints: list[Endpoint] = []    # further networks (compose services with several)
    devices: list[Device] = []
    device_cgroup_rules: list[str] = []  # --device-cgroup-rule: "c 1:3 mr" (devicerules checks them)
    annotations: dict[str, str] = {}     # --annotation / compose annotations: recorded (inspect), no effect
    volume_driver: str = ""              # --volume-driver: "local" (the only driver) or "" (inspect's VolumeDriver)
    warnings = ()  # (not a field, not saved) docker's create-time warnings: set by the runtime's create

    def volume_names(self, anonymous: bool = True) -> list[str]:
        """The volumes its mounts use, each once, sorted (``anonymous=False``: its named ones only)."""
        return sorted({mount.source for mount in self.mounts if mount.type == "volume" and mount.source
                       and (anonymous or not mount.anonymous)})

    @classmethod
    def from_dict(cls, data: dict) -> "ContainerConfig":
        """The inverse of ``to_dict``."""
        data = dict(data)
        data["mounts"] = [Mount(**m) for m in data.get("mounts", [])]
        data["resources"] = Resources(**data.get("resources", {}))
        data["security"] = Security(**data.get("security", {}))
        data["ulimits"] = [tuple(u) for u in data.get("ulimits", [])]
        data["endpoints"] = [Endpoint(**e) for e in data.get("endpoints", [])]
        data["devices"] = [Device(**d) for d in data.get("devices", [])]
        return cls(**data)


def docker_env(image_env: list[str], given: list[str]) -> list[str]:
    """The container's Env as dockerd merges it: the given ``KEY=value`` items (the last of a
    key wins), then the image's of the other keys."""
    merged = dict(item.partition("=")[::2] for item in given)
    merged.update((key, value) for key, value in (item.partition("=")[::2] for item in image_env)
                  if key not in merged)
    return [f"{key}={value}" for key, value in merged.items()]
