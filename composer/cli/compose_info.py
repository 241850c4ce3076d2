"""Read-only compose commands: ``top``, ``port``, ``images``, ``ls``, ``events``, ``stats``.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import json
from typing import Any, List, Optional

import typer

from composer.cli import compose as C
from composer.cli.compose_fast import images_command, port_command, print_rows, top_command
from composer.cli.compose_ls import ls_command
from composer.errors import FlagError

_DRY = typer.Option(False, "--dry-run", help="Execute command in dry run mode (these commands change nothing).")


def register(app: typer.Typer) -> None:
    """Add the read-only compose commands."""
    _register_port_top(app)
    _register_images_ls(app)
    _register_events_stats(app)


def _register_port_top(app: typer.Typer) -> None:
    @app.command("port")
    def port(ctx: typer.Context, service: str = typer.Argument(...), private_port: str = typer.Argument(...),
             protocol: str = typer.Option("tcp", "--protocol", help="tcp or udp."),
             index: int = typer.Option(0, "--index", help="Index of the container if service has multiple replicas."),
             dry_run: bool = _DRY) -> None:
        """Print the public port for a port binding."""
        port_command(ctx, service, private_port, protocol, index)

    @app.command("top")
    def top(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None), dry_run: bool = _DRY) -> None:
        """Display the running processes."""
        top_command(ctx, list(services or ()))


def _register_images_ls(app: typer.Typer) -> None:
    @app.command("images")
    def images(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
               quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
               output_format: str = typer.Option("table", "--format", help="table or json."),
               dry_run: bool = _DRY) -> None:
        """List images used by the created containers."""
        images_command(ctx, list(services or ()), quiet, output_format)

    @app.command("ls")
    def ls(all_: bool = typer.Option(False, "-a", "--all", help="Show all stopped Compose projects."),
           quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display project names."),
           filters: Optional[List[str]] = typer.Option(None, "--filter", help="Filter output (name=REGEX)."),
           output_format: str = typer.Option("table", "--format", help="Format the output. Values: [table | json]"),
           dry_run: bool = _DRY) -> None:
        """List running compose projects."""
        ls_command(dict(all=all_, quiet=quiet, filter=filters, format=output_format))


def _register_events_stats(app: typer.Typer) -> None:
    @app.command("events")
    def events(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
               as_json: bool = typer.Option(False, "--json", help="Output events as a stream of JSON objects."),
               since: Optional[str] = typer.Option(None, "--since", help="Show all events created since timestamp."),
               until: Optional[str] = typer.Option(None, "--until", help="Stream events until this timestamp."),
               dry_run: bool = _DRY) -> None:
        """Receive real time events from containers."""
        import itertools

        from composer.engine.monitor import ProjectMonitor

        start, end = C.parse_time(since), C.parse_time(until)
        project, name = C.load_or_name(ctx)
        if project is not None and services:
            from composer.engine.reconcile import select

            select(project, services, with_deps=False)  # no such service: ...
        with ProjectMonitor(name, tuple(services or ())) as monitor:
            past = monitor.history(start, end) if start is not None else []  # what the state records tell
            for change in itertools.chain(past, monitor.changes(until=end)):
                typer.echo(format_event(change, as_json))

    @app.command("stats")
    def stats(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
              all_: bool = typer.Option(False, "-a", "--all", help="Show all containers (default shows just running)."),
              output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
              no_stream: bool = typer.Option(False, "--no-stream",
                                             help="Disable streaming stats and only pull the first result."),
              no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate output."),
              dry_run: bool = _DRY) -> None:
        """Display a live stream of container(s) resource usage statistics."""
        from composer.cli.containers import show_stats
        from composer.engine.runtime import containers
        from composer.engine.runtime.stats import target_of

        if len(services or ()) > 1:  # compose's stats takes at most one SERVICE
            raise FlagError(f"accepts at most 1 arg(s), received {len(services or ())}")
        project = C.load(ctx)  # an unknown service is not an error: an empty table, as compose

        def targets() -> list:  # each frame: one listing, of this project's containers only
            from composer.engine import labels as L

            found = containers.list_containers(all=True, labels=L.project_filter(project.name))
            return [target_of(info, info.id) for info in sorted(found, key=lambda i: i.name)  # Container: full id
                    if (not services or info.labels.get(L.SERVICE) in services)  # one-offs too, as Compose
                    and (all_ or info.state in containers.LIVE)]

        show_stats(targets, output_format, no_stream, no_trunc)


def format_event(change: Any, as_json: bool) -> str:
    """One event as ``docker compose events`` prints it: ``--json``, its object with the keys
    sorted (Go's encoding of a map) and an RFC 3339 time without trailing zeros; else a line and,
    as compose 2.40 prints them, an empty line after it."""
    import datetime

    moment = datetime.datetime.fromtimestamp(change.time, datetime.timezone.utc)
    attributes = change.attributes()
    if as_json:
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"  # as Go's RFC3339Nano
        return json.dumps({"action": change.action, "attributes": attributes, "id": change.view.id,
                           "service": change.view.service, "time": stamp, "type": "container"},
                          separators=(",", ":"), sort_keys=True)  # (the attributes' keys too: exitCode first)
    pairs = ", ".join(f"{k}={v}" for k, v in attributes.items())
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S.%f')} container {change.action} {change.view.id} ({pairs})\n"
