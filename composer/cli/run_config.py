"""docker run/create's flags and the image's config -> one ``ContainerConfig`` (``build_config``).

The flag parsing itself is ``run_flags``; ``container_run`` runs what this builds.
"""

from __future__ import annotations

import os

from composer.cli.run_flags import parse_bytes
from composer.engine.runtime.config import parse_device
from composer.errors import UsageError

# flags checked by ``run_host_flags`` (imported only when one is given)
WINDOWS_ONLY_FLAGS = frozenset({"cpu_count", "cpu_percent", "io_maxbandwidth", "io_maxiops"})
HOST_FLAGS = WINDOWS_ONLY_FLAGS | {"cpu_rt_period", "cpu_rt_runtime", "kernel_memory", "mac_address", "gpus",
                                   "storage_opt", "use_api_socket"}
NAMESPACED_SYSCTL_PREFIXES = ("kernel.msg", "kernel.sem", "kernel.shm", "fs.mqueue.", "net.")
NAMESPACED_SYSCTLS = {"kernel.shm_rmid_forced", "kernel.domainname", "kernel.hostname"}


def _env_list(options: dict, image_env: list[str]) -> list[str]:
    """--env-file files, then -e (KEY alone copies the host's value), then the image's Env of
    the other keys (dockerd's merge)."""
    from composer.engine.runtime.config import docker_env

    env: dict[str, str] = {}
    items: list[str] = []
    for path in options.get("env_file", []):
        items.extend(read_env_file(path))
    items.extend(options.get("env", []))
    for item in items:
        key, has_value, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid environment variable: {item!r}")
        if has_value:
            env[key] = value
        elif key in os.environ:
            env[key] = os.environ[key]
    return docker_env(image_env, [f"{k}={v}" for k, v in env.items()])


def read_env_file(path: str) -> list[str]:
    """An --env-file/--label-file: its KEY[=VALUE] lines (blank lines and # comments left out)."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise UsageError(f"cannot read env file {path}: {error.strerror}") from None
    return [line.lstrip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _entrypoint(options: dict, image_config: dict) -> list[str]:
    """--entrypoint ("" for none), else the image's ENTRYPOINT."""
    if "entrypoint" in options:
        return [options["entrypoint"]] if options["entrypoint"] else []
    return list(image_config.get("Entrypoint") or [])


def _process_args(options: dict, image_config: dict, command: list[str]) -> list[str]:
    """ENTRYPOINT + CMD as docker combines them (--entrypoint clears the image's CMD)."""
    cmd = command if "entrypoint" in options else command or list(image_config.get("Cmd") or [])
    args = _entrypoint(options, image_config) + cmd
    if not args:
        from composer.errors import ContainerRuntimeError

        raise ContainerRuntimeError("no command specified", hint="give a command after the image name")
    if options.get("init"):
        args = ["/sbin/docker-init", "--", *args]
    return args


def build_config(options: dict, image, command: list[str]):
    """The ContainerConfig of one ``run`` invocation."""
    from composer.engine.runtime.config import ContainerConfig

    image_config = image.config or {}
    container_id = os.urandom(32).hex()
    labels = dict(image_config.get("Labels") or {})
    for path in options.get("label_file", []):
        items = read_env_file(path)
        options.setdefault("label", [])[:0] = items
    for item in options.get("label", []):
        key, _, value = item.partition("=")
        labels[key] = value
    # no --network: docker's default bridge network; --network bridge / NAME: joined through composer.network
    network = options.get("network", "bridge")
    config = ContainerConfig(
        id=container_id, name=options.get("name") or f"composer_{container_id[:12]}",
        image=image.name, image_id=image.id, layers=[str(p) for p in image.layer_dirs],
        args=_process_args(options, image_config, command), entrypoint=_entrypoint(options, image_config),
        env=_env_list(options, image_config.get("Env") or []),
        cwd=options.get("workdir") or image_config.get("WorkingDir") or "/",
        user=options.get("user", image_config.get("User") or ""),
        hostname=options.get("hostname") or (os.uname().nodename if network == "host" else container_id[:12]),
        domainname=options.get("domainname", ""),
        network="bridge" if network == "default" else network,
        pid_mode=options.get("pid", ""), ipc_mode=options.get("ipc", ""), uts_mode=options.get("uts", ""),
        userns_mode=options.get("userns", ""), cgroupns_mode=options.get("cgroupns", ""),
        tty=options.get("tty", False), stdin=options.get("interactive", False), init=options.get("init", False),
        attached=not options.get("detach"),
        stop_signal=options.get("stop_signal") or image_config.get("StopSignal") or "SIGTERM",
        labels=labels, auto_remove=options.get("rm", False), extra_hosts=options.get("add_host", []),
        dns=options.get("dns", []), dns_search=options.get("dns_search", []),
        dns_options=options.get("dns_option", []), group_add=options.get("group_add", []),
        publish=_publish(options, image_config),
        exposed=_exposed(options, image_config),
        ulimits=[_parse_ulimit(u) for u in options.get("ulimit", [])],
        devices=[parse_device(d) for d in options.get("device", [])],
        device_cgroup_rules=options.get("device_cgroup_rule", []),
        annotations=dict(item.partition("=")[::2] for item in options.get("annotation", [])),
    )
    _check_modes(config)
    if not os.path.isabs(config.cwd):
        from composer.errors import ContainerRuntimeError

        raise ContainerRuntimeError(f"the working directory '{config.cwd}' is invalid, it needs to be an absolute path")
    if {"runtime", "isolation", "memory_swappiness", "cgroup_parent"} & options.keys():
        from composer.engine.fieldcheck import check_run_flags  # refused as docker, or warned: never ignored

        config.warnings = check_run_flags(options)
    _primary_endpoint(options, config)
    _apply_lifecycle(options, image_config, config)
    if "oom_score_adj" in options:
        config.oom_score_adj = _int(options["oom_score_adj"], "--oom-score-adj")
    if "shm_size" in options:
        config.shm_size = parse_bytes(options["shm_size"], "--shm-size")
    _apply_resources(options, config.resources)
    if HOST_FLAGS & options.keys():
        from composer.cli.run_host_flags import apply_host_flags

        config.warnings = (*config.warnings, *apply_host_flags(options, config))
    _apply_security(options, config)
    _check_userns(config)
    config.mounts = _mounts(options)
    targets = {m.target for m in config.mounts}
    for path in image_config.get("Volumes") or {}:  # the image's VOLUMEs become anonymous volumes
        if os.path.normpath(path) not in targets:
            from composer.engine.runtime.config import Mount

            config.mounts.append(Mount(type="volume", target=os.path.normpath(path)))
    if options.get("volume_driver"):
        from composer.cli.run_host_flags import check_volume_driver

        check_volume_driver(options["volume_driver"], config.mounts)
        config.volume_driver = options["volume_driver"]
    return config


def _publish(options: dict, image_config: dict) -> list[str]:
    """``-p`` specs, and with ``-P`` every exposed port (EXPOSE, ``--expose``) on a random host port."""
    publish = list(options.get("publish", []))
    if publish:
        _check_publish(publish)
    if options.get("publish_all"):
        from composer.network.ports import publish_all

        publish += publish_all([*(image_config.get("ExposedPorts") or {}), *options.get("expose", [])], publish)
    return publish


def _check_publish(specs: list[str]) -> None:
    """``-p`` values parsed as docker's CLI does before anything is made (a bad one: its error)."""
    from composer.errors import NetworkError
    from composer.network.ports import parse_publish

    for spec in specs:
        try:
            parse_publish(spec)
        except NetworkError as error:
            raise UsageError(error.message, hint=error.hint) from None


def _exposed(options: dict, image_config: dict) -> list[str]:
    """The image's EXPOSE and ``--expose`` ports ("8000-8001/udp" expanded), as "80/tcp"."""
    exposed = [*(image_config.get("ExposedPorts") or {}), *options.get("expose", [])]
    if not exposed:
        return []
    from composer.network.ports import publish_all

    return publish_all(exposed, [])


RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")


def parse_restart(value: str) -> dict:
    """``--restart no|always|unless-stopped|on-failure[:N]`` -> docker's RestartPolicy."""
    name, _, count = value.partition(":")
    if name not in RESTART_NAMES or (count and (name != "on-failure" or not count.isdigit())):
        raise UsageError(f"invalid restart policy {value!r}",
                         hint="use no, always, unless-stopped or on-failure[:max-retries]")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def _apply_lifecycle(options: dict, image_config: dict, config) -> None:
    """--restart, --stop-timeout, --log-driver/--log-opt and the healthcheck flags."""
    from composer.cli.run_flags import parse_duration

    if "restart" in options:
        config.restart_policy = parse_restart(options["restart"])
        if config.restart_policy["Name"] != "no" and config.auto_remove:
            raise UsageError("conflicting options: cannot specify both --restart and --rm")
    if "stop_timeout" in options:
        config.stop_timeout = _int(options["stop_timeout"], "--stop-timeout")
    config.log_driver = options.get("log_driver", "json-file")
    if config.log_driver not in ("json-file", "none", "local"):
        raise UsageError(f"log driver {config.log_driver!r} is not supported", hint="use json-file or none")
    for item in options.get("log_opt", []):
        key, _, value = item.partition("=")
        if key not in ("max-size", "max-file", "compress", "labels", "env", "tag", "mode", "max-buffer-size"):
            raise UsageError(f"unknown log opt {key!r} for json-file log driver")
        config.log_options[key] = value
    health = dict(image_config.get("Healthcheck") or {})
    if options.get("no_healthcheck"):
        health = {"Test": ["NONE"]}
    if "health_cmd" in options:
        health["Test"] = ["CMD-SHELL", options["health_cmd"]]
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
                      ("start_interval", "StartInterval")):
        if f"health_{flag}" in options:
            health[key] = int(parse_duration(options[f"health_{flag}"], f"--health-{flag}") * 1e9)
    if "health_retries" in options:
        health["Retries"] = _int(options["health_retries"], "--health-retries")
    if health.get("Test") and health["Test"][0] != "NONE":
        config.healthcheck = health
    elif health and not health.get("Test") and not options.get("no_healthcheck"):
        raise UsageError("--health-* flags need a health command", hint="add --health-cmd")


MODES = {"pid": ("", "host", "private"), "ipc": ("", "host", "private", "shareable", "none"), "uts": ("", "host"),
         "cgroupns": ("", "host", "private")}


def _check_modes(config) -> None:
    """--pid/--ipc/--uts/--cgroupns/--userns/--network values this runtime supports."""
    for flag, allowed in MODES.items():
        value = getattr(config, f"{flag}_mode")
        if value not in allowed and not (flag in ("pid", "ipc") and value.startswith("container:")):
            raise UsageError(f"--{flag} {value!r} is not supported",
                             hint=f"use one of: {', '.join(a for a in allowed if a)}" +
                             (" or container:NAME" if flag in ("pid", "ipc") else ""))
    if config.publish and (config.network in ("private", "none", "host") or config.network.startswith("container:")):
        raise UsageError("publishing ports (-p) needs a bridge network",
                         hint="drop --network none/host/container:NAME, or use --network bridge")
    _resolve_joined_containers(config)


def _check_userns(config) -> None:
    """--userns host (docker's only value) or private (composer's subordinate ids, like userns-remap),
    which cannot share the host's or another container's namespaces, nor be privileged."""
    if config.userns_mode not in ("", "host", "private"):
        raise UsageError(f"--userns {config.userns_mode!r} is not supported", hint="use host or private")
    if config.userns_mode != "private":
        return
    shared = [flag for flag, value in (("--pid", config.pid_mode), ("--ipc", config.ipc_mode),
                                       ("--uts", config.uts_mode), ("--network", config.network))
              if value == "host" or value.startswith("container:")]
    if shared or config.security.privileged:
        raise UsageError(f"--userns private cannot be combined with {(shared or ['--privileged'])[0]}",
                         hint="leave out --userns or the host/container namespace flag")


def _primary_endpoint(options: dict, config) -> None:
    """``--network-alias``/``--ip``/``--ip6``/``--link-local-ip``/``--link`` for the ``--network``
    network: an endpoint entry naming it (``attach_network`` joins it once, with these);
    user-defined networks only, as docker (``--link`` on the default bridge too)."""
    aliases, ip, ip6 = options.get("network_alias", []), options.get("ip", ""), options.get("ip6", "")
    links, local = options.get("link", []), options.get("link_local_ip", [])
    if not (aliases or ip or ip6 or links or local):
        return
    user_defined = config.network not in ("bridge", "none", "host", "private") and not config.network.startswith("container:")
    if not user_defined and (aliases or ip or ip6 or local or config.network != "bridge"):
        what = "network-scoped alias is" if aliases else "links are" if links else "user specified IP address is"
        raise UsageError(f"{what} supported only for containers in user defined networks",
                         hint="add --network NAME of a network made with 'composer network create'")
    from composer.engine.runtime.config import Endpoint
    from composer.network.model import parse_link, parse_link_local

    for address in local:
        parse_link_local(address)
    links = [parse_link(link) for link in links]
    for link in links if config.network == "bridge" else ():  # legacy links only: docker checks their target
        _check_link_target(link.partition(":")[0])
    config.endpoints = [Endpoint(network=config.network, aliases=list(aliases), ipv4_address=ip, ipv6_address=ip6,
                                 links=links, link_local_ips=list(local))]


def _check_link_target(target: str) -> None:
    """docker refuses a legacy ``--link`` (default bridge) to a container that does not exist."""
    from composer.engine.runtime.state import find_container
    from composer.errors import ContainerNotFound

    try:
        find_container(target)
    except ContainerNotFound:
        raise ContainerNotFound(f"could not get container for {target}: No such container: {target}",
                                hint="start the container to link to first") from None


def _resolve_joined_containers(config) -> None:
    """``container:NAME`` modes: NAME must be running; its id is kept (docker's HostConfig shape)."""
    for field in ("pid_mode", "ipc_mode", "network"):
        value = getattr(config, field)
        if not value.startswith("container:"):
            continue
        from composer.engine.runtime import containers

        target = containers.resolve(value.partition(":")[2])
        containers.running_pid(target)  # (a donor's IPC mode is checked once, at start, as docker does)
        setattr(config, field, f"container:{target}")


def _int(value: str, flag: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"invalid value {value!r} for {flag}: an integer is needed") from None


def _parse_ulimit(value: str) -> tuple[str, int, int]:
    from composer.engine.runtime.init import RLIMITS

    name, _, limits = value.partition("=")
    soft, _, hard = limits.partition(":")
    if name not in RLIMITS or not soft:
        raise UsageError(f"invalid ulimit {value!r}", hint="use NAME=SOFT[:HARD], e.g. nofile=1024:2048")
    return name, _int(soft, "--ulimit"), _int(hard or soft, "--ulimit")


def _apply_resources(options: dict, resources) -> None:
    if "memory" in options:
        resources.memory = parse_bytes(options["memory"], "--memory")
    if "memory_swap" in options:
        resources.memory_swap = parse_bytes(options["memory_swap"], "--memory-swap")
    if "memory_reservation" in options:
        resources.memory_reservation = parse_bytes(options["memory_reservation"], "--memory-reservation")
    if resources.memory or resources.memory_swap or resources.memory_reservation:
        from composer.engine.runtime.update import check_memory_values  # dockerd's refusals

        check_memory_values(resources.memory, resources.memory_swap, resources.memory_reservation)
    if resources.memory > 0 and not resources.memory_swap:
        resources.memory_swap = 2 * resources.memory  # docker: as much swap as memory
    if "cpus" in options:
        try:
            resources.nano_cpus = int(float(options["cpus"]) * 1e9)
        except ValueError:
            raise UsageError(f"invalid value {options['cpus']!r} for --cpus") from None
    if "cpu_shares" in options:
        resources.cpu_shares = _int(options["cpu_shares"], "--cpu-shares")
    _apply_cfs(options, resources)
    resources.cpuset_cpus = options.get("cpuset_cpus", "")
    resources.cpuset_mems = options.get("cpuset_mems", "")
    if "pids_limit" in options:
        resources.pids_limit = _int(options["pids_limit"], "--pids-limit")
    if "memory_swappiness" in options:
        resources.memory_swappiness = _int(options["memory_swappiness"], "--memory-swappiness")
    resources.oom_kill_disable = options.get("oom_kill_disable", False)
    if {"device_read_bps", "device_write_bps", "device_read_iops", "device_write_iops",
            "blkio_weight_device"} & options.keys():
        from composer.engine.runtime.blkiothrottle import from_options

        resources.blkio_throttle = from_options(options)
    if "blkio_weight" in options:
        resources.blkio_weight = _int(options["blkio_weight"], "--blkio-weight")
        if resources.blkio_weight and not 10 <= resources.blkio_weight <= 1000:
            raise UsageError("range of blkio weight is from 10 to 1000")


def _apply_cfs(options: dict, resources) -> None:
    """``--cpu-period``/``--cpu-quota`` (microseconds) with docker's checks."""
    if "cpu_period" in options:
        resources.cpu_period = _int(options["cpu_period"], "--cpu-period")
    if "cpu_quota" in options:
        resources.cpu_quota = _int(options["cpu_quota"], "--cpu-quota")
    for value, word in ((resources.cpu_period, "Period"), (resources.cpu_quota, "Quota")):
        if value and resources.nano_cpus:
            raise UsageError(f"Conflicting options: Nano CPUs and CPU {word} cannot both be set")
    if resources.cpu_period and not 1000 <= resources.cpu_period <= 1000000:
        raise UsageError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if resources.cpu_quota and 0 < resources.cpu_quota < 1000:
        raise UsageError("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def _apply_security(options: dict, config) -> None:
    security = config.security
    security.privileged = options.get("privileged", False)
    security.read_only = options.get("read_only", False)
    security.cap_add = options.get("cap_add", [])
    security.cap_drop = options.get("cap_drop", [])
    for opt in options.get("security_opt", []):
        key, _, value = opt.replace("=", ":", 1).partition(":")
        if key == "no-new-privileges":
            security.no_new_privileges = value in ("", "true")
        elif key == "seccomp":
            security.seccomp = value if value == "unconfined" else os.path.abspath(value)
        elif key not in ("apparmor", "label"):
            raise UsageError(f"invalid --security-opt: {opt!r}")
    for item in options.get("sysctl", []):
        key, _, value = item.partition("=")
        namespaced = key in NAMESPACED_SYSCTLS or key.startswith(NAMESPACED_SYSCTL_PREFIXES)
        if not namespaced or (key.startswith("net.") and config.network == "host"):
            raise UsageError(f"sysctl {key!r} is not allowed", hint="only namespaced sysctls can be set")
        security.sysctls[key] = value


def _mounts(options: dict) -> list:
    if not any(key in options for key in ("volume", "mount", "tmpfs", "init", "volumes_from")):
        return []
    from composer.engine.runtime.config import Mount
    from composer.engine.runtime.mounts import parse_mount_flag, parse_tmpfs_flag, parse_volume_flag

    mounts = [parse_volume_flag(v) for v in options.get("volume", [])]
    mounts += [parse_mount_flag(v) for v in options.get("mount", [])]
    mounts += [parse_tmpfs_flag(v) for v in options.get("tmpfs", [])]
    if options.get("volumes_from"):
        mounts += _volumes_from(options["volumes_from"], {mount.target for mount in mounts})
    if options.get("init"):
        init_binary = next((p for p in ("/usr/bin/tini-static", "/usr/bin/tini") if os.path.exists(p)), None)
        if init_binary is None:
            from composer.errors import ContainerRuntimeError

            raise ContainerRuntimeError("--init needs tini on the host", hint="apt-get install tini")
        mounts.append(Mount(type="bind", source=init_binary, target="/sbin/docker-init", readonly=True))
    return mounts


class _Donors:
    """What ``shared_mounts`` reads of a compose service: its ``volumes_from`` and name."""

    def __init__(self, entries: list[str]) -> None:
        self.volumes_from, self.name = tuple(entries), "(run)"


def _volumes_from(entries: list[str], taken: set[str]) -> list:
    """``--volumes-from NAME[:ro|:rw]``: the bind and volume mounts of each named container."""
    from composer.engine.runtime.adapter import shared_mounts
    from composer.engine.runtime.containers import resolve

    for entry in entries:  # docker's own error for a missing one (before the compose-worded check)
        resolve(entry[:-3] if entry.endswith((":ro", ":rw")) else entry)
    return shared_mounts(_Donors(entries), taken)
