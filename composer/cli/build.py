"""`composer build` (compose services) and `composer image build` (a Dockerfile and a context).

Progress lines go to stderr (as docker's); ``-q`` prints only the image id on stdout.
No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import sys
from typing import List, Optional

#: ``image build`` flags taking a value -> the keyword of ``run_image_build`` (lists repeat).
VALUE_FLAGS = {"-t": "tags", "--tag": "tags", "-f": "file", "--file": "file", "--build-arg": "build_args",
               "--target": "target", "--label": "labels", "--network": "network", "--platform": "platform",
               "--secret": "secrets", "--ssh": "ssh", "--build-context": "build_contexts",
               "--iidfile": "iidfile", "--progress": "progress"}
BOOL_FLAGS = {"--no-cache": "no_cache", "--pull": "pull", "-q": "quiet", "--quiet": "quiet", "--check": "check"}
LIST_KEYS = ("tags", "build_args", "labels", "secrets", "ssh", "build_contexts")
BUILD_FLAGS = {**{name: (key, "list" if key in LIST_KEYS else "value") for name, key in VALUE_FLAGS.items()},
               **{name: (key, "bool") for name, key in BOOL_FLAGS.items()}}  # (run_flags' table shape)


def _progress(quiet: bool):
    """The emit callback: lines on stderr unless quiet."""
    if quiet:
        return lambda _line: None
    import threading

    lock = threading.Lock()  # services build concurrently: whole lines only

    def emit(line: str) -> None:
        with lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    return emit


def parse_pairs(values: Optional[List[str]], flag: str, *, env_fallback: bool = False) -> dict:
    """``KEY=VALUE`` flags as a dict; a bare ``KEY`` takes its value from the environment (or None)."""
    import os

    from composer.errors import UsageError

    out: dict = {}
    for item in values or []:
        key, eq, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid {flag} {item!r}", hint=f"write {flag} KEY=VALUE")
        out[key] = value if eq else (os.environ.get(key) if env_fallback else "")
    return out


def run_image_build(path: str, *, tags: Optional[List[str]] = None, file: Optional[str] = None,
                    build_args: Optional[List[str]] = None, target: Optional[str] = None,
                    no_cache: bool = False, pull: bool = False, labels: Optional[List[str]] = None,
                    network: Optional[str] = None, platform: Optional[str] = None, quiet: bool = False,
                    secrets: Optional[List[str]] = None, ssh: Optional[List[str]] = None,
                    build_contexts: Optional[List[str]] = None, iidfile: Optional[str] = None,
                    check: bool = False, progress: Optional[str] = None) -> int:
    """Build PATH (``-`` = stdin); print the id (``-q``) or progress and ``writing image``; the exit code.

    ``check``: only plan and check the Dockerfile (exit 1 when a check finds something).
    """
    from composer.engine.build.executor import build
    from composer.engine.build.request import STDIN, from_flags, named_contexts
    from composer.engine.build.secrets import parse_secret, parse_ssh
    from composer.errors import UsageError

    if progress not in (None, "auto", "plain", "tty", "quiet", "rawjson"):
        raise UsageError(f"invalid --progress {progress!r}", hint="use auto, plain, tty, quiet or rawjson")
    quiet = quiet or progress == "quiet"
    text = sys.stdin.read() if file == STDIN else None
    request = from_flags(path, file=file, build_args=parse_pairs(build_args, "--build-arg", env_fallback=True),
                         tags=tuple(tags or ()), target=target, no_cache=no_cache, pull=pull,
                         labels=parse_pairs(labels, "--label"), network=network, platform=platform, quiet=quiet,
                         secrets=tuple(parse_secret(s) for s in secrets or ()),
                         ssh=tuple(parse_ssh(s) for s in ssh or ()),
                         contexts=named_contexts(parse_pairs(build_contexts, "--build-context")))
    if check:
        return _check(request, text)
    stdin = sys.stdin.buffer if path == STDIN else None
    image_id = build(request, emit=_progress(quiet), stdin=stdin, dockerfile_text=text)
    if iidfile:
        with open(iidfile, "w", encoding="ascii") as handle:
            handle.write(image_id)
    if quiet:
        print(image_id)
    else:
        print(f"writing image {image_id}", file=sys.stderr)
    return 0


def _check(request, text: Optional[str] = None) -> int:
    """Print the check findings of ``request``'s Dockerfile; 1 when there are any."""
    from composer.engine.build.plan import check, check_report
    from composer.engine.build.request import STDIN
    from composer.errors import UsageError

    if request.context == STDIN and text is None and request.dockerfile_inline is None:
        raise UsageError("--check reads the Dockerfile from the context directory or -f", hint="give -f FILE")
    findings = check(request, text=text, name="Dockerfile" if text else None)
    print(check_report(findings))
    return 1 if findings else 0


def fast_image_build(argv: list[str]) -> Optional[int]:
    """``image build`` without typer (a FAST_PATH); None hands ``--help`` to typer."""
    from composer.cli.run_flags import parse_verb

    parsed = parse_verb(argv, BUILD_FLAGS, "image build")
    if parsed is None:
        return None
    options, (path,) = parsed
    return run_image_build(path, **options)


def register_image_build(image) -> None:
    """Add ``image build`` to the ``image`` group."""
    import typer

    @image.command("build")
    def image_build(
        path: str = typer.Argument(..., metavar="PATH|-", help="The build context directory, or - for stdin."),
        tags: Optional[List[str]] = typer.Option(None, "-t", "--tag", help="Name and optionally a tag (name:tag)."),
        file: Optional[str] = typer.Option(None, "-f", "--file", help="Name of the Dockerfile (default PATH/Dockerfile)."),
        build_args: Optional[List[str]] = typer.Option(None, "--build-arg", help="Set build-time variables."),
        target: Optional[str] = typer.Option(None, "--target", help="Set the target build stage to build."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cache when building the image."),
        pull: bool = typer.Option(False, "--pull", help="Always attempt to pull a newer version of the image."),
        labels: Optional[List[str]] = typer.Option(None, "--label", help="Set metadata for an image."),
        network: Optional[str] = typer.Option(None, "--network", help="Networking mode for RUN (none, default, host)."),
        platform: Optional[str] = typer.Option(None, "--platform", help="Set the target platform."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Suppress the build output and print the image ID."),
        secrets: Optional[List[str]] = typer.Option(None, "--secret", help="Secret to expose to the build "
                                                     "(format: id=mysecret[,src=/local/secret] or id=x,env=VAR)."),
        ssh: Optional[List[str]] = typer.Option(None, "--ssh", help="SSH agent socket or keys to expose to the "
                                                "build (format: default|<id>[=<socket>|<key>[,<key>]])."),
        build_contexts: Optional[List[str]] = typer.Option(None, "--build-context", help="Additional build "
                                                           "contexts (e.g., name=path or name=docker-image://ref)."),
        iidfile: Optional[str] = typer.Option(None, "--iidfile", help="Write the image ID to the file."),
        check: bool = typer.Option(False, "--check", help="Check build configuration (nothing is built)."),
        progress: Optional[str] = typer.Option(None, "--progress", help="Type of progress output (auto, plain, "
                                               "tty, quiet, rawjson); quiet prints only the image ID."),
    ) -> None:
        """Build an image from a Dockerfile."""
        code = run_image_build(path, tags=tags, file=file, build_args=build_args, target=target, no_cache=no_cache,
                               pull=pull, labels=labels, network=network, platform=platform, quiet=quiet,
                               secrets=secrets, ssh=ssh, build_contexts=build_contexts, iidfile=iidfile, check=check,
                               progress=progress)
        if code:
            raise typer.Exit(code)


def register(app) -> None:
    """Add the compose ``build`` command."""
    import typer

    @app.command("build")
    def build_command(
        ctx: typer.Context,
        services: Optional[List[str]] = typer.Argument(None),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cache when building the image."),
        pull: bool = typer.Option(False, "--pull", help="Always attempt to pull a newer version of the image."),
        build_args: Optional[List[str]] = typer.Option(None, "--build-arg", help="Set build-time variables for services."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Don't print anything to STDOUT."),
        push: bool = typer.Option(False, "--push", help="Push service images."),
        with_dependencies: bool = typer.Option(False, "--with-dependencies",
                                               help="Also build dependencies (transitively)."),
        ssh: Optional[List[str]] = typer.Option(None, "--ssh", help="Set SSH authentications used when building "
                                                "service images (use 'default' for your default SSH agent)."),
        check: bool = typer.Option(False, "--check", help="Check build configuration (nothing is built)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Execute command in dry run mode."),
    ) -> None:
        """Build or rebuild services."""
        from composer.cli.compose import load
        from composer.engine.build.compose import ComposeBuildOptions, build_services
        from composer.engine.build.secrets import parse_ssh

        project = load(ctx)
        options = ComposeBuildOptions(no_cache=no_cache, pull=pull, quiet=quiet, push=push,
                                      build_args=parse_pairs(build_args, "--build-arg", env_fallback=True),
                                      ssh=tuple(parse_ssh(s) for s in ssh or ()))
        if check:
            from composer.engine.build.compose import buildable, service_request

            codes = [_check(service_request(project, name, None, options))
                     for name in buildable(project, tuple(services or ()), with_dependencies=with_dependencies)]
            raise typer.Exit(max(codes, default=0))
        if ctx.obj.dry_run or dry_run:  # compose's dry run: each build's lines, nothing built
            from composer.cli.dryrun import show_builds
            from composer.engine.build.compose import buildable

            if not quiet:
                show_builds(project, buildable(project, tuple(services or ()), with_dependencies=with_dependencies))
            return
        build_services(project, tuple(services or ()), options, _progress(quiet), with_dependencies=with_dependencies)
    register_builder(app)


def register_builder(app) -> None:
    """Add the ``builder`` group (``builder prune``)."""
    import typer

    builder = typer.Typer(help="Manage builds.", no_args_is_help=True)
    app.add_typer(builder, name="builder")

    @builder.command("prune")
    def builder_prune(all_: bool = typer.Option(False, "-a", "--all", help="Remove all unused build cache, "
                                                "not just dangling ones."),
                      force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation.")
                      ) -> None:
        """Remove build cache (and what killed builds left)."""
        from composer.cli.render import confirm, print_pruned
        from composer.engine.build.prune import prune_builder
        from composer.units import human_size

        if not confirm(f"This will remove {'all' if all_ else 'all dangling'} build cache.", force):
            return
        result = prune_builder(everything=all_)
        print_pruned("build cache objects", [key.removeprefix("sha256:") for key in result.keys],
                     reclaimed=human_size(result.freed))
