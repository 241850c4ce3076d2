"""Project commands: ``config`` and ``graph`` (later: up, down, ps ...)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from composer.errors import UsageError


def _load(ctx: typer.Context, **overrides: Any) -> Any:
    from composer.spec.loader import load_model, options_from_global

    return load_model(options_from_global(ctx.obj, **overrides))


def _emit(text: str, output: Optional[str]) -> None:
    if output:
        from pathlib import Path

        Path(output).write_text(text + ("\n" if text and not text.endswith("\n") else ""), encoding="utf-8")
    elif text:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add ``config`` and ``graph`` to ``app``."""

    @app.command("config")
    def config(
        ctx: typer.Context,
        services_arg: Optional[list[str]] = typer.Argument(None, metavar="[SERVICE...]"),
        output_format: str = typer.Option("yaml", "--format", help="Format the output: yaml or json."),
        services: bool = typer.Option(False, "--services", help="Print the service names, one per line."),
        volumes: bool = typer.Option(False, "--volumes", help="Print the volume names, one per line."),
        networks: bool = typer.Option(False, "--networks", help="Print the network names, one per line."),
        profiles: bool = typer.Option(False, "--profiles", help="Print the profile names, one per line."),
        images: bool = typer.Option(False, "--images", help="Print the image names, one per line."),
        hash_: Optional[str] = typer.Option(None, "--hash", help="Print the service config hash, one per line."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Only validate the configuration."),
        output: Optional[str] = typer.Option(None, "-o", "--output", help="Save to file (default: stdout)."),
        no_interpolate: bool = typer.Option(False, "--no-interpolate", help="Don't interpolate variables."),
        no_normalize: bool = typer.Option(False, "--no-normalize", help="Don't normalize the model."),
        no_path_resolution: bool = typer.Option(False, "--no-path-resolution", help="Don't resolve paths."),
        no_env_resolution: bool = typer.Option(False, "--no-env-resolution", help="Don't resolve env files."),
    ) -> None:
        """Parse, resolve and render the compose file in canonical format."""
        from composer.spec import render

        if output_format not in ("yaml", "json"):
            raise UsageError(f"unsupported format {output_format!r}", hint="use --format yaml or json")
        loaded = _load(ctx, interpolate=not no_interpolate, normalize=not no_normalize,
                       resolve_paths=not no_path_resolution, resolve_env_files=not no_env_resolution)
        if quiet:
            return
        listing = render.listing(loaded, services=services, volumes=volumes, networks=networks,
                                 profiles=profiles, images=images, hash_=hash_)
        if listing is not None:
            _emit(listing, output)
            return
        _emit(render.config_text(loaded, output_format, services_arg or []), output)

    @app.command("graph")
    def graph(
        ctx: typer.Context,
        output_format: str = typer.Option("text", "--format", help="Format: text, dot or mermaid."),
    ) -> None:
        """Print the dependency graph of the project's services."""
        from composer.engine import graph as graphs
        from composer.spec.model import bind_project

        renderers = {"text": graphs.render_text, "dot": graphs.render_dot, "mermaid": graphs.render_mermaid}
        if output_format not in renderers:
            raise UsageError(f"unsupported format {output_format!r}", hint="use text, dot or mermaid")
        project = bind_project(_load(ctx))
        typer.echo(renderers[output_format](graphs.build_graph(project)))
