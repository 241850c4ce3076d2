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

    @system.command("info")
    def info() -> None:
        """Display system-wide information."""
        from composer.settings import state_root

        typer.echo(f"Version: {__version__}")
        typer.echo(f"State root: {state_root()}")
