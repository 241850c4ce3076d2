"""What containers look like from outside: ``ContainerInfo`` (ls) and docker's inspect JSON."""

from __future__ import annotations

import os
import time

from composer.engine.object_events import PREDEFINED_NETWORKS
from composer.engine.runtime.record import Record

TYPE_CHECKING = False  # typing stays off the CLI's start-up
if TYPE_CHECKING:
    from composer.network.model import Endpoint, Network, PortBinding


class ContainerInfo(Record):
    """One container as ``container ls -a`` sees it (times in seconds since the epoch)."""

    id: str
    name: str
    image: str
    image_id: str
    labels: dict[str, str]
    created: float
    state: str                # created|running|paused|restarting|exited|dead
    exit_code: int = 0
    health: str = "none"      # none|starting|healthy|unhealthy
    pid: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0
    restart_count: int = 0
    command: str = ""
    networks: list = []       # network names
    mounts: list = []         # volume names, bind sources
    targets: list = []        # the mounts' destinations
    ports: list = []          # ``-p`` specs as given
    exposed: list = []        # the image's EXPOSE and ``--expose`` ports (``90/tcp``)


def epoch(stamp: str) -> float:
    """RFC 3339 nano (UTC, as we write it) -> seconds; 0 for ""."""
    if not stamp:
        return 0.0
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    if stamp.endswith("Z") and len(whole) == 19 and whole[4] + whole[7] + whole[10] + whole[13] + whole[16] == "--T::":
        try:  # the form composer writes, by arithmetic (datetime's import costs 1-2 ms of every listing)
            days = _days_since_epoch(int(whole[:4]), int(whole[5:7]), int(whole[8:10]))
            seconds = int(whole[11:13]) * 3600 + int(whole[14:16]) * 60 + int(whole[17:19])
            return days * 86400 + seconds + float(f"0.{fraction or 0}")
        except ValueError:
            pass
    from datetime import datetime, timezone  # C: strptime's first call costs ms (regexes, calendar, locale)

    try:
        parsed = datetime.fromisoformat(whole)
    except ValueError:  # what fromisoformat refuses and strptime takes (unpadded fields)
        import calendar

        return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{fraction or 0}")
    return parsed.replace(tzinfo=parsed.tzinfo or timezone.utc).timestamp() + float(f"0.{fraction or 0}")


def _days_since_epoch(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days inverse)."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]:
        raise ValueError(f"no such date: {year}-{month}-{day}")
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year - 719468


def info_from(config: dict, state: dict) -> ContainerInfo:
    """The summary of one container from its config.json and (reconciled) state.json."""
    health = (state.get("Health") or {}).get("Status", "none") if config.get("healthcheck") else "none"
    return ContainerInfo(
        id=config["id"], name=config["name"], image=config["image"], image_id=config["image_id"],
        labels=config.get("labels", {}), created=epoch(state.get("Created", "")),
        state=state.get("Status", "created"), exit_code=state.get("ExitCode", 0), health=health,
        pid=state.get("Pid", 0), started_at=epoch(state.get("StartedAt", "")),
        finished_at=epoch(state.get("FinishedAt", "")), restart_count=state.get("RestartCount", 0),
        command=" ".join(f"'{a}'" if " " in a else a for a in config["args"]),  # dockerd quotes so
        networks=[name for name, _ in _networks(config)], ports=list(config.get("publish", [])),
        exposed=list(config.get("exposed", [])), mounts=[m["source"] for m in config.get("mounts", ())],
        targets=[m["target"] for m in config.get("mounts", ())])


ZERO_TIME = "0001-01-01T00:00:00Z"


def inspect_dict(config: dict, state: dict, sizes: tuple[int, int] | None = None) -> dict:
    """docker's ``container inspect`` shape (the keys of API 1.41; what has no meaning here is
    docker's empty value); ``sizes`` (``inspect -s``): SizeRw and SizeRootFs."""
    status = state.get("Status", "created")
    health = state.get("Health") if config.get("healthcheck") else None
    args = process_args(config)
    return {
        "Id": config["id"], "Created": state.get("Created", ""), "Path": args[0], "Args": args[1:],
        "State": {"Status": status, "Running": status in ("running", "paused", "restarting"),
                  "Paused": status == "paused",
                  "Restarting": status == "restarting", "OOMKilled": state.get("OOMKilled", False),
                  "Dead": status == "dead", "Pid": state.get("Pid", 0), "ExitCode": state.get("ExitCode", 0),
                  "Error": state.get("Error", ""), "StartedAt": state.get("StartedAt") or ZERO_TIME,
                  "FinishedAt": state.get("FinishedAt") or ZERO_TIME,
                  **({"Health": health} if health else {})},
        "Image": config["image_id"], **_etc_paths(config["id"]),
        "LogPath": state.get("LogPath", ""), "Name": "/" + config["name"],
        "RestartCount": state.get("RestartCount", 0), "Driver": "overlay2", "Platform": "linux",
        "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": None,
        "HostConfig": host_config(config),
        "GraphDriver": _graph_driver(config),
        **({"SizeRw": sizes[0], "SizeRootFs": sizes[1]} if sizes else {}),
        "Mounts": [_mount(m) for m in shown_mounts(config) if m["type"] != "tmpfs"],  # (--tmpfs: HostConfig's)
        "Config": _config_section(config),
        "NetworkSettings": {"Networks": {name: {"Aliases": aliases} for name, aliases in _networks(config)}},
    }


INIT_PATH = "/sbin/docker-init"


# the ids ``network ls`` gives docker's pre-defined networks (object_events' table)
PREDEFINED_NETWORK_IDS = {name: net_id for name, (net_id, _driver) in PREDEFINED_NETWORKS.items()}


def predefined_network_id(name: str) -> str:
    """The id of docker's pre-defined ``host`` or ``none`` network."""
    return PREDEFINED_NETWORK_IDS[name]


def network_ids() -> dict[str, str]:
    """Each network's id by its name, the pre-defined ones' too."""
    from composer.network.manager import NetworkManager

    return {**PREDEFINED_NETWORK_IDS, **{net.name: net.id for net in NetworkManager(dns=False).store.all()}}


def go_map(mapping: dict) -> dict:
    """A Go map as dockerd's JSON has it: its keys sorted."""
    return dict(sorted(mapping.items()))


def familiar_image(image: str) -> str:
    """An image name as one usually gives it (docker shows it as given): ``busybox``, not
    ``docker.io/library/busybox:latest``."""
    return image.removeprefix("docker.io/library/").removesuffix(":latest")


def process_args(config: dict) -> list[str]:
    """The container's ENTRYPOINT + CMD as docker shows them (``--init``'s docker-init left out)."""
    args = config["args"]
    return args[2:] if config.get("init") and args[:2] == [INIT_PATH, "--"] else args


def shown_mounts(config: dict) -> list[dict]:
    """The container's mounts but ``--init``'s docker-init (docker's runtime adds it unseen)."""
    return [m for m in config["mounts"] if not (config.get("init") and m["target"] == INIT_PATH)]


def _etc_paths(container_id: str) -> dict[str, str]:
    """``ResolvConfPath``, ``HostnamePath``, ``HostsPath``: the files a start wrote ("" before)."""
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(container_id)
    return {key: path if os.path.exists(path) else "" for key, path in (
        ("ResolvConfPath", cdir.file("resolv.conf")), ("HostnamePath", cdir.file("hostname")),
        ("HostsPath", cdir.file("hosts")))}


def legacy_links(config: dict) -> list[str]:
    """The ``--link CONTAINER:ALIAS`` entries of the default bridge (docker's legacy links)."""
    return [link for endpoint in config.get("endpoints") or () if endpoint.get("network") == "bridge"
            for link in endpoint.get("links") or ()]


def container_sizes(config: dict) -> tuple[int, int]:
    """(bytes written in the container's layer, those plus its image's): inspect -s's SizeRw and
    SizeRootFs."""
    from composer.engine.images.catalog import image_size
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.state import ContainerDir

    db = ImageStore().read_db()
    record = db["images"].get(config["image_id"])
    written = _content_bytes(ContainerDir(config["id"]).upper)
    return written, written + (image_size(db, record) if record else 0)


def _content_bytes(top: str) -> int:
    """The sizes (st_size, as docker's directory.Size) of the files under ``top``, each inode once."""
    inodes: dict[int, int] = {}
    for directory, _, names in os.walk(top):
        for name in names:
            try:
                found = os.lstat(os.path.join(directory, name))
            except OSError:
                continue  # gone meanwhile
            inodes[found.st_ino] = found.st_size
    return sum(inodes.values())


def _mount(mount: dict) -> dict:
    """One entry of inspect's ``Mounts``: a volume's Source is its directory, Mode as docker's."""
    if mount["type"] != "volume":
        return {"Type": mount["type"], "Source": mount["source"], "Destination": mount["target"],
                "Mode": "ro" if mount["readonly"] and _bind_flag(mount) else "", "RW": not mount["readonly"],
                "Propagation": "rprivate" if mount["type"] == "bind" else ""}
    from composer.engine.volumes import VolumeStore
    from composer.errors import VolumeError

    try:
        source = VolumeStore().data_path(mount["source"])
    except VolumeError:
        source = mount["source"]
    return {"Type": "volume", "Name": mount["source"], "Source": source, "Destination": mount["target"],
            "Driver": "local", "Mode": "" if mount.get("anonymous") else "ro" if mount["readonly"] else "z",
            "RW": not mount["readonly"],
            "Propagation": ""}


def _config_section(config: dict) -> dict:
    """inspect's ``Config``: what the container was created with."""
    entrypoint = config.get("entrypoint") or None  # (recorded since session 8: before, all in Cmd)
    attached = config.get("attached", False)
    return {"Hostname": config["hostname"], "Domainname": config.get("domainname", ""), "User": config["user"],
            "AttachStdin": attached and config["stdin"], "AttachStdout": attached, "AttachStderr": attached,
            **_exposed_ports(config),
            "Tty": config["tty"], "OpenStdin": config["stdin"], "StdinOnce": attached and config["stdin"],
            "Env": config["env"],
            "Cmd": process_args(config)[len(entrypoint or ()):] or None,
            **({"Healthcheck": config["healthcheck"]} if config.get("healthcheck") else {}),
            "Image": familiar_image(config["image"]),
            "Volumes": {m["target"]: {} for m in config["mounts"] if m.get("anonymous")} or None,  # -v /path, VOLUME
            "WorkingDir": "" if config["cwd"] == "/" else config["cwd"],
            "Entrypoint": entrypoint,
            "OnBuild": None, "Labels": go_map(config["labels"]),
            **({"StopSignal": config["stop_signal"]} if config["stop_signal"] not in ("SIGTERM", "15") else {}),
            **({"StopTimeout": config["stop_timeout"]} if config.get("stop_timeout") is not None else {})}


def _exposed_ports(config: dict) -> dict:
    """``Config.ExposedPorts``: the image's EXPOSE, ``--expose`` and ``-p``'s container ports,
    sorted as Go marshals a map (absent when there are none, as docker)."""
    ports = {*config.get("exposed", []), *port_bindings(config.get("publish", []))}
    return {"ExposedPorts": {key: {} for key in sorted(ports)}} if ports else {}


def host_config(config: dict) -> dict:
    """inspect's ``HostConfig``, in the order of docker's struct (API 1.41: its ``Resources``
    inlined after ``Isolation``; the docker CLI's empty lists ``[]``)."""
    from composer.engine.runtime.blkiothrottle import inspect as blkio_inspect
    from composer.engine.runtime.config import MASKED_PATHS, READONLY_PATHS

    resources, security = config["resources"], config["security"]
    network = config["network"]
    mounts = shown_mounts(config)
    return {
        "Binds": [f"{m['source']}:{m['target']}" + (":ro" if m["readonly"] else "")
                  for m in mounts if m["type"] == "volume" or _bind_flag(m)] or None,
        "ContainerIDFile": "", "LogConfig": {"Type": config.get("log_driver", "json-file"),
                                             "Config": go_map(config.get("log_options", {}))},
        "NetworkMode": network,
        "PortBindings": go_map(port_bindings(config.get("publish", []))),
        "RestartPolicy": config.get("restart_policy") or {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": config["auto_remove"], "VolumeDriver": config.get("volume_driver", ""), "VolumesFrom": None,
        "CapAdd": _capabilities(security.get("cap_add")), "CapDrop": _capabilities(security.get("cap_drop")),
        "CgroupnsMode": config.get("cgroupns_mode") or "host", "Dns": config.get("dns", []),
        "DnsOptions": config.get("dns_options", []), "DnsSearch": config.get("dns_search", []),
        "ExtraHosts": config.get("extra_hosts") or None, "GroupAdd": config.get("group_add") or None,
        "IpcMode": config.get("ipc_mode") or "private", "Cgroup": "",
        "Links": [f"/{link.partition(':')[0]}:/{config['name']}/{link.partition(':')[2]}"
                  for link in legacy_links(config)] or None,
        "OomScoreAdj": config.get("oom_score_adj") or 0, "PidMode": config.get("pid_mode", ""),
        "Privileged": security["privileged"], "PublishAllPorts": False, "ReadonlyRootfs": security["read_only"],
        "SecurityOpt": None,
        **({"Tmpfs": go_map(tmpfs)} if (tmpfs := {m["target"]: m.get("options", "") for m in mounts
                                                  if m["type"] == "tmpfs"}) else {}),
        "UTSMode": config.get("uts_mode", ""), "UsernsMode": config.get("userns_mode", ""),
        "ShmSize": config.get("shm_size", 64 * 1024 * 1024),
        **({"Sysctls": go_map(security["sysctls"])} if security.get("sysctls") else {}),
        "Runtime": "runc", "ConsoleSize": [0, 0],
        "Isolation": "", "CpuShares": resources.get("cpu_shares", 0), "Memory": resources["memory"],
        "NanoCpus": resources["nano_cpus"], "CgroupParent": "", "BlkioWeight": resources.get("blkio_weight", 0),
        **{key: value or [] for key, value in blkio_inspect(resources.get("blkio_throttle") or {}).items()},
        "CpuPeriod": resources.get("cpu_period", 0), "CpuQuota": resources.get("cpu_quota", 0),
        "CpuRealtimePeriod": resources.get("cpu_rt_period", 0),
        "CpuRealtimeRuntime": resources.get("cpu_rt_runtime", 0),
        "CpusetCpus": resources.get("cpuset_cpus", ""), "CpusetMems": resources.get("cpuset_mems", ""),
        "Devices": [], "DeviceCgroupRules": config.get("device_cgroup_rules") or None, "DeviceRequests": None,
        "KernelMemory": resources.get("kernel_memory", 0), "KernelMemoryTCP": 0,
        "MemoryReservation": resources.get("memory_reservation", 0),
        "MemorySwap": resources.get("memory_swap", 0),
        "MemorySwappiness": None if resources.get("memory_swappiness", -1) < 0 else resources["memory_swappiness"],
        "OomKillDisable": bool(resources.get("oom_kill_disable")),
        "PidsLimit": resources["pids_limit"] or None,
        "Ulimits": [{"Name": n, "Hard": hard, "Soft": soft} for n, soft, hard in config.get("ulimits", [])],
        "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        **({"Mounts": given} if (given := [_mount_spec(m) for m in mounts if m["type"] == "bind" and not _bind_flag(m)])
           else {}),
        "MaskedPaths": None if security["privileged"] else list(MASKED_PATHS),
        "ReadonlyPaths": None if security["privileged"] else list(READONLY_PATHS),
        **({"Init": True} if config.get("init") else {}),
        **({"Annotations": go_map(config["annotations"])} if config.get("annotations") else {}),
    }


def _bind_flag(mount: dict) -> bool:
    """Whether a bind came from ``-v`` (it creates a missing source; ``--mount`` refuses to):
    docker lists those in ``HostConfig.Binds``, the others in ``HostConfig.Mounts``."""
    return mount["type"] == "bind" and mount.get("create_source", False)


def _mount_spec(mount: dict) -> dict:
    """One ``HostConfig.Mounts`` entry (``--mount type=bind``) as docker's mount.Mount marshals it."""
    return {"Type": mount["type"], "Source": mount["source"], "Target": mount["target"],
            **({"ReadOnly": True} if mount["readonly"] else {}),
            **({"BindOptions": {"Propagation": mount["propagation"]}} if mount.get("propagation") else {})}


def _capabilities(names: "list[str] | None") -> "list[str] | None":
    """``--cap-add``/``--cap-drop`` as dockerd records them: ``CAP_NET_ADMIN`` (``ALL`` as is)."""
    upper = [name.upper() for name in names or ()]
    return [name if name == "ALL" or name.startswith("CAP_") else f"CAP_{name}" for name in upper] or None


def _graph_driver(config: dict) -> dict:
    """inspect's ``GraphDriver``: the overlay's directories."""
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(config["id"])
    return {"Data": {"LowerDir": ":".join(reversed(config.get("layers", []))), "MergedDir": cdir.rootfs,
                     "UpperDir": cdir.upper, "WorkDir": cdir.work}, "Name": "overlay2"}


def port_bindings(specs: list[str]) -> dict[str, list[dict]]:
    """docker's ``HostConfig.PortBindings`` from ``-p`` specs (a random host port is "")."""
    if not specs:
        return {}
    from composer.network.ports import parse_publish

    bindings: dict[str, list[dict]] = {}
    for spec in specs:
        for port in parse_publish(spec):
            bindings.setdefault(f"{port.container_port}/{port.proto}", []).append(
                {"HostIp": port.host_ip, "HostPort": _host_ports(port)})
    return bindings


def _host_ports(port: "PortBinding") -> str:
    if not port.host_port:
        return ""
    return f"{port.host_port}-{port.host_port_end}" if port.host_port_end else str(port.host_port)


def _prefix(cidr: str) -> int:
    return int(cidr.partition("/")[2] or 0)


def _endpoint_settings(net: "Network", ep: "Endpoint") -> dict:
    """One entry of docker's ``NetworkSettings.Networks`` for a live endpoint."""
    return {"IPAMConfig": None, "Links": None, "Aliases": list(ep.aliases) or None,
            "NetworkID": net.id, "EndpointID": ep.endpoint_id, "Gateway": net.gateway, "IPAddress": ep.ipv4,
            "IPPrefixLen": _prefix(net.subnet), "IPv6Gateway": net.gateway6 if ep.ipv6 else "",
            "GlobalIPv6Address": ep.ipv6, "GlobalIPv6PrefixLen": _prefix(net.subnet6) if ep.ipv6 else 0,
            "MacAddress": ep.mac, "DriverOpts": None, "DNSNames": None if net.default else ep.names()}


def network_settings(config: dict, state: dict, attached: "list[tuple[Network, Endpoint]]") -> dict:
    """docker's ``NetworkSettings`` from the container's live endpoints (``(Network, Endpoint)``
    pairs of the network layer): addresses, gateways, published ports; the top-level address
    fields describe the default bridge, as docker's do."""
    networks: dict[str, dict] = {}
    ports: dict[str, list[dict]] = {}
    top = {"EndpointID": "", "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
           "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": ""}  # DefaultNetworkSettings' order
    for net, ep in attached:
        settings = networks[net.name] = _endpoint_settings(net, ep)
        settings["IPAMConfig"] = _ipam_config(config, net.name)
        if net.default:
            top = {name: settings[name] for name in top}
        else:  # dockerd adds the short id to the aliases on a user-defined network
            settings["Aliases"] = [*(settings["Aliases"] or ()), config["id"][:12]]
        for port in ep.ports:
            ports.setdefault(f"{port.container_port}/{port.proto}", []).append(
                {"HostIp": port.host_ip or "0.0.0.0", "HostPort": str(port.host_port)})
    if attached:  # a running container's exposed ports, published or not (null), as a Go map: sorted
        ports = {key: ports.get(key) for key in sorted({*ports, *_exposed_ports(config).get("ExposedPorts", ())})}
    started = bool(state.get("StartedAt"))
    unattached = [(name, aliases) for name, aliases in _networks(config) if name not in networks]
    stored = any(name not in PREDEFINED_NETWORK_IDS for name, _ in unattached)
    ids = network_ids() if stored else PREDEFINED_NETWORK_IDS  # (the store read only when needed)
    for name, aliases in unattached:  # not connected now (a stopped container): dockerd keeps its NetworkID
        if started and name not in ("bridge", "host", "none"):  # the short id dockerd added at its start
            aliases = [*aliases, config["id"][:12]]
        networks[name] = {"IPAMConfig": _ipam_config(config, name), "Links": None, "Aliases": aliases or None,
                          "NetworkID": ids.get(name, ""), "EndpointID": "", "Gateway": "", "IPAddress": "",
                          "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                          "MacAddress": "", "DriverOpts": None, "DNSNames": None}
    pid = state.get("Pid") or 0
    return {"Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0, "Ports": ports, "SandboxKey": f"/proc/{pid}/ns/net" if pid else "",
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None, **top, "Networks": go_map(networks)}


def _ipam_config(config: dict, network: str) -> dict | None:
    """docker's ``IPAMConfig`` of the container's endpoint on ``network``: the addresses asked for
    (``--ip``, ``--ip6``, ``--link-local-ip``), null without any (docker's CLI's ``network
    connect`` sends an empty one, ``{}``: not told apart)."""
    for endpoint in config.get("endpoints", []):
        if endpoint.get("network") == network:
            return {key: endpoint[field] for key, field in (("IPv4Address", "ipv4_address"),
                                                             ("IPv6Address", "ipv6_address"),
                                                             ("LinkLocalIPs", "link_local_ips"))
                    if endpoint.get(field)} or None
    return None


def _networks(config: dict) -> list[tuple[str, list[str]]]:
    """(network name, aliases) of the container, as docker names them: ``none`` and ``host``
    too, nothing for ``container:ID`` (nor composer's loopback-only ``private``)."""
    mode = config["network"]
    networks = [] if mode == "private" or mode.startswith("container:") else [(mode, [])]
    return networks + [(e["network"], e.get("aliases", [])) for e in config.get("endpoints", [])]
