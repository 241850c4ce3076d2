"""``attach``, ``commit``, ``export`` and ``volumes``: Compose's commands on one service container
(``--index``) and on the project's volumes, with Docker Compose 2.40's flags, lines and errors.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import json
import sys
import time
from typing import Any, List, Optional

import typer

from composer.cli import compose as C
from composer.cli.container_commit import AUTHOR_HELP, CHANGE_HELP, PAUSE_HELP, pause_and_words
from composer.errors import FlagError, ImageError, UsageError

INDEX_HELP = "index of the container if service has multiple replicas."


def register(app: typer.Typer) -> None:
    """Add ``attach``, ``commit``, ``export`` and ``volumes``."""

    @app.command("attach")
    def attach(ctx: typer.Context, service: str = typer.Argument(..., metavar="SERVICE"),
               detach_keys: str = typer.Option("", "--detach-keys", help="Override the key sequence for detaching."),
               index: int = typer.Option(0, "--index", help=INDEX_HELP),
               no_stdin: bool = typer.Option(False, "--no-stdin", help="Do not attach STDIN"),
               sig_proxy: bool = typer.Option(True, "--sig-proxy/--no-sig-proxy",
                                              help="Proxy all received signals to the process")) -> None:
        """Attach local standard input, output, and error streams to a service's running container."""
        from composer.cli.containers import container_attach

        container = service_container(ctx, service, index)
        container_attach(container.id, no_stdin=no_stdin, detach_keys=detach_keys, sig_proxy=sig_proxy)

    @app.command("commit")
    def commit(ctx: typer.Context,
               arguments: Optional[List[str]] = typer.Argument(None, metavar="SERVICE [REPOSITORY[:TAG]]"),
               author: str = typer.Option("", "-a", "--author", help=AUTHOR_HELP),
               change: List[str] = typer.Option([], "-c", "--change", help=CHANGE_HELP),
               index: int = typer.Option(0, "--index", help=INDEX_HELP),
               message: str = typer.Option("", "-m", "--message", help="Commit message"),
               pause: str = typer.Option("true", "-p", "--pause", is_flag=False, flag_value="true",
                                         help=PAUSE_HELP)) -> None:
        """Create a new image from a service container's changes."""
        from composer.engine.images.commit import CommitRequest

        paused, words = pause_and_words(pause, list(arguments or ()))
        if not 1 <= len(words) <= 2:
            raise FlagError(f"accepts between 1 and 2 arg(s), received {len(words)}")
        container = service_container(ctx, words[0], index)
        request = CommitRequest(reference=words[1] if len(words) > 1 else None, author=author, comment=message,
                                changes=tuple(change), pause=paused)
        commit_container(ctx, container, request)

    @app.command("export")
    def export(ctx: typer.Context, service: str = typer.Argument(..., metavar="SERVICE"),
               index: int = typer.Option(0, "--index", help=INDEX_HELP),
               output: str = typer.Option("", "-o", "--output", help="Write to a file, instead of STDOUT")) -> None:
        """Export a service container's filesystem as a tar archive."""
        container = service_container(ctx, service, index)
        export_container(ctx, container, output)

    @app.command("volumes")
    def volumes(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None, metavar="[SERVICE...]"),
                quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display volume names"),
                output_format: str = typer.Option("table", "--format", help="table, table TEMPLATE, json or TEMPLATE")
                ) -> None:
        """List volumes."""
        project, name = C.load_or_name(ctx)
        check_services(project, list(services or ()))
        list_volumes(name, list(services or ()), quiet, output_format)


def check_services(project: Any, services: List[str]) -> None:
    """Compose's ``no such service: X`` for a name the project does not have."""
    for service in services:
        if project is not None and service not in project.services:
            raise UsageError(f"no such service: {service}")


def service_container(ctx: typer.Context, service: str, index: int) -> Any:
    """The running container ``index`` (0: the first) of ``service``, as compose picks it."""
    from composer.cli.compose_fast import specified_container

    _, name = C.load_or_name(ctx)
    return specified_container(name, service, index)


# --- commit and export ------------------------------------------------------------------------------
class Steps:
    """Compose's two progress lines of a one-container command (``p-web-1 Commit p-web-1 Committing``),
    in the ``--progress`` mode: plain lines, JSON objects, a final tty line, or nothing (quiet)."""

    def __init__(self, ctx: typer.Context, name: str, text: str) -> None:
        from composer.cli.progress import choose_mode

        self.mode = choose_mode(ctx.obj.progress, ctx.obj.ansi)
        self.name, self.text, self.started = name, text, time.monotonic()

    def show(self, status: str, done: bool = False, title: str = "") -> None:
        if self.mode == "json":
            line = json.dumps({"id": self.name, "text": self.text, "status": status}, separators=(",", ":"))
        elif self.mode == "plain":
            line = f" {self.name} {self.text} {status}"
        elif self.mode == "tty" and done:
            line = f"[+] {title} 1/1\n ✔ {self.name} {self.text} {status} {time.monotonic() - self.started:.1f}s"
        else:
            return
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def commit_container(ctx: typer.Context, container: Any, request: Any) -> None:
    """``commit``: ``Committing``, then ``Committed as sha256:...`` (nothing on stdout, as compose)."""
    from composer.engine.images.commit import commit

    steps = Steps(ctx, container.name, f"Commit {container.name}")
    steps.show("Committing")
    if ctx.obj.dry_run:  # compose's dry run: the lines, no image
        steps.show("Committed", done=True, title="Committing")
        return
    try:
        image_id = commit(container.id, request)
    except ImageError as error:  # the daemon's refusal (a bad --change), worded as compose relays it
        sys.stderr.write(f"Error response from daemon: {error.message}\n")
        raise typer.Exit(1) from None
    steps.show(f"Committed as {image_id}", done=True, title="Committing")


def export_container(ctx: typer.Context, container: Any, output: str) -> None:
    """``export``: the container's filesystem as a tar to ``output`` or a redirected stdout."""
    from composer.cli.container_commit import export_archive

    steps = Steps(ctx, container.name, f"export {container.name} to {output}")
    if ctx.obj.dry_run:  # compose's dry run: the lines, nothing written
        steps.show("Exporting")
        steps.show("Exported", done=True, title="Exporting")
        return
    export_archive(container.id, output or None, refusal="output option is required when exporting to terminal",
                   announce=lambda: steps.show("Exporting"))


# --- volumes ----------------------------------------------------------------------------------------
def list_volumes(project: str, services: List[str], quiet: bool, output_format: str) -> None:
    """The project's volumes (those labelled with its name), or those the services' containers mount."""
    from composer.cli.psformat import render
    from composer.cli.volume_fast import VOLUME_HEADERS, VOLUME_TABLE, ls_row, volume_matches
    from composer.engine import labels as L
    from composer.engine.volumes import VolumeStore

    mine = [meta for meta in VolumeStore().list() if volume_matches(meta, {"label": [f"{L.PROJECT}={project}"]}, set())]
    if services:
        mounted = {source for container in C.containers_of(project, services, all=False)
                   for source in container.mounts}
        mine = [meta for meta in mine if meta["Name"] in mounted]
    if quiet:
        sys.stdout.write("".join(meta["Name"] + "\n" for meta in mine))
        return
    template = VOLUME_TABLE if output_format in ("", "table") else output_format
    sys.stdout.write("".join(line + "\n" for line in render([ls_row(m) for m in mine], template, VOLUME_HEADERS)))
