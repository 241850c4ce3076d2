"""Project commands: ``config`` and ``graph``; and :func:`cached_project`, the project every compose
command binds (from the validated cache when nothing its load read changed).

typer is imported inside :func:`register` only (annotations are evaluated there, so this module
has no ``from __future__ import annotations``): ``config`` also has a typer-free fast path.
"""

import sys
from types import SimpleNamespace
from typing import Any, Optional

from composer.errors import UsageError


def _load(global_options: Any, **overrides: Any) -> Any:
    from composer.spec.loader import load_targeted, options_from_global

    return load_targeted(options_from_global(global_options, **overrides))


def _emit(text: str, output: Optional[str]) -> None:
    """Print ``text`` (or write it to ``output``); a JSON document ends without a newline, as Compose's."""
    ending = "" if text.endswith("}") and text.startswith("{") else "\n"
    if output:
        from pathlib import Path

        Path(output).write_text(text + ending if text else "", encoding="utf-8")
    elif text:
        sys.stdout.write(text + ending)


def run_config(global_options: Any, services_arg: list, output_format: Optional[str] = None, services: bool = False,
               volumes: bool = False, networks: bool = False, profiles: bool = False, images: bool = False,
               hash_: Optional[str] = None, quiet: bool = False, output: Optional[str] = None,
               no_interpolate: bool = False, no_normalize: bool = False, no_path_resolution: bool = False,
               no_env_resolution: bool = False, variables: bool = False, environment: bool = False,
               no_consistency: bool = False, models: bool = False, resolve_image_digests: bool = False,
               lock_image_digests: bool = False) -> None:
    """The ``config`` command itself (shared by typer and the fast path)."""
    text = config_text(global_options, services_arg, output_format, services, volumes, networks, profiles,
                       images, hash_, quiet, no_interpolate, no_normalize, no_path_resolution, no_env_resolution,
                       variables, environment, no_consistency=no_consistency, models=models,
                       resolve_image_digests=resolve_image_digests, lock_image_digests=lock_image_digests)
    if text is not None:
        _emit(text, output)


def config_text(global_options: Any, services_arg: list, output_format: Optional[str], services: bool,
                volumes: bool, networks: bool, profiles: bool, images: bool, hash_: Optional[str], quiet: bool,
                no_interpolate: bool, no_normalize: bool, no_path_resolution: bool, no_env_resolution: bool,
                variables: bool, environment: bool, no_consistency: bool = False,
                models: bool = False, resolve_image_digests: bool = False,
                lock_image_digests: bool = False) -> Optional[str]:
    """What ``config`` prints (None for ``-q``). ``--resolve-image-digests`` asks the registries
    (also with ``-q``, not for the one-per-line listings, as Compose); ``--lock-image-digests``
    implies it."""
    from composer.spec import render

    if output_format not in (None, "yaml", "json"):
        raise UsageError(f"unsupported format {output_format!r}", hint="use --format yaml or json")
    if variables:
        from composer.spec.loader import options_from_global, resolve_files

        return render.variables(resolve_files(options_from_global(global_options)), output_format)
    # the services named are enabled whatever their profiles, except for the listings Compose makes
    # of the whole project (and the raw model of --no-interpolate, which has every service)
    whole = services or volumes or networks or hash_ or no_interpolate
    loaded = _load(global_options, interpolate=not no_interpolate, normalize=not no_normalize,
                   resolve_paths=not no_path_resolution, resolve_env_files=not no_env_resolution,
                   consistency=not (no_consistency or no_interpolate),  # Compose checks no raw model
                   targets=() if whole else tuple(services_arg or ()))
    listed = services or volumes or networks or profiles or images or hash_ or environment or models
    pin = None
    if (resolve_image_digests or lock_image_digests) and not listed:
        from composer.engine.images.digests import digest_pinner

        pin = digest_pinner()
    if quiet:
        render.check_selected_env_files(loaded, services_arg or [])
        if pin is not None:
            render.config_text(loaded, output_format or "yaml", services_arg or [], pin=pin)
        return None
    if environment:
        return render.environment_text(loaded.environment)
    if models:  # compose: each model's ``model:``, of the models some service uses
        used = {m for s in (loaded.model.get("services") or {}).values() for m in (s.get("models") or ())}
        return "\n".join(str(m.get("model", "")) for k, m in (loaded.model.get("models") or {}).items() if k in used)
    listing = render.listing(loaded, services=services, volumes=volumes, networks=networks,
                             profiles=profiles, images=images, hash_=hash_, selected=services_arg or [])
    if listing is not None:
        return listing
    return render.config_text(loaded, output_format or "yaml", services_arg or [], escape=not no_interpolate,
                              pin=pin, lock=lock_image_digests)


_FLAGS = {"--services": "services", "--volumes": "volumes", "--networks": "networks", "--profiles": "profiles",
          "--images": "images", "-q": "quiet", "--quiet": "quiet", "--no-interpolate": "no_interpolate",
          "--no-normalize": "no_normalize", "--no-path-resolution": "no_path_resolution",
          "--no-env-resolution": "no_env_resolution", "--variables": "variables", "--environment": "environment",
          "--no-consistency": "no_consistency", "--models": "models", "--dry-run": "dry_run",
          "--resolve-image-digests": "resolve_image_digests", "--lock-image-digests": "lock_image_digests"}
_VALUED = {"--format": "output_format", "--hash": "hash_", "-o": "output", "--output": "output"}


def _global_options(argv: list[str]) -> Optional[tuple[Any, list[str]]]:
    """The global options before the ``config`` word, as typer's root callback stores them, and
    the arguments after the word; None when argv holds anything else before it (one parser:
    ``compose_fast.global_options``)."""
    from composer.cli.compose_fast import global_options

    parsed = global_options(argv)
    if parsed is None or parsed[1] != "config":
        return None
    return parsed[0], parsed[2]


def _config_arguments(argv: list[str]) -> Optional[tuple[dict[str, Any], list[str]]]:
    """``config``'s own options and service names; None for anything typer must handle."""
    from composer.cli.compose import parse_simple  # (loaded already: compose_fast's global options need it)

    return parse_simple(argv, _FLAGS, _VALUED)


def config_fast(argv: list[str]) -> Optional[int]:
    """``composer config ...`` without typer; None (use typer) for anything it does not know."""
    return config_fast_with_globals(["config", *argv])


def config_fast_with_globals(argv: list[str]) -> Optional[int]:
    """``composer [global options] config ...`` without typer (None: let typer run it)."""
    parsed = _global_options(argv)
    arguments = _config_arguments(parsed[1]) if parsed else None
    if parsed is None or arguments is None:
        return None
    options, services = arguments
    return _cached_config(argv, parsed[0], services, options)


def _cached_config(argv: list[str], global_options: Any, services: list[str], options: dict[str, Any]) -> int:
    """Print ``config``'s output, from the validated cache when nothing it depends on changed."""
    import os

    from composer.spec import cache

    output = options.pop("output", None)
    options.pop("dry_run", None)  # (config changes nothing)
    key = cache.key_for(argv, dict(os.environ), os.getcwd())
    stdin = "-" in global_options.files or "-" in os.environ.get("COMPOSE_FILE", "").split(os.pathsep)
    remote = options.get("resolve_image_digests") or options.get("lock_image_digests")  # the registry's answer now
    text = None if stdin or remote else cache.lookup(key)
    if text is None:
        cache.reset()
        defaults = dict(output_format=None, services=False, volumes=False, networks=False, profiles=False,
                        images=False, hash_=None, quiet=False, no_interpolate=False, no_normalize=False,
                        no_path_resolution=False, no_env_resolution=False, variables=False, environment=False,
                        no_consistency=False, models=False)
        text = config_text(global_options, services, **{**defaults, **options})
        if text is not None and not stdin and not remote:
            cache.store(key, text)
    if text is not None:
        _emit(text, output)
    return 0


_LOADED_FIELDS = ("name", "working_dir", "files", "environment", "model", "output", "nested_extensions")


def cached_project(global_options: Any) -> Any:
    """The project the global options designate. When nothing its last load read changed (the
    compose and .env files, the environment, the working directory, composer's spec code: see
    ``composer.spec.cache``), it is bound from that load's stored model: no YAML, no schema, no
    pipeline. The model is stored with ``marshal`` (exact for the plain dicts, lists and scalars
    of a model; a model it cannot store is simply not cached)."""
    import marshal
    import os

    from composer.spec import cache
    from composer.spec.model import bind_project

    files = list(global_options.files)
    if "-" in files or "-" in os.environ.get("COMPOSE_FILE", "").split(os.pathsep):
        return bind_project(_load(global_options))  # standard input: nothing to check it against
    chosen = (files, global_options.project_name, global_options.project_directory, global_options.profiles,
              global_options.env_files, _LOADED_FIELDS, "hashes", sys.hexversion)
    key = cache.key_for(["project", *map(str, chosen)], dict(os.environ), os.getcwd())
    stored = cache.lookup(key)
    if stored is not None:
        try:
            fields, hashes = marshal.loads(bytes.fromhex(stored))
            return bind_project(SimpleNamespace(positions={}, hashes=hashes, **dict(zip(_LOADED_FIELDS, fields))))
        except (ValueError, EOFError, TypeError):
            pass  # written by another Python: load again
    cache.reset()
    loaded = _load(global_options)
    project = bind_project(loaded)
    try:  # with the services' config hashes: a cached up needs no renderer (spec.render, ~8 ms)
        fields = tuple(getattr(loaded, name) for name in _LOADED_FIELDS)
        hashes = {"services": dict(project.config_hashes), "resources": dict(project.resource_hashes)}
        cache.store(key, marshal.dumps((fields, hashes)).hex())
    except ValueError:
        pass
    return project


def register(app: Any) -> None:
    """Add ``config`` and ``graph`` to ``app``."""
    import typer

    @app.command("config")
    def config(
        ctx: typer.Context,
        services_arg: Optional[list[str]] = typer.Argument(None, metavar="[SERVICE...]"),
        output_format: Optional[str] = typer.Option(None, "--format", help="Format the output: yaml or json."),
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
        variables: bool = typer.Option(False, "--variables", help="Print model variables and default values."),
        environment: bool = typer.Option(False, "--environment", help="Print the interpolation environment."),
        no_consistency: bool = typer.Option(False, "--no-consistency", help="Don't check model consistency."),
        models: bool = typer.Option(False, "--models", help="Print the model names, one per line."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Execute command in dry run mode."),
        resolve_image_digests: bool = typer.Option(False, "--resolve-image-digests", help="Pin image tags to digests."),
        lock_image_digests: bool = typer.Option(False, "--lock-image-digests",
                                                help="Produces an override file with image digests."),
    ) -> None:
        """Parse, resolve and render the compose file in canonical format."""
        run_config(ctx.obj, services_arg or [], output_format, services, volumes, networks, profiles, images,
                   hash_, quiet, output, no_interpolate, no_normalize, no_path_resolution, no_env_resolution,
                   variables, environment, no_consistency, models, resolve_image_digests, lock_image_digests)

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
        project = bind_project(_load(ctx.obj))
        typer.echo(renderers[output_format](graphs.build_graph(project)))
