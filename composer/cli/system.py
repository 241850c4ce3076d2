"""`composer version` and `composer system ...`."""

from __future__ import annotations

import platform
from typing import List

import typer

from composer import __version__
from composer.cli.version import version_text


def register(app: typer.Typer) -> None:
    """Add ``version`` and the ``system`` group to ``app``."""

    @app.command("version")
    def version(
        short: bool = typer.Option(False, "--short", help="Shows only the version number."),
        output_format: str = typer.Option("pretty", "-f", "--format", help="Format: pretty or json."),
    ) -> None:
        """Show the composer version information."""
        typer.echo(version_text(short, output_format))

    system = typer.Typer(help="Manage composer (info, disk usage, prune).", no_args_is_help=True)
    app.add_typer(system, name="system")

    system.command("info")(system_info)
    system.command("df")(system_df)
    system.command("prune")(system_prune)
    system.command("start")(system_start)
    from composer.cli.system_events import system_events

    system.command("events")(system_events)


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


def system_info(output_format: str = typer.Option("", "-f", "--format", help="json or a Go template ({{.NCPU}}).")) -> None:
    """Display system-wide information (containers, images, storage, cgroups, kernel)."""
    from composer.units import bytes_size

    data = info_data()
    if output_format:
        from composer.cli.gotemplate import render

        typer.echo(render("{{json .}}" if output_format == "json" else output_format, data))
        return
    typer.echo(f"Server:\n Containers: {data['Containers']}\n  Running: {data['ContainersRunning']}\n"
               f"  Paused: {data['ContainersPaused']}\n  Stopped: {data['ContainersStopped']}\n"
               f" Images: {data['Images']}\n Server Version: {data['ServerVersion']}\n"
               f" Storage Driver: {data['Driver']}\n Logging Driver: {data['LoggingDriver']}\n"
               f" Cgroup Driver: {data['CgroupDriver']}\n Cgroup Version: {data['CgroupVersion']}\n"
               f" Default Runtime: {data['DefaultRuntime']}\n Kernel Version: {data['KernelVersion']}\n"
               f" Operating System: {data['OperatingSystem']}\n OSType: {data['OSType']}\n"
               f" Architecture: {data['Architecture']}\n CPUs: {data['NCPU']}\n"
               f" Total Memory: {bytes_size(data['MemTotal'])}\n Name: {data['Name']}\n"
               f" Docker Root Dir: {data['DockerRootDir']}")


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
    from composer.cli.volumes import _in_use
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


def system_df(output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
              verbose: bool = typer.Option(False, "-v", "--verbose", help="Show detailed information on space usage.")) -> None:
    """Show docker disk usage (images, containers, local volumes, build cache)."""
    from composer.cli.psformat import render

    if verbose:
        _df_verbose(output_format)
        return
    template = DF_TABLE if output_format in ("", "table") else output_format
    for line in render(df_rows(), template, DF_HEADERS):
        typer.echo(line)


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
        typer.echo(json.dumps(details, separators=(",", ":")))
        return
    for title, key, template in DF_SECTIONS:
        rows = [{**r, "ID": r["ID"][7:19]} if key == "Images" else r for r in details[key]]
        headers = {**DF_VERBOSE_HEADERS, "ID": "IMAGE ID" if key == "Images" else "CONTAINER ID"}
        typer.echo(f"{title}\n\n" + "\n".join(render(rows, template, headers)) + "\n")
    cache = details["BuildCache"]
    typer.echo(f"Build cache usage: {build_cache_row(_store_db())['Size']}\n")
    cache_headers = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
                     "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}
    typer.echo("\n".join(render(cache, "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                                 "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}", cache_headers)))


def _store_db() -> dict:
    from composer.engine.images.store import ImageStore

    return ImageStore().read_db()


def system_prune(force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
                 all_: bool = typer.Option(False, "-a", "--all", help="Remove all unused images, not just dangling ones."),
                 volumes: bool = typer.Option(False, "--volumes", help="Prune anonymous volumes."),
                 filters: List[str] = typer.Option([], "--filter", help="Provide filter values (label=, label!=, until=).")
                 ) -> None:
    """Remove stopped containers, unused networks, dangling (-a: unused) images and build cache
    (--volumes: unused anonymous volumes), as docker's ``system prune``."""
    from composer.cli.render import confirm, print_pruned
    from composer.units import human_size

    groups = filter_groups(filters)
    if volumes and groups.get("until"):  # docker's CLI, before anything else
        typer.echo('ERROR: The "until" filter is not supported with "--volumes"', err=True)
        raise typer.Exit(1)
    images = "all images without at least one container associated to them" if all_ else "all dangling images"
    anonymous = "  - all anonymous volumes not used by at least one container\n" if volumes else ""
    cache = "all build cache" if all_ else "unused build cache"
    shown = sorted(f"{key}={value}" for key, values in groups.items() for value in values)
    filtered = "".join(f"  - {item}\n" for item in shown)
    if not confirm("This will remove:\n  - all stopped containers\n  - all networks not used by at least one "
                   f"container\n{anonymous}  - {images}\n  - {cache}\n"
                   + (f"\n  Items to be pruned will be filtered with:\n{filtered}" if shown else ""), force):
        return
    freed = _prune_everything(all_, volumes, print_pruned, groups)
    print(f"Total reclaimed space: {human_size(freed)}")


def filter_groups(filters: List[str], keys: tuple = ("label", "label!", "until")) -> dict:
    """``--filter``s grouped by key (``system prune``'s: label, label!, until); another key is
    refused as dockerd refuses it (``Error response from daemon: Invalid filter 'x'``)."""
    from composer.cli.psformat import parse_filters
    from composer.errors import UsageError

    try:
        return parse_filters(filters, keys, {})
    except UsageError as error:
        if error.exit_code == 125:  # the command line's own: bad format of filter
            raise
        typer.echo(f"Error response from daemon: {error.message}", err=True)
        raise typer.Exit(1) from None


def _prune_containers(groups: dict) -> list[str]:
    """The stopped containers passing ``groups`` (``container prune``'s filters), removed."""
    from composer.cli.containers import _prune_match, _when
    from composer.engine.runtime import containers

    if not groups:
        return containers.prune()
    labels = [f"{key}={value}" for key in ("label", "label!") for value in groups.get(key, [])]
    until = [_when(value, "--filter until") for value in groups.get("until", [])]
    removed = [info.id for info in containers.list_containers(all=True)
               if info.state in ("exited", "created", "dead") and _prune_match(info, labels, until)]
    for container_id in removed:
        containers.remove(container_id)
    return removed


def labels_selected(labels: dict, groups: dict) -> bool:
    """docker's prune label filters: every ``label=K[=V]`` matches and no ``label!=K[=V]`` does."""
    from composer.cli.network_fast import _label_match

    return all(_label_match(labels, wanted) for wanted in groups.get("label", [])) and \
        not any(_label_match(labels, wanted) for wanted in groups.get("label!", []))


def _prune_networks(groups: dict) -> list[str]:
    """The unused user networks the filters select (``label=``, ``label!=``, ``until=``: created
    before), removed as ``network prune`` removes them; their names."""
    from composer.network.manager import NetworkManager

    manager = NetworkManager()
    if not (groups.get("label!") or groups.get("until")):
        from composer.cli.network_fast import pairs

        return manager.prune(pairs(groups.get("label"), "--filter"))
    from composer.cli.containers import _when
    from composer.engine.runtime.describe import epoch
    from composer.errors import NetworkError

    until = [_when(value, "--filter until") for value in groups.get("until", [])]
    manager.cleanup()  # (dead endpoints forgotten first, as prune does)
    removed = []
    for net in manager.list():
        if net.default or not labels_selected(net.labels, groups) or \
                not all(epoch(net.created) < moment for moment in until):
            continue
        try:
            removed.append(manager.remove(net.id).name)
        except NetworkError:
            continue  # in use (or its bridge would not go): kept, as docker's prune skips it
    return removed


def _prune_everything(all_: bool, volumes: bool, print_pruned, groups: dict) -> int:
    """Containers, networks, volumes, images, build cache, in docker's order, each section
    printed as docker does; the bytes freed. With filters (``groups``), each section keeps what
    they do not select; the build cache takes ``until`` only (dockerd 20.10 passes buildkit no
    label filter: its entries have no labels)."""
    from composer.cli.containers import _when
    from composer.engine.build.leftovers import remove_killed_builds
    from composer.engine.build.prune import prune_builder
    from composer.engine.images.catalog import prune as prune_images
    from composer.engine.images.store import ImageStore
    from composer.engine.object_events import prune_event
    from composer.engine.runtime import containers

    def section(title: str, removed: list[str]) -> None:
        print_pruned(title, removed, reclaimed=None)
        if removed:
            print()

    section("Containers", _prune_containers(groups))
    prune_event("container", 0)  # (dockerd's prune events; volumes, images, build cache: their engine's prune)
    _prune_event_logs(containers.list_containers(all=True))
    section("Networks", _prune_networks(groups))
    prune_event("network", 0)
    if volumes:
        section("Volumes", _prune_volumes(groups))
    store = ImageStore()
    remove_killed_builds(store.root / "tmp")  # their step containers hold no image, their scratch no name
    lines, freed = prune_images(store, all_, groups)
    section("Images", [f"{action.lower()}: {what}" for action, what in lines])
    until = [_when(value, "--filter until") for value in groups.get("until", [])]
    cache = prune_builder(store, everything=all_, until=min(until) if until else None)  # (no labels: dockerd's)
    section("build cache objects", [key.removeprefix("sha256:") for key in cache.keys])
    return freed + cache.freed


def _prune_volumes(groups: dict) -> list[str]:
    """The unused anonymous volumes the ``label=``/``label!=`` filters select, removed (``until``
    was refused with ``--volumes``, as docker's CLI refuses it)."""
    from composer.cli.volume_fast import _in_use, _store

    in_use, store = _in_use(), _store()
    keep = {meta["Name"] for meta in store.list() if not labels_selected(meta.get("Labels") or {}, groups)}
    return store.prune(in_use | keep)


def _prune_event_logs(remaining: list) -> None:
    """The event logs of projects with no container left (``composer.engine.journal``)."""
    from composer.engine.journal import PROJECT, prune

    prune({info.labels.get(PROJECT) for info in remaining} - {None})


def system_start() -> None:
    """Start-up recovery (run it at boot): start `always` containers and `unless-stopped` ones not
    stopped by hand, as dockerd does when it starts; prints the ids started.

    composer has no daemon: run this from a boot unit (README, "Containers after a reboot").
    A container that cannot start is reported and the others still start (exit code 1).
    """
    import os

    from composer.engine.runtime import containers
    from composer.errors import ComposerError
    from composer.settings import state_root_dir

    failed = False
    wanted = containers.recoverable()
    if wanted and os.path.isdir(os.path.join(state_root_dir(), "networks")):
        from composer.network.manager import NetworkManager

        NetworkManager().restore()  # a reboot took the bridges and the rules with it
    for container_id in wanted:
        try:
            containers.start(container_id)
        except ComposerError as error:
            typer.echo(f"error: cannot start container {container_id}: {error}", err=True)
            failed = True
            continue
        typer.echo(container_id)
    if failed:
        raise typer.Exit(1)
