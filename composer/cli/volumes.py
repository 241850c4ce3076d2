"""``composer volume create|ls|inspect|rm|prune``: docker's volume commands, output and errors."""

from __future__ import annotations

import re
from typing import List, Optional

import typer

from composer.cli.volume_fast import _in_use, _store, _users, volume_filters, volume_matches

VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def _labels(items: list[str] | None) -> dict[str, str]:
    return {k: v for k, _, v in (item.partition("=") for item in items or [])}


def volume_create(name: Optional[str] = typer.Argument(None),
        driver: str = typer.Option("local", "-d", "--driver", help="Specify volume driver name."),
        label: Optional[List[str]] = typer.Option(None, "--label", help="Set metadata for a volume."),
        opt: Optional[List[str]] = typer.Option(None, "-o", "--opt", help="Set driver specific options."),
        name_option: Optional[str] = typer.Option(None, "--name", hidden=True, help="Specify volume name.")) -> None:
    """Create a volume."""
    import os

    from composer.errors import UsageError, VolumeError

    if name and name_option and name != name_option:
        raise UsageError("conflicting options: either specify --name or provide positional arg, not both")
    labels = _labels(label)
    if not (name or name_option):  # as dockerd (API 1.42+): a nameless volume is anonymous, prune takes it
        labels.setdefault("com.docker.volume.anonymous", "")
    name = name or name_option or os.urandom(32).hex()
    if not VOLUME_NAME.fullmatch(name):
        raise VolumeError(f'create {name}: "{name}" includes invalid characters for a local volume name, only '
                          '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
                          "use absolute path")
    meta = _store().create(name, labels, driver, _labels(opt))
    typer.echo(meta["Name"])


def volume_ls(quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display volume names."),
        filters: List[str] = typer.Option([], "-f", "--filter", help="Provide filter values (e.g. 'dangling=true')."),
        output_format: Optional[str] = typer.Option(None, "--format", help="table, json or a Go template.")) -> None:
    """List volumes."""
    _fast("ls", names=[], quiet=quiet, filters=filters, output_format=output_format or "")


def volume_inspect(names: List[str] = typer.Argument(...),
        output_format: str = typer.Option("", "-f", "--format", help="json or a Go template.")) -> None:
    """Display detailed information on one or more volumes."""
    _fast("inspect", names=names, output_format=output_format)


def _fast(verb: str, **arguments) -> None:
    from composer.cli.volume_fast import run

    code = run(verb, **arguments)
    if code:
        raise typer.Exit(code)


def volume_rm(names: List[str] = typer.Argument(...),
        force: bool = typer.Option(False, "-f", "--force", help="Force the removal of one or more volumes.")) -> None:
    """Remove one or more volumes."""
    from composer.cli.render import each_reference
    from composer.errors import VolumeError

    store, in_use = _store(), _in_use()

    def remove(name: str) -> str | None:
        if name in in_use:
            users = _users(name)
            raise VolumeError(f"remove {name}: volume is in use - [{', '.join(users)}]")
        if not store.exists(name):
            if force:
                return name  # docker prints it all the same
            raise VolumeError(f"get {name}: no such volume")
        store.remove(name, in_use)
        return name

    code = each_reference(names, remove)
    if code:
        raise typer.Exit(code)


def volume_prune(all_volumes: bool = typer.Option(False, "-a", "--all", help="Remove all unused volumes, not just anonymous ones."),
        filters: List[str] = typer.Option([], "--filter", help="Provide filter values (e.g. 'label=<label>')."),
        force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation.")) -> None:
    """Remove unused local volumes."""
    from composer.cli.render import confirm, print_pruned

    which = "all local volumes" if all_volumes else "anonymous local volumes"
    if not confirm(f"This will remove {which} not used by at least one container.", force):
        return
    in_use = _in_use()
    store = _store()
    groups = volume_filters(filters)
    keep = {meta["Name"] for meta in store.list() if not volume_matches(meta, groups, in_use)}
    print_pruned("Volumes", store.prune(in_use | keep, all_volumes), reclaimed="0B")


def register(app: typer.Typer) -> None:
    """Add the ``volume`` group to ``app``."""
    from composer.cli.render import daemon_errors, docker_command_class

    docker = docker_command_class()
    volume = typer.Typer(help="Manage volumes.", no_args_is_help=True)
    app.add_typer(volume, name="volume")
    for names, function in ((("create",), volume_create), (("ls", "list"), volume_ls),
                            (("inspect",), volume_inspect), (("rm", "remove"), volume_rm), (("prune",), volume_prune)):
        for index, name in enumerate(names):
            volume.command(name, hidden=index > 0, cls=docker)(daemon_errors(function))
