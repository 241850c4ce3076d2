"""``composer volume create|ls|inspect|rm|prune``."""

from __future__ import annotations

import json
from typing import List, Optional

import typer


def _in_use() -> set[str]:
    """Volume names referenced by any container (running or stopped), as docker refuses to remove them."""
    from composer.engine.runtime.state import ContainerDir, list_container_ids

    names: set[str] = set()
    for container_id in list_container_ids():
        try:
            config = ContainerDir(container_id).read_config()
        except (OSError, ValueError):
            continue
        names.update(m["source"] for m in config.get("mounts", []) if m.get("type") == "volume")
    names.discard("")
    return names


def _labels(items: list[str] | None) -> dict[str, str]:
    return {k: v for k, _, v in (item.partition("=") for item in items or [])}


def volume_create(name: Optional[str] = typer.Argument(None),
        driver: str = typer.Option("local", "-d", "--driver", help="Volume driver."),
        label: Optional[List[str]] = typer.Option(None, "--label", help="Set metadata."),
        opt: Optional[List[str]] = typer.Option(None, "-o", "--opt", help="Driver options.")) -> None:
    """Create a volume."""
    import os

    from composer.engine.volumes import VolumeStore

    meta = VolumeStore().create(name or os.urandom(32).hex(), _labels(label), driver, _labels(opt))
    typer.echo(meta["Name"])


def volume_ls(quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display volume names."),
        output_format: Optional[str] = typer.Option(None, "--format", help="json or table.")) -> None:
    """List volumes."""
    from composer.engine.volumes import VolumeStore

    volumes = VolumeStore().list()
    if quiet:
        for meta in volumes:
            typer.echo(meta["Name"])
    elif output_format == "json":
        for meta in volumes:
            typer.echo(json.dumps({"Driver": meta["Driver"], "Name": meta["Name"], "Scope": "local",
                                   "Mountpoint": meta["Mountpoint"], "Labels": meta["Labels"]}, separators=(",", ":")))
    else:
        typer.echo(f"{'DRIVER':<16}VOLUME NAME")
        for meta in volumes:
            typer.echo(f"{meta['Driver']:<16}{meta['Name']}")


def volume_inspect(names: List[str] = typer.Argument(...)) -> None:
    """Display detailed information on one or more volumes."""
    from composer.engine.volumes import VolumeStore

    store = VolumeStore()
    typer.echo(json.dumps([store.inspect(n) for n in names], indent=4))


def volume_rm(names: List[str] = typer.Argument(...),
        force: bool = typer.Option(False, "-f", "--force", help="Ignore missing volumes.")) -> None:
    """Remove one or more volumes."""
    from composer.engine.volumes import VolumeStore
    from composer.errors import VolumeError

    store, in_use = VolumeStore(), _in_use()
    for name in names:
        try:
            store.remove(name, in_use)
        except VolumeError:
            if not (force and name not in in_use):
                raise
            continue
        typer.echo(name)


def volume_prune(all_volumes: bool = typer.Option(False, "-a", "--all", help="Remove all unused volumes, not just anonymous ones."),
        force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation.")) -> None:
    """Remove unused volumes."""
    from composer.engine.volumes import VolumeStore

    from composer.cli.render import print_pruned

    print_pruned("Volumes", VolumeStore().prune(_in_use(), all_volumes))


def register(app: typer.Typer) -> None:
    """Add the ``volume`` group to ``app``."""
    volume = typer.Typer(help="Manage volumes.", no_args_is_help=True)
    app.add_typer(volume, name="volume")
    volume.command("create")(volume_create)
    volume.command("ls")(volume_ls)
    volume.command("inspect")(volume_inspect)
    volume.command("rm")(volume_rm)
    volume.command("prune")(volume_prune)
