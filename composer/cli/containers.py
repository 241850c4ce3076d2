"""``composer container run|ls|inspect|rm`` (``run`` itself lives in ``container_run``, typer-free)."""

from __future__ import annotations

import json
from typing import List

import typer


def inspect_dict(container_id: str) -> dict:
    """docker's ``container inspect`` shape from a container's config.json and state.json."""
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(container_id)
    config, state = cdir.read_config(), cdir.read_state()
    return {
        "Id": config["id"], "Created": state.get("Created", ""), "Path": config["args"][0],
        "Args": config["args"][1:], "Name": "/" + config["name"], "Image": config["image_id"],
        "State": {"Status": state.get("Status", "created"), "Running": state.get("Running", False),
                  "Paused": False, "Restarting": False, "OOMKilled": state.get("OOMKilled", False),
                  "Dead": False, "Pid": state.get("Pid", 0), "ExitCode": state.get("ExitCode", 0),
                  "Error": "", "StartedAt": state.get("StartedAt", ""), "FinishedAt": state.get("FinishedAt", "")},
        "Config": {"Hostname": config["hostname"], "User": config["user"], "Env": config["env"],
                   "Cmd": config["args"], "Image": config["image"], "WorkingDir": config["cwd"],
                   "Labels": config["labels"], "Tty": config["tty"], "OpenStdin": config["stdin"],
                   "StopSignal": config["stop_signal"]},
        "HostConfig": {"NetworkMode": config["network"], "AutoRemove": config["auto_remove"],
                       "Privileged": config["security"]["privileged"],
                       "ReadonlyRootfs": config["security"]["read_only"],
                       "Memory": config["resources"]["memory"], "NanoCpus": config["resources"]["nano_cpus"],
                       "PidsLimit": config["resources"]["pids_limit"] or None},
        "Mounts": [{"Type": m["type"], "Source": m["source"], "Destination": m["target"], "RW": not m["readonly"]}
                   for m in config["mounts"]],
    }


def container_run(ctx: typer.Context) -> None:
    """Create and run a new container from an image (see `composer container run --help`)."""
    from composer.cli.container_run import main

    raise typer.Exit(main(list(ctx.args)))


def container_ls(all_containers: bool = typer.Option(False, "-a", "--all", help="Show all containers."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs.")) -> None:
    """List containers."""
    from composer.engine.runtime.state import list_container_ids

    rows = []
    for container_id in list_container_ids():
        try:
            info = inspect_dict(container_id)
        except (OSError, ValueError, KeyError):
            continue
        if all_containers or info["State"]["Running"]:
            rows.append(info)
    if quiet:
        for info in rows:
            typer.echo(info["Id"][:12])
        return
    typer.echo(f"{'CONTAINER ID':<15}{'IMAGE':<30}{'STATUS':<12}NAMES")
    for info in rows:
        typer.echo(f"{info['Id'][:12]:<15}{info['Config']['Image']:<30}{info['State']['Status']:<12}{info['Name'][1:]}")


def container_inspect(containers: List[str] = typer.Argument(...)) -> None:
    """Display detailed information on one or more containers."""
    from composer.engine.runtime.state import find_container

    typer.echo(json.dumps([inspect_dict(find_container(c).id) for c in containers], indent=4))


def container_rm(containers: List[str] = typer.Argument(...),
        force: bool = typer.Option(False, "-f", "--force", help="Remove running containers too."),
        volumes: bool = typer.Option(False, "-v", "--volumes", help="Remove anonymous volumes.")) -> None:
    """Remove one or more stopped containers."""
    from composer.engine.runtime.state import find_container, release_name
    from composer.errors import ContainerStateError

    for reference in containers:
        cdir = find_container(reference)
        state, config = cdir.read_state(), cdir.read_config()
        if state.get("Running") and not force:
            raise ContainerStateError(f"cannot remove container {reference}: container is running",
                                      hint="stop the container before removing or force remove")
        if volumes:
            from composer.engine.runtime.config import ContainerConfig
            from composer.engine.runtime.linux import remove_anonymous_volumes

            remove_anonymous_volumes(ContainerConfig.from_dict(config))
        release_name(config["name"])
        cdir.remove()
        typer.echo(reference)


def register(app: typer.Typer) -> None:
    """Add the ``container`` group to ``app``."""
    container = typer.Typer(help="Manage containers.", no_args_is_help=True)
    app.add_typer(container, name="container")
    passthrough = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
    container.command("run", context_settings=passthrough)(container_run)
    container.command("ls")(container_ls)
    container.command("inspect")(container_inspect)
    container.command("rm")(container_rm)
