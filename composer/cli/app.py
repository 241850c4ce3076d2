"""The typer application: a root app with Compose's global options, plus the command modules."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import typer

from composer import __version__


@dataclass
class GlobalOptions:
    """Compose's global flags, as given on the command line (None/empty = not given)."""

    files: list[str] = field(default_factory=list)
    project_name: str | None = None
    project_directory: str | None = None
    profiles: list[str] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    progress: str | None = None
    ansi: str = "auto"
    dry_run: bool = False
    parallel: int = -1


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"composer version {__version__}")
        raise typer.Exit()


def build_app(modules: list[str]) -> typer.Typer:
    """The root app with the commands of ``modules`` registered."""
    from composer.cli.render import composer_group_class

    app = typer.Typer(
        name="composer",
        cls=composer_group_class(),
        help="Compose-style multi-container orchestrator with its own container runtime.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        file: Optional[list[str]] = typer.Option(None, "-f", "--file", help="Compose configuration files."),
        project_name: Optional[str] = typer.Option(None, "-p", "--project-name", help="Project name."),
        project_directory: Optional[Path] = typer.Option(
            None, "--project-directory", help="Alternate working directory (default: the first file's directory)."
        ),
        profile: Optional[list[str]] = typer.Option(None, "--profile", help="Profiles to enable."),
        env_file: Optional[list[str]] = typer.Option(None, "--env-file", help="Alternate environment files."),
        progress: Optional[str] = typer.Option(None, "--progress", help="Progress output: auto, tty, plain, json, quiet."),
        ansi: str = typer.Option("auto", "--ansi", help="Control characters: never, always, auto."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be done, do nothing."),
        parallel: int = typer.Option(-1, "--parallel", help="Maximum parallelism, -1 for unlimited."),
        version: bool = typer.Option(
            False, "--version", "-v", callback=_version_callback, is_eager=True, help="Show the version and exit."
        ),
    ) -> None:
        ctx.obj = GlobalOptions(
            files=list(file or []),
            project_name=project_name,
            project_directory=str(project_directory) if project_directory else None,
            profiles=list(profile or []),
            env_files=list(env_file or []),
            progress=progress,
            ansi=ansi,
            dry_run=dry_run,
            parallel=parallel,
        )

    seen: set[str] = set()
    for module_name in modules:
        if module_name in seen:
            continue
        seen.add(module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name == module_name:
                continue  # a command group that is not written yet
            raise
        module.register(app)
    return app
