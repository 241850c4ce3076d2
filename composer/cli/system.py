"""`composer version` and `composer system ...`."""

from __future__ import annotations

import platform

import typer

from composer import __version__


def register(app: typer.Typer) -> None:
    """Add ``version`` and the ``system`` group to ``app``."""

    @app.command("version")
    def version(
        short: bool = typer.Option(False, "--short", help="Shows only the version number."),
        output_format: str = typer.Option("pretty", "-f", "--format", help="Format: pretty or json."),
    ) -> None:
        """Show the composer version information."""
        if short:
            typer.echo(__version__)
        elif output_format == "json":
            import json

            typer.echo(json.dumps({"version": __version__, "python": platform.python_version()}))
        else:
            typer.echo(f"composer version {__version__}")

    system = typer.Typer(help="Manage composer (info, disk usage, prune).", no_args_is_help=True)
    app.add_typer(system, name="system")

    system.command("info")(system_info)
    system.command("df")(system_df)
    system.command("prune")(system_prune)
    system.command("start")(system_start)


def system_info(output_format: str = typer.Option("", "-f", "--format", help="json for JSON output.")) -> None:
    """Display system-wide information (runtime, cgroups, storage, state root, containers)."""
    import os

    from composer.engine.runtime.cgroups import detect_setup
    from composer.engine.runtime.containers import list_containers
    from composer.settings import state_root

    infos = list_containers(all=True)
    count = lambda *states: sum(1 for i in infos if i.state in states)  # noqa: E731
    data = {"ServerVersion": __version__, "Containers": len(infos), "ContainersRunning": count("running"),
            "ContainersPaused": count("paused"), "ContainersStopped": count("exited", "created", "dead"),
            "Driver": "overlay2", "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs",
            "CgroupVersion": "2" if detect_setup() == "unified" else "1", "CgroupSetup": detect_setup(),
            "DefaultRuntime": "composer (built in, one supervisor per container)",
            "KernelVersion": platform.release(), "OperatingSystem": platform.platform(),
            "NCPU": os.cpu_count(), "DockerRootDir": str(state_root())}
    if output_format == "json":
        import json

        typer.echo(json.dumps(data))
        return
    for key, value in data.items():
        typer.echo(f"{key}: {value}")


def _du(path: str) -> int:
    """Bytes used under ``path`` (not following symlinks; hard links counted once)."""
    import os

    total, seen = 0, set()
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def system_df() -> None:
    """Show disk usage of images, containers and volumes."""
    import os

    from composer.engine.runtime.containers import list_containers
    from composer.settings import state_root

    root = str(state_root())
    infos = list_containers(all=True)
    rows = [("Images", "-", "-", _du(os.path.join(root, "images"))),
            ("Containers", len(infos), sum(1 for i in infos if i.state in ("running", "paused")),
             _du(os.path.join(root, "containers"))),
            ("Local Volumes", len(os.listdir(os.path.join(root, "volumes"))) if os.path.isdir(os.path.join(root, "volumes")) else 0,
             "-", _du(os.path.join(root, "volumes")))]
    typer.echo(f"{'TYPE':<16}{'TOTAL':<8}{'ACTIVE':<8}SIZE")
    for kind, total, active, size in rows:
        typer.echo(f"{kind:<16}{total!s:<8}{active!s:<8}{size / 1e6:.1f}MB")


def system_prune(force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
                 volumes: bool = typer.Option(False, "--volumes", help="Prune anonymous volumes too.")) -> None:
    """Remove stopped containers (and with --volumes their anonymous volumes)."""
    from composer.cli.render import print_pruned
    from composer.engine.runtime import containers

    print_pruned("Containers", containers.prune(volumes=volumes), reclaimed="0B")


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
