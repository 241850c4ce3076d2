"""Typer-free ``system info`` and ``system df`` (FAST_PATHS entries) and what they print, shared
with the typer commands of ``composer.cli.system`` (their help stays typer's: a main returns None
for ``--help``)."""

from __future__ import annotations

import platform

from composer import __version__
from composer.cli.run_flags import _flags, parse_verb

TABLES: dict[str, dict] = {"info": {}, "df": {}}
_flags("value", "-f|--format", table=TABLES["info"])
_flags("bool", "-v|--verbose", table=TABLES["df"])
_flags("value", "--format", table=TABLES["df"])


def _parsed(verb: str, argv: list[str]) -> dict | None:
    """The options of ``system VERB``; None (typer) for help."""
    parsed = parse_verb(argv, TABLES[verb], f"system {verb}")
    return None if parsed is None else parsed[0]


def info_main(argv: list[str]) -> int | None:
    """``system info [-f FORMAT]``."""
    options = _parsed("info", argv)
    if options is None:
        return None
    info_command(options.get("format") or "")
    return 0


def df_main(argv: list[str]) -> int | None:
    """``system df [-v] [--format FORMAT]``."""
    options = _parsed("df", argv)
    if options is None:
        return None
    df_command(options.get("format") or "", bool(options.get("verbose")))
    return 0


def info_command(output_format: str) -> None:
    """``system info``: docker info's Server section, or ``-f json``/a Go template of its fields."""
    from composer.units import bytes_size

    data = info_data()
    if output_format:
        from composer.cli.gotemplate import render

        print(render("{{json .}}" if output_format == "json" else output_format, data))
        return
    print(f"Server:\n Containers: {data['Containers']}\n  Running: {data['ContainersRunning']}\n"
          f"  Paused: {data['ContainersPaused']}\n  Stopped: {data['ContainersStopped']}\n"
          f" Images: {data['Images']}\n Server Version: {data['ServerVersion']}\n"
          f" Storage Driver: {data['Driver']}\n Logging Driver: {data['LoggingDriver']}\n"
          f" Cgroup Driver: {data['CgroupDriver']}\n Cgroup Version: {data['CgroupVersion']}\n"
          f" Default Runtime: {data['DefaultRuntime']}\n Kernel Version: {data['KernelVersion']}\n"
          f" Operating System: {data['OperatingSystem']}\n OSType: {data['OSType']}\n"
          f" Architecture: {data['Architecture']}\n CPUs: {data['NCPU']}\n"
          f" Total Memory: {bytes_size(data['MemTotal'])}\n Name: {data['Name']}\n"
          f" Docker Root Dir: {data['DockerRootDir']}")


def df_command(output_format: str, verbose: bool) -> None:
    """``system df``: docker's usage table (``-v``: each image, container, volume, cache entry)."""
    from composer.cli.psformat import render

    if verbose:
        _df_verbose(output_format)
        return
    template = DF_TABLE if output_format in ("", "table") else output_format
    for line in render(df_rows(), template, DF_HEADERS):
        print(line)


def info_data() -> dict:
    """``docker info``'s fields that mean something here (docker's names and types)."""
    import os
    import socket

    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.cgroups import detect_setup
    from composer.engine.runtime.containers import list_containers
    from composer.settings import state_root

    infos = list_containers(all=True)
    count = lambda *states: sum(1 for i in infos if i.state in states)  # noqa: E731
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    return {"ID": "", "Containers": len(infos), "ContainersRunning": count("running", "restarting"),
            "ContainersPaused": count("paused"), "ContainersStopped": count("exited", "created", "dead"),
            "Images": len(ImageStore().read_db()["images"]), "Driver": "overlay2", "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs", "CgroupVersion": "2" if detect_setup() == "unified" else "1",
            "KernelVersion": platform.release(), "OperatingSystem": _os_name(), "OSVersion": "",
            "OSType": "linux", "Architecture": platform.machine(), "NCPU": os.cpu_count(), "MemTotal": memory,
            "DockerRootDir": str(state_root()), "Name": socket.gethostname(), "ServerVersion": __version__,
            "Labels": [], "Debug": False, "ExperimentalBuild": False, "DefaultRuntime": "composer",
            "Runtimes": {"composer": {"path": "composer"}}, "Swarm": {"LocalNodeState": "inactive"},
            "SecurityOptions": ["name=seccomp,profile=builtin"], "Warnings": None,
            "CgroupSetup": detect_setup()}


def _os_name() -> str:
    """PRETTY_NAME of /etc/os-release, as docker info's Operating System."""
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def _du(path: str) -> int:
    from composer.engine.runtime.layerview import disk_usage

    return disk_usage(path)


def human_size(size: float) -> str:
    """docker's units.HumanSize as ``system df`` prints it: 4 significant digits (``1.986MB``)."""
    from composer.units import DECIMAL_UNITS, custom_size

    return custom_size(size, 1000.0, DECIMAL_UNITS, 4)


def _reclaimable(part: int, whole: int) -> str:
    """docker's RECLAIMABLE: the size, and its share of ``whole`` when that is not 0."""
    return f"{human_size(part)} ({round(100 * part / whole)}%)" if whole else human_size(part)


def df_rows() -> list[dict]:
    """``system df``'s rows (docker's JSON field names): images, containers, volumes, build cache."""
    from composer.cli.volume_fast import _in_use
    from composer.engine.images.catalog import image_size, layer_size
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.containers import LIVE, list_containers
    from composer.engine.runtime.state import ContainerDir
    from composer.engine.volumes import VolumeStore

    db = ImageStore().read_db()
    sizes = {image_id: image_size(db, record) for image_id, record in db["images"].items()}
    layers = sum(layer_size(db, chain) for chain in {*db["layers"], *db.get("disk", {})})  # each layer once
    infos = list_containers(all=True)
    used = {i.image_id for i in infos}  # (one read of the containers for both)
    volumes, in_use = VolumeStore().list(), _in_use()
    volume_sizes = {m["Name"]: _du(m["Mountpoint"]) for m in volumes}
    unused_images = sum(size for image_id, size in sizes.items() if image_id not in used)
    unused_volumes = sum(size for name, size in volume_sizes.items() if name not in in_use)
    written = {i.id: _du(ContainerDir(i.id).upper) for i in infos}  # the writable layers, as docker's
    containers_size = sum(written.values())
    stopped = sum(1 for i in infos if i.state not in LIVE)
    return [
        {"Type": "Images", "TotalCount": str(len(sizes)), "Active": str(sum(1 for i in sizes if i in used)),
         "Size": human_size(layers), "Reclaimable": _reclaimable(unused_images, sum(sizes.values()))},
        {"Type": "Containers", "TotalCount": str(len(infos)), "Active": str(len(infos) - stopped),
         "Size": human_size(containers_size),
         "Reclaimable": _reclaimable(sum(written[i.id] for i in infos if i.state not in LIVE), containers_size)},
        {"Type": "Local Volumes", "TotalCount": str(len(volumes)), "Active": str(sum(1 for n in volume_sizes if n in in_use)),
         "Size": human_size(sum(volume_sizes.values())), "Reclaimable": _reclaimable(unused_volumes, sum(volume_sizes.values()))},
        build_cache_row(db),
    ]


def build_cache_row(db: dict) -> dict:
    """``system df``'s Build Cache row: the cached step layers; as docker's, the size is of those
    no image shares (what ``builder prune -a`` frees), all reclaimable while no build runs."""
    from composer.engine.build.cache import step_layers
    from composer.engine.images.catalog import layer_size

    layers = step_layers()
    imaged = {chain for record in db["images"].values() for chain in record["chain"]}
    own = {layer["chain"]: layer for layer in layers.values() if layer["chain"] not in imaged}
    size = sum(layer_size(db, chain) or int(layer.get("size") or 0) for chain, layer in own.items())
    return {"Type": "Build Cache", "TotalCount": str(len(layers)), "Active": "0", "Size": human_size(size),
            "Reclaimable": human_size(size)}


DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
DF_HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}


def df_details() -> dict[str, list[dict]]:
    """``system df -v``'s rows (docker's JSON field names): each image with its shared and
    unique size and containers, each container with its writable layer's size, each volume
    with its links, each build cache entry."""
    from composer.cli.images import _summary_record
    from composer.cli.psformat import row
    from composer.engine.images.catalog import layer_size, list_images
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.containers import list_containers
    from composer.engine.runtime.state import ContainerDir
    from composer.engine.volumes import VolumeStore

    store = ImageStore()
    db, infos = store.read_db(), sorted(list_containers(all=True), key=lambda i: -i.created)  # newest first
    users: dict[str, int] = {}
    for chain in (chain for record in db["images"].values() for chain in record["chain"]):
        users[chain] = users.get(chain, 0) + 1
    images = []
    for summary in list_images(store):
        chains = db["images"][summary.id]["chain"]
        shared = sum(layer_size(db, chain) for chain in chains if users[chain] > 1)
        record = _summary_record(summary.id, summary)
        record.update(Digest="" if record["Digest"] == "<none>" else record["Digest"], Containers=str(sum(1 for i in infos if i.image_id == summary.id)), SharedSize=human_size(shared),
                      UniqueSize=human_size(summary.size - shared))
        images.append(record)
    containers = [{**{k: v for k, v in row(info).items() if k != "Label"}, "Size": human_size(_du(ContainerDir(info.id).upper))}
                  for info in infos]
    volumes = [{"Name": meta["Name"], "Links": str(sum(1 for i in infos if meta["Name"] in i.mounts)),
                "Size": human_size(_du(meta["Mountpoint"]))} for meta in VolumeStore().list()]
    return {"Images": images, "Containers": containers, "Volumes": volumes, "BuildCache": _cache_rows(db)}


def _cache_rows(db: dict) -> list[dict]:
    """``system df -v``'s build cache entries: the cached step layers (docker's field names)."""
    from composer.engine.build.cache import step_layers
    from composer.engine.images.catalog import layer_size

    return [{"ID": key.removeprefix("sha256:")[:12], "CacheType": "regular",
             "Size": human_size(layer_size(db, layer["chain"]) or int(layer.get("size") or 0)),
             "CreatedSince": "", "LastUsedSince": "", "UsageCount": "", "Shared": "false", "InUse": "false"}
            for key, layer in step_layers().items()]


DF_SECTIONS = (
    ("Images space usage:", "Images", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
     "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"),
    ("Containers space usage:", "Containers", "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t"
     "{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}"),
    ("Local Volumes space usage:", "Volumes", "table {{.Name}}\t{{.Links}}\t{{.Size}}"))
DF_VERBOSE_HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
                      "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
                      "Containers": "CONTAINERS", "Image": "IMAGE", "Command": "COMMAND",
                      "LocalVolumes": "LOCAL VOLUMES", "RunningFor": "CREATED", "Status": "STATUS",
                      "Names": "NAMES", "Name": "VOLUME NAME", "Links": "LINKS"}


def _df_verbose(output_format: str) -> None:
    """``system df -v``: docker's three tables and the build cache's, or ``--format json``'s one object."""
    import json

    from composer.cli.psformat import render

    details = df_details()
    if output_format == "json":
        print(json.dumps(details, separators=(",", ":")))
        return
    for title, key, template in DF_SECTIONS:
        rows = [{**r, "ID": r["ID"][7:19]} if key == "Images" else r for r in details[key]]
        headers = {**DF_VERBOSE_HEADERS, "ID": "IMAGE ID" if key == "Images" else "CONTAINER ID"}
        print(f"{title}\n\n" + "\n".join(render(rows, template, headers)) + "\n")
    cache = details["BuildCache"]
    print(f"Build cache usage: {build_cache_row(_store_db())['Size']}\n")
    cache_headers = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
                     "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}
    print("\n".join(render(cache, "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                                 "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}", cache_headers)))


def _store_db() -> dict:
    from composer.engine.images.store import ImageStore

    return ImageStore().read_db()
