"""`composer version` and `composer system ...`."""

from __future__ import annotations

from typing import List

import typer

from composer.cli.system_fast import df_command, info_command
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


def system_info(output_format: str = typer.Option("", "-f", "--format", help="json or a Go template ({{.NCPU}}).")) -> None:
    """Display system-wide information (containers, images, storage, cgroups, kernel)."""
    info_command(output_format)


def system_df(output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
              verbose: bool = typer.Option(False, "-v", "--verbose", help="Show detailed information on space usage.")) -> None:
    """Show docker disk usage (images, containers, local volumes, build cache)."""
    df_command(output_format, verbose)


def system_prune(force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
                 all_: bool = typer.Option(False, "-a", "--all", help="Remove all unused images, not just dangling ones."),
                 volumes: bool = typer.Option(False, "--volumes", help="Prune anonymous volumes."),
                 filters: List[str] = typer.Option([], "--filter", help="Provide filter values (label=, label!=, until=).")
                 ) -> None:
    """Remove stopped containers, unused networks, dangling (-a: unused) images and build cache
    (--volumes: unused anonymous volumes), as docker's ``system prune``."""
    from composer.cli.render import confirm
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
    freed = _prune_everything(all_, volumes, groups)
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


def until_times(groups: dict) -> list[float]:
    """The Unix times of the ``until=`` filters among ``groups`` (``filter_groups``); a value
    that is none is dockerd's error (``failed to parse value as time or duration: "x"``)."""
    from composer.cli.containers import _when
    from composer.errors import FilterError, UsageError

    times = []
    for value in groups.get("until", []):
        try:
            times.append(_when(value, "--filter until"))
        except UsageError:
            raise FilterError(f'failed to parse value as time or duration: "{value}"') from None
    return times


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
    from composer.engine.runtime.describe import epoch
    from composer.errors import NetworkError

    until = until_times(groups)
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


def _prune_everything(all_: bool, volumes: bool, groups: dict) -> int:
    """Containers, networks, volumes, images, build cache, in docker's order, each section
    printed as docker does; the bytes freed. With filters (``groups``), each section keeps what
    they do not select; the build cache takes ``until`` only (dockerd 20.10 passes buildkit no
    label filter: its entries have no labels)."""
    from composer.cli.containers import prune_selection
    from composer.cli.render import print_pruned
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

    removed_containers, containers_freed = containers.prune(prune_selection(groups))
    section("Containers", removed_containers)
    prune_event("container", containers_freed)  # (dockerd's prune events; volumes, images, build cache: their engine's prune)
    _prune_event_logs(containers.list_containers(all=True))
    section("Networks", _prune_networks(groups))
    prune_event("network", 0)
    if volumes:
        section("Volumes", _prune_volumes(groups))
    store = ImageStore()
    remove_killed_builds(store.root / "tmp")  # their step containers hold no image, their scratch no name
    lines, freed = prune_images(store, all_, groups)
    section("Images", [f"{action.lower()}: {what}" for action, what in lines])
    until = until_times(groups)
    cache = prune_builder(store, everything=all_, until=min(until) if until else None)  # (no labels: dockerd's)
    section("build cache objects", [key.removeprefix("sha256:") for key in cache.keys])
    return containers_freed + freed + cache.freed


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
