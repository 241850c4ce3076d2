"""``composer volume create|ls|inspect|rm|prune``: docker's volume commands, output and errors."""

from __future__ import annotations

import json
import re
from typing import List, Optional

import typer

VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}"
VOLUME_HEADERS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE",
                  "Labels": "LABELS", "Size": "SIZE", "Links": "LINKS", "Status": "STATUS",
                  "Availability": "AVAILABILITY", "Group": "GROUP"}


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


def _store():
    from composer.engine.volumes import VolumeStore

    return VolumeStore()


def _get(name: str) -> dict:
    """The volume's inspect dict; docker's ``get NAME: no such volume`` when there is none."""
    from composer.errors import VolumeError

    try:
        return _store().inspect(name)
    except VolumeError:
        raise VolumeError(f"get {name}: no such volume") from None


def inspect_shape(meta: dict) -> dict:
    """docker's ``volume inspect`` values: null Labels/Options when there are none, CreatedAt in seconds."""
    created = meta.get("CreatedAt", "")
    return {**meta, "Labels": meta.get("Labels") or None, "Options": meta.get("Options") or None,
            "CreatedAt": created.partition(".")[0] + "Z" if "." in created else created}


def volume_create(name: Optional[str] = typer.Argument(None),
        driver: str = typer.Option("local", "-d", "--driver", help="Specify volume driver name."),
        label: Optional[List[str]] = typer.Option(None, "--label", help="Set metadata for a volume."),
        opt: Optional[List[str]] = typer.Option(None, "-o", "--opt", help="Set driver specific options."),
        name_option: Optional[str] = typer.Option(None, "--name", hidden=True, help="Specify volume name.")) -> None:
    """Create a volume."""
    import os

    from composer.errors import UsageError

    from composer.errors import VolumeError

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


def ls_row(meta: dict) -> dict:
    """docker volume ls --format json's fields for one volume."""
    return {"Availability": "N/A", "Driver": meta["Driver"], "Group": "N/A",
            "Labels": ",".join(f"{k}={v}" for k, v in (meta.get("Labels") or {}).items()), "Links": "N/A",
            "Mountpoint": meta["Mountpoint"], "Name": meta["Name"], "Scope": meta.get("Scope", "local"),
            "Size": "N/A", "Status": "N/A",
            "Label": lambda key: (meta.get("Labels") or {}).get(key, "")}


def volume_matches(meta: dict, filters: list[str], in_use: set[str]) -> bool:
    """``--filter dangling=true|false|name=N|driver=D|label=K[=V]`` (same key: any; keys: all)."""
    from composer.errors import UsageError

    groups: dict[str, list[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"bad format of filter (expected name=value): {item}")
        if key not in ("dangling", "name", "driver", "label"):
            raise UsageError(f"invalid filter '{key}'")
        groups.setdefault(key, []).append(value)
    labels = meta.get("Labels") or {}

    def one(key: str, value: str) -> bool:
        if key == "dangling":
            if value.lower() not in ("true", "false", "1", "0"):
                raise UsageError(f"invalid filter 'dangling={value}'")
            return (meta["Name"] not in in_use) == (value.lower() in ("true", "1"))
        if key == "name":
            return value in meta["Name"]
        if key == "driver":
            return meta["Driver"] == value
        name, sep, wanted = value.partition("=")
        return name in labels and (not sep or labels[name] == wanted)

    return all(any(one(key, value) for value in values) for key, values in groups.items())


def volume_ls(quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display volume names."),
        filters: List[str] = typer.Option([], "-f", "--filter", help="Provide filter values (e.g. 'dangling=true')."),
        output_format: Optional[str] = typer.Option(None, "--format", help="table, json or a Go template.")) -> None:
    """List volumes."""
    from composer.cli.psformat import render

    in_use = _in_use() if any(f.startswith("dangling=") for f in filters) else set()
    volumes = [meta for meta in _store().list() if volume_matches(meta, filters, in_use)]
    if quiet and not output_format:
        output_format = "{{.Name}}"
    template = output_format if output_format not in (None, "", "table") else VOLUME_TABLE
    for line in render([ls_row(meta) for meta in volumes], template, VOLUME_HEADERS, strict=True):
        typer.echo(line)


def volume_inspect(names: List[str] = typer.Argument(...),
        output_format: str = typer.Option("", "-f", "--format", help="json or a Go template.")) -> None:
    """Display detailed information on one or more volumes."""
    from composer.cli.render import inspect_each
    from composer.errors import VolumeError

    code = inspect_each(names, lambda name: inspect_shape(_get(name)), VolumeError, output_format, strict=True)
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


def _users(name: str) -> list[str]:
    """Ids of the containers that mount volume ``name``."""
    from composer.engine.runtime.state import ContainerDir, list_container_ids

    users = []
    for container_id in list_container_ids():
        try:
            mounts = ContainerDir(container_id).read_config().get("mounts", [])
        except (OSError, ValueError):
            continue
        if any(m.get("type") == "volume" and m.get("source") == name for m in mounts):
            users.append(container_id)
    return users


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
    keep = {meta["Name"] for meta in store.list() if not volume_matches(meta, filters, in_use)}
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
