"""``scale``, ``cp`` and ``push``: the compose commands around a running project.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import time
from typing import Any, List, Optional

import typer

from composer.cli import compose as C
from composer.engine.events import Event, Status
from composer.errors import ComposerError, UsageError

_DRY = typer.Option(False, "--dry-run", help="Execute command in dry run mode.")


def register(app: typer.Typer) -> None:
    """Add ``scale``, ``cp`` and ``push``."""

    @app.command("scale")
    def scale(ctx: typer.Context, replicas: List[str] = typer.Argument(..., metavar="SERVICE=REPLICAS..."),
              no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services."),
              dry_run: bool = _DRY) -> None:
        """Scale services."""
        project = C.load(ctx)
        wanted = parse_replicas(replicas)
        for name in wanted:
            if name not in project.services:
                raise UsageError(f"no such service: {name}", hint=f"services: {', '.join(sorted(project.services))}")
        if ctx.obj.dry_run or dry_run:
            from composer.cli.dryrun import show_up
            from composer.engine.options import UpOptions

            show_up(ctx, project, UpOptions(services=tuple(wanted), scale=wanted, no_deps=no_deps))
            return
        with C.progress_for(ctx) as progress:
            C.engine(progress, project).scale(project, wanted, no_deps=no_deps)

    @app.command("cp")
    def cp(ctx: typer.Context, source: str = typer.Argument(..., metavar="SERVICE:SRC_PATH|SRC_PATH"),
           destination: str = typer.Argument(..., metavar="DEST_PATH|SERVICE:DEST_PATH"),
           index: int = typer.Option(0, "--index", help="Index of the container if service has multiple replicas."),
           all_: bool = typer.Option(False, "--all", help="Include containers created by the run command."),
           follow_link: bool = typer.Option(False, "-L", "--follow-link", help="Always follow symbol link in SRC_PATH."),
           archive: bool = typer.Option(False, "-a", "--archive", help="Archive mode (copy all uid/gid information)."),
           dry_run: bool = _DRY) -> None:
        """Copy files/folders between a service container and the local filesystem."""
        _, name = C.load_or_name(ctx)
        with _progress(ctx, "Copying", dry_run) as progress:
            copy(name, source, destination, index=index, oneoff=all_, emit=progress.event, dry_run=bool(progress.prefix))

    @app.command("push")
    def push(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
             ignore_failures: bool = typer.Option(False, "--ignore-push-failures", help="Push what it can."),
             include_deps: bool = typer.Option(False, "--include-deps", help="Also push dependencies."),
             quiet: bool = typer.Option(False, "-q", "--quiet", help="Push without printing progress."),
             dry_run: bool = _DRY) -> None:
        """Push service images."""
        project = C.load(ctx)
        from composer.engine.reconcile import select

        names = select(project, tuple(services or ()), with_deps=include_deps)
        with _progress(ctx, "Pushing", dry_run) as progress:
            push_images(project, names, ignore_failures, progress.event if not quiet else C._ignore,
                        dry_run=bool(progress.prefix))


def _progress(ctx: typer.Context, title: str, dry_run: bool) -> Any:
    """The command's progress display; in dry run mode its lines prefixed as compose's."""
    progress = C.progress_for(ctx, title)
    if ctx.obj.dry_run or dry_run:
        from composer.cli.dryrun import PREFIX

        progress.prefix = PREFIX
    return progress


def parse_replicas(arguments: List[str]) -> dict:
    """``scale web=3 db=1`` -> {"web": 3, "db": 1}, with compose's errors."""
    return C.parse_scale(arguments, option=False)


def split_target(argument: str) -> tuple[str, str]:
    """``web:/etc/x`` -> ("web", "/etc/x"); a host path (``./a:b``, ``/x``, ``-``) -> ("", path)."""
    service, colon, path = argument.partition(":")
    if not colon or argument.startswith(("/", ".", "-")) or "/" in service:
        return "", argument
    return service, path


def copy(project: str, source: str, destination: str, *, index: int, oneoff: bool, emit: Any,
         dry_run: bool = False) -> None:
    """``cp``: out of one container (the first, or ``--index``), or into every container of the service
    (``dry_run``: its lines, nothing copied)."""
    from composer.engine.runtime.copy import copy_from, copy_to

    if not source:
        raise UsageError("source can not be empty")
    if not destination:
        raise UsageError("destination can not be empty")
    (from_service, src), (to_service, dst) = split_target(source), split_target(destination)
    if from_service and to_service:
        raise UsageError("copying between services is not supported")
    if not from_service and not to_service:
        raise UsageError("unknown copy direction", hint="one side must be SERVICE:PATH")
    service = from_service or to_service
    targets = [c for c in C.containers_of(project, [service], index=index or None, oneoff=oneoff)
               if c.state == "running"]
    if not targets:
        raise UsageError(f'no container found for service "{service}"' + (f" with index {index}" if index else ""),
                         hint=f"start it with `composer up -d {service}`")
    for container in targets[:1] if from_service else targets:
        detail = f"{container.name}:{src} to {dst}" if from_service else f"{src} to {container.name}:{dst}"
        emit(Event("Container", container.name, Status.COPYING, text=detail))
        started = time.monotonic()
        if not dry_run:
            (copy_from if from_service else copy_to)(container.id, src, dst)
        emit(Event("Container", container.name, Status.COPIED, time.monotonic() - started, detail))


def push_images(project: Any, names: List[str], ignore_failures: bool, emit: Any, dry_run: bool = False) -> None:
    """``push``: the ``image:`` of every selected service that is built; others are skipped
    (``dry_run``: the lines, nothing pushed)."""
    from composer.engine.images.push import push as push_image

    for name in names:
        service = project.services[name]
        if service.build is None or not service.image:
            emit(Event("Service", name, Status.SKIPPED))
            continue
        emit(Event("Image", service.image, Status.PUSHING))
        started = time.monotonic()
        try:
            if not dry_run:
                push_image(service.image)
        except ComposerError as error:
            if not ignore_failures:
                emit(Event("Image", service.image, Status.ERROR, text=error.message))
                raise
            emit(Event("Image", service.image, Status.WARNING, text=error.message))
            continue
        emit(Event("Image", service.image, Status.PUSHED, time.monotonic() - started))
