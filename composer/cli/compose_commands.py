"""The typer definitions of the compose commands (helpers in ``composer.cli.compose``).

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import sys
import time
from typing import Any, List, Optional

import typer

from composer.cli import compose as C
from composer.cli.compose_fast import exec_command, logs_command, ps_command
from composer.cli.compose_lifecycle import lifecycle_command
from composer.errors import ComposerError, UsageError

_T = typer.Option(None, "-t", "--timeout", help="Shutdown timeout in seconds.")
_DRY = typer.Option(False, "--dry-run", help="Execute command in dry run mode.")


def _lifecycle(verb: str, timeout: bool = False):
    """A ``start``/``pause``/``unpause`` (``timeout``: ``stop``) command body (compose_fast's)."""

    def command(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
                dry_run: bool = _DRY) -> None:
        lifecycle_command(ctx, verb, list(services or ()), dict(dry_run=dry_run))

    def with_timeout(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
                     timeout: Optional[str] = _T, dry_run: bool = _DRY) -> None:
        lifecycle_command(ctx, verb, list(services or ()), dict(dry_run=dry_run, timeout=timeout))

    chosen = with_timeout if timeout else command
    chosen.__doc__ = f"{verb.capitalize()} service containers."
    return chosen


def register(app: typer.Typer) -> None:
    """Add the compose commands: only the group of the command being run when the process's
    command line names one (typer builds every registered command's parameters, ~70 ms for all)."""
    import os

    from composer.cli.main import find_command_words

    registrars = {"up": _register_up, "create": _register_up, "down": _register_down, "ps": _register_ps,
                  "logs": _register_logs, "exec": _register_exec, "run": _register_run, "scale": _register_extra,
                  "cp": _register_extra, "push": _register_extra}
    words = find_command_words(sys.argv[1:])
    wanted = registrars.get(words[0]) if words and "_COMPOSER_COMPLETE" not in os.environ else None
    if wanted is None and words and words[0] in LIFECYCLE_WORDS:
        wanted = _register_lifecycle
    if wanted is None and words and words[0] in INFO_WORDS:
        wanted = _register_info
    for registrar in [wanted] if wanted else [*dict.fromkeys(registrars.values()), _register_lifecycle,
                                               _register_info]:
        registrar(app)


def _register_extra(app: typer.Typer) -> None:
    from composer.cli import compose_extra

    compose_extra.register(app)


LIFECYCLE_WORDS = ("start", "stop", "restart", "pause", "unpause", "kill", "rm", "wait", "pull")
INFO_WORDS = ("port", "top", "images", "ls", "events", "stats")


def _start_watch(project: Any, options: Any, printer: Any) -> Any:
    """``up --watch``: follow develop.watch (composer.cli.watch) after the services are up; with
    the logs attached (``printer``) in a thread, its lines among theirs, else in the foreground."""
    from composer.cli.watch import attached_say, start_watch

    if printer is None:
        return start_watch(project, options.services, foreground=True)
    return start_watch(project, options.services, foreground=False, say=attached_say(printer))


def _register_up(app: typer.Typer) -> None:
    @app.command("up")
    def up(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
           detach: bool = typer.Option(False, "-d", "--detach", help="Run containers in the background."),
           build: bool = typer.Option(False, "--build", help="Build images before starting containers."),
           pull: Optional[str] = typer.Option(None, "--pull", help="Pull image before running (always|missing|never)."),
           wait: bool = typer.Option(False, "--wait", help="Wait for services to be running|healthy (implies -d)."),
           wait_timeout: Optional[str] = typer.Option(None, "--wait-timeout", help="Maximum seconds to wait."),
           abort: bool = typer.Option(False, "--abort-on-container-exit", help="Stop all if any container stops."),
           abort_failure: bool = typer.Option(False, "--abort-on-container-failure", help="Stop all if one fails."),
           exit_code_from: Optional[str] = typer.Option(None, "--exit-code-from", help="Exit code of this service."),
           attach: Optional[List[str]] = typer.Option(None, "--attach", help="Services to attach to."),
           no_attach: Optional[List[str]] = typer.Option(None, "--no-attach", help="Services not to attach to."),
           attach_dependencies: bool = typer.Option(False, "--attach-dependencies",
                                                    help="Automatically attach to log output of dependent services."),
           no_start: bool = typer.Option(False, "--no-start", help="Don't start the services after creating them."),
           scale: Optional[List[str]] = typer.Option(None, "--scale", help="SERVICE=NUM, overrides `scale`."),
           renew: bool = typer.Option(False, "-V", "--renew-anon-volumes", help="Recreate anonymous volumes."),
           timeout: Optional[str] = _T,
           timestamps: bool = typer.Option(False, "--timestamps", help="Show timestamps."),
           no_color: bool = typer.Option(False, "--no-color", help="Produce monochrome output."),
           no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="Don't print prefix in logs."),
           force_recreate: bool = typer.Option(False, "--force-recreate", help="Recreate even if unchanged."),
           no_recreate: bool = typer.Option(False, "--no-recreate", help="Don't recreate existing containers."),
           always_recreate_deps: bool = typer.Option(False, "--always-recreate-deps", help="Recreate dependencies."),
           no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services."),
           remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove orphan containers."),
           watch: bool = typer.Option(False, "-w", "--watch", help="Watch source code and rebuild/refresh containers."),
           all_resources: bool = typer.Option(False, "--all-resources", help="Include all resources, even those not used by services."),
           yes: bool = typer.Option(False, "-y", "--yes", help="Assume yes: recreate volumes whose definition changed."),
           no_build: bool = typer.Option(False, "--no-build", help="Don't build an image (accepted)."),
           quiet_pull: bool = typer.Option(False, "--quiet-pull", help="Pull without printing progress information."),
           quiet_build: bool = typer.Option(False, "--quiet-build", help="Accepted."),
           menu: bool = typer.Option(False, "--menu", help="Accepted: composer has no interactive shortcuts."),
           dry_run: bool = _DRY) -> None:
        """Create and start containers."""
        C._seconds(timeout, "-t, --timeout"), C._seconds(wait_timeout, "--wait-timeout")  # before the file, as compose
        if exit_code_from:
            abort = True
        if detach and (abort or abort_failure or attach or attach_dependencies):
            raise UsageError("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure,"
                             " --attach, --attach-dependencies or --watch")
        if all_resources:  # the unused networks and volumes kept: not what the project cache holds
            from composer.spec.loader import load_project_from_options

            project = load_project_from_options(ctx.obj, all_resources=True, targets=tuple(services or ()))
        else:
            project = C.load(ctx)
        if exit_code_from and exit_code_from not in project.services:
            raise UsageError(f"no such service: {exit_code_from}: not found",
                             hint=f"services: {', '.join(sorted(project.services))}")
        options = C.up_options(ctx, services or (), dict(
            no_deps=no_deps, always_recreate_deps=always_recreate_deps, force_recreate=force_recreate,
            no_recreate=no_recreate, scale=scale, remove_orphans=remove_orphans, no_start=no_start, pull=pull,
            build=build, renew_anon_volumes=renew, timeout=timeout, wait=wait, wait_timeout=wait_timeout,
            assume_yes=yes, no_build=no_build, quiet_pull=quiet_pull))
        options = C.project_defaults(project, options)._replace(all_resources=all_resources)
        if ctx.obj.dry_run or dry_run:
            from composer.cli.dryrun import show_up

            show_up(ctx, project, options)
            return
        started = time.time()
        from composer.cli.compose_follow import with_hook_output

        attached = not (detach or wait or no_start)
        with C.progress_for(ctx) as progress:
            engine = C.engine(C.compose_words(progress, "attached up") if attached else progress, project)
            hooks = with_hook_output(engine)  # printed by an attached up only, as compose
            engine.up(project, options._replace(confirm=progress.confirm))
        printer = C.LogPrinter((), color=C.use_color(no_color), prefix=not no_log_prefix,
                               timestamps=timestamps) if attached else None
        stop_watch = _start_watch(project, options, printer) if watch else None
        if printer is None:
            return
        if attach_dependencies and not attach:
            from composer.engine.reconcile import select

            attach = _yaml_attached(project, select(project, options.services, with_deps=True))
        abort_on = "exit" if abort else "failure" if abort_failure else ""
        code = _attached(ctx, project, options, attach, no_attach, abort_on, exit_code_from, started, printer,
                         hooks, watching=watch)
        if stop_watch:
            stop_watch()
        if abort_on and code:  # Compose 2.40 ends with an empty line on stderr (its StatusError's)
            sys.stderr.write("\n")
        raise typer.Exit(code)

    @app.command("create")
    def create(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
               pull: Optional[str] = typer.Option(None, "--pull"),
               force_recreate: bool = typer.Option(False, "--force-recreate"),
               no_recreate: bool = typer.Option(False, "--no-recreate"),
               remove_orphans: bool = typer.Option(False, "--remove-orphans"),
               scale: Optional[List[str]] = typer.Option(None, "--scale"),
               yes: bool = typer.Option(False, "-y", "--yes", help="Assume yes: recreate changed volumes."),
               build: bool = typer.Option(False, "--build", help="Build images before starting containers."),
               no_build: bool = typer.Option(False, "--no-build", help="Don't build an image (accepted)."),
               quiet_pull: bool = typer.Option(False, "--quiet-pull", help="Pull without printing progress information."),
               dry_run: bool = _DRY) -> None:
        """Create containers for a service."""
        project = C.load(ctx)
        options = C.up_options(ctx, services or (), dict(
            pull=pull, remove_orphans=remove_orphans, force_recreate=force_recreate, no_recreate=no_recreate,
            scale=scale, assume_yes=yes, build=build, no_build=no_build, quiet_pull=quiet_pull))._replace(no_start=True)
        if ctx.obj.dry_run or dry_run:
            from composer.cli.dryrun import show_up

            show_up(ctx, project, options)
            return
        with C.progress_for(ctx) as progress:
            C.engine(progress, project).create(project, options._replace(confirm=progress.confirm))


def _yaml_attached(project: Any, names: Any) -> list[str]:
    """The services of ``names`` an attached ``up`` follows unless ``--attach`` names them: not
    those with ``attach: false`` (as Compose 2.40)."""
    return [name for name in names if project.services[name].raw.get("attach") is not False]


def _attached(ctx: typer.Context, project: Any, options: Any, attach: Any, no_attach: Any, abort: str,
              exit_code_from: Optional[str], since: float, printer: Any, hooks: Any,
              watching: bool = False) -> int:
    """Attached ``up``: print the services' logs until they stop (or one does, with ``abort``);
    Ctrl-C stops the stack gracefully, a second Ctrl-C kills it. The ``post_start`` and
    ``pre_stop`` hooks' output (kept by ``hooks``) is printed as ``web-1 -> | ...`` lines."""
    from composer.engine.options import LifecycleOptions

    names = set(attach or _yaml_attached(project, options.services or project.services)) - set(no_attach or ())
    containers = C.containers_of(project.name, names)
    printer.names = [C.short_name(c) for c in containers]
    sources = list(printer.names)
    if watching:  # Compose's prefixes leave room for the watcher's name
        from composer.cli.watch import WATCH_SOURCE

        sources.append(WATCH_SOURCE)
    printer.width = max((len(n) for n in sources), default=0)
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops the stack as Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)
    printer.say("Attaching to " + ", ".join(printer.names))
    hooks.flush(project.name, printer)
    try:
        if abort:
            import threading

            service = C.engine()
            follow = {"follow": True, "since": str(since), "announce_exit": True}
            logs = threading.Thread(target=C.stream_logs, args=(containers, printer), kwargs=follow, daemon=True)
            logs.start()
            code = _first_exit(service, project, tuple(names), failures_only=abort == "failure")
            if code is None:  # every container finished cleanly
                logs.join(5)
                return 0
            sys.stderr.write("\x1b[31m\x1b[1mAborting on container exit...\x1b[0m\n")  # compose: red, bold, always
            sys.stderr.flush()
            _stop_printing_hooks(ctx, project, LifecycleOptions(timeout=options.timeout), printer)
            logs.join(5)  # every container's last lines and "exited with code" are printed
            if exit_code_from:
                codes = {c.name: c.exit_code for c in C.containers_of(project.name, [exit_code_from])}
                return next(iter(codes.values()), code)
            return code
        from composer.cli.compose_follow import follow_project

        follow_project(project.name, tuple(names), containers, printer,  # across restarts (TestAttachRestart)
                       {"since": since, "announce_exit": True, "timestamps": printer.timestamps})
        return 0
    except KeyboardInterrupt:
        printer.mute()  # as Compose 2.40: nothing of the containers once they are being stopped
        print("Gracefully Stopping... press Ctrl+C again to force", flush=True)  # Compose 2.40's words, on stdout
        chosen = tuple(options.services)  # as compose: the services of this up, not their dependencies
        try:
            _stop_printing_hooks(ctx, project, LifecycleOptions(services=chosen, timeout=options.timeout), printer)
        except KeyboardInterrupt:
            with C.progress_for(ctx, "Killing") as progress:
                C.engine(progress).kill(project, LifecycleOptions(services=chosen))
        return 130


def _stop_printing_hooks(ctx: typer.Context, project: Any, options: Any, printer: Any) -> None:
    """Stop an attached ``up``'s services; their ``pre_stop`` hooks' output is printed as logs."""
    from composer.cli.compose_follow import with_hook_output

    with C.progress_for(ctx, "Stopping") as progress:
        engine = C.engine(progress)
        hooks = with_hook_output(engine)
        engine.stop(project, options)
    hooks.flush(project.name, printer)


def _first_exit(service: Any, project: Any, names: tuple, *, failures_only: bool) -> Optional[int]:
    """The exit code that aborts an attached ``up`` or ends ``wait --down-project`` (``failures_only``:
    the first non-zero one); None when no watched container ended with such a code."""
    from composer.errors import PlanError

    def ended() -> list:
        return sorted((c for c in C.containers_of(project.name, names) if c.state in ("exited", "dead")),
                      key=lambda c: c.finished_at)  # as compose: the code of the first to exit

    def first_code(containers: list) -> Optional[int]:
        return next((c.exit_code for c in containers if c.exit_code or not failures_only), None)

    done = ended()
    code = first_code(done)  # finished while up was still starting the others
    if code is not None:
        return code
    seen = {c.name for c in done}
    while True:
        try:  # (one that ends after our look and before the wait is counted by it)
            name, code = service.wait_first_exit(project, names, seen=frozenset(seen))
        except PlanError:  # nothing left running: the last ones ended between two looks
            return first_code(ended())
        if code or not failures_only:
            return code
        seen.add(name)


def _register_down(app: typer.Typer) -> None:
    @app.command("down")
    def down(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
             volumes: bool = typer.Option(False, "-v", "--volumes", help="Remove named and anonymous volumes."),
             rmi: Optional[str] = typer.Option(None, "--rmi", help="Remove images used by services: local|all."),
             remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove orphan containers."),
             timeout: Optional[str] = _T, dry_run: bool = _DRY) -> None:
        """Stop and remove containers, networks."""
        from composer.engine.options import DownOptions

        if rmi not in (None, "local", "all"):
            raise UsageError(f'invalid value for --rmi: "{rmi}"', hint="use --rmi local or --rmi all")
        project, name = C.load_or_name(ctx)
        options = DownOptions(services=tuple(services or ()), volumes=volumes, rmi=rmi,
                              remove_orphans=remove_orphans, timeout=C._seconds(timeout, "-t, --timeout"),
                              parallel=C.parallel(ctx))
        C.down_or_plan(ctx, project, name, options, dry_run)


def _register_ps(app: typer.Typer) -> None:
    @app.command("ps")
    def ps(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
           all_: bool = typer.Option(False, "-a", "--all", help="Show all stopped containers."),
           quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
           only_services: bool = typer.Option(False, "--services", help="Display services."),
           status: Optional[List[str]] = typer.Option(None, "--status", help="Filter by status."),
           filter_: Optional[List[str]] = typer.Option(None, "--filter", help="Filter: status=running."),
           output_format: Optional[str] = typer.Option(None, "--format",
                                                       help="table, json or a Go template (default: psFormat)."),
           no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output."),
           orphans: str = typer.Option("true", "--orphans", metavar="BOOL",
                                       help="Include orphaned services (default true).")
           ) -> None:
        """List containers."""
        ps_command(ctx, list(services or ()), dict(all=all_, quiet=quiet, services=only_services, status=status,
                                                   filter=filter_, format=output_format, no_trunc=no_trunc,
                                                   orphans=orphans))


def _register_logs(app: typer.Typer) -> None:
    @app.command("logs")
    def logs(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
             follow: bool = typer.Option(False, "-f", "--follow", help="Follow log output."),
             tail: str = typer.Option("all", "-n", "--tail", help="Lines from the end of the logs."),
             timestamps: bool = typer.Option(False, "-t", "--timestamps", help="Show timestamps."),
             since: Optional[str] = typer.Option(None, "--since", help="Logs since a timestamp or duration."),
             until: Optional[str] = typer.Option(None, "--until", help="Logs before a timestamp or duration."),
             no_color: bool = typer.Option(False, "--no-color", help="Produce monochrome output."),
             no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="Don't print prefix in logs."),
             index: Optional[int] = typer.Option(None, "--index", help="Index of the container.")) -> None:
        """View output from containers."""
        options = dict(follow=follow, tail=tail, timestamps=timestamps, since=since, until=until, no_color=no_color,
                       no_log_prefix=no_log_prefix)
        logs_command(ctx, list(services or ()), options, index)


def _register_exec(app: typer.Typer) -> None:
    @app.command("exec", context_settings={"allow_interspersed_args": False})
    def exec_(ctx: typer.Context, service: str = typer.Argument(...), command: List[str] = typer.Argument(...),
              detach: bool = typer.Option(False, "-d", "--detach", help="Run the command in the background."),
              no_tty: bool = typer.Option(False, "-T", "--no-tty", "--no-TTY", help="Disable pseudo-TTY allocation."),
              _interactive: bool = typer.Option(False, "-i", "--interactive", hidden=True,  # compose's hidden
                                                help="Keep STDIN open (the default)."),  # flags (exec -it)
              _tty: bool = typer.Option(False, "-t", "--tty", hidden=True, help="Allocate a pseudo-TTY (the default)."),
              user: Optional[str] = typer.Option(None, "-u", "--user", help="Run as this user."),
              workdir: Optional[str] = typer.Option(None, "-w", "--workdir", help="Working directory."),
              env: Optional[List[str]] = typer.Option(None, "-e", "--env", help="Set environment variables."),
              index: int = typer.Option(0, "--index", help="Index of the container (0: the first running)."),
              privileged: bool = typer.Option(False, "--privileged", help="Extended privileges.")) -> None:
        """Execute a command in a running container."""
        options = dict(detach=detach, no_TTY=no_tty, user=user, workdir=workdir, env=env, privileged=privileged)
        raise typer.Exit(exec_command(ctx, service, list(command), options, index))


def _register_run(app: typer.Typer) -> None:
    @app.command("run", context_settings={"allow_interspersed_args": False})
    def run(ctx: typer.Context, service: str = typer.Argument(...), command: Optional[List[str]] = typer.Argument(None),
            remove: bool = typer.Option(False, "--rm", help="Remove the container when it exits."),
            detach: bool = typer.Option(False, "-d", "--detach", help="Run in the background, print its name."),
            env: Optional[List[str]] = typer.Option(None, "-e", "--env", help="Set environment variables."),
            entrypoint: Optional[str] = typer.Option(None, "--entrypoint", help="Override the entrypoint."),
            no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services."),
            publish: Optional[List[str]] = typer.Option(None, "-p", "--publish", help="Publish a port."),
            service_ports: bool = typer.Option(False, "-P", "--service-ports", help="Publish the service's ports."),
            name: Optional[str] = typer.Option(None, "--name", help="Container name."),
            no_tty: bool = typer.Option(False, "-T", "--no-TTY", help="Disable pseudo-TTY allocation."),
            tty: bool = typer.Option(False, "-t", "--tty", help="Allocate a pseudo-TTY (stdin must be a terminal)."),
            pull: Optional[str] = typer.Option(None, "--pull", help="Pull image before running: always|missing|never."),
            build: bool = typer.Option(False, "--build", help="Build images before starting the container."),
            quiet_pull: bool = typer.Option(False, "--quiet-pull", help="Pull without printing progress information."),
            user: Optional[str] = typer.Option(None, "-u", "--user", help="Run as this user."),
            workdir: Optional[str] = typer.Option(None, "-w", "--workdir", help="Working directory."),
            volume: Optional[List[str]] = typer.Option(None, "-v", "--volume", help="Bind mount a volume."),
            label: Optional[List[str]] = typer.Option(None, "-l", "--label", help="Add a label."),
            env_from_file: Optional[List[str]] = typer.Option(None, "--env-from-file", help="Environment from files."),
            _interactive: bool = typer.Option(True, "-i", "--interactive", help="Keep STDIN open (the default)."),
            quiet: bool = typer.Option(False, "-q", "--quiet", help="Don't print anything to STDOUT."),
            _quiet_build: bool = typer.Option(False, "--quiet-build", help="Accepted."),
            cap_add: Optional[List[str]] = typer.Option(None, "--cap-add", help="Add Linux capabilities."),
            cap_drop: Optional[List[str]] = typer.Option(None, "--cap-drop", help="Drop Linux capabilities."),
            use_aliases: bool = typer.Option(False, "--use-aliases", help="Use the service's network aliases."),
            remove_orphans: bool = typer.Option(False, "--remove-orphans", help="Remove orphan containers."),
            dry_run: bool = _DRY) -> None:
        """Run a one-off command on a service."""
        from composer.cli.compose_run import run_command

        options = dict(rm=remove, detach=detach, env=env, entrypoint=entrypoint, no_deps=no_deps, publish=publish,
                       service_ports=service_ports, name=name, no_TTY=no_tty, tty=tty, pull=pull, build=build,
                       quiet_pull=quiet_pull, user=user, workdir=workdir, volume=volume, label=label,
                       env_from_file=env_from_file, quiet=quiet, cap_add=cap_add, cap_drop=cap_drop,
                       use_aliases=use_aliases, remove_orphans=remove_orphans, dry_run=dry_run)
        raise typer.Exit(run_command(ctx, service, command, options))


def _register_lifecycle(app: typer.Typer) -> None:
    for verb in ("start", "pause", "unpause"):
        app.command(verb)(_lifecycle(verb))
    app.command("stop")(_lifecycle("stop", timeout=True))

    @app.command("restart")
    def restart(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
                timeout: Optional[str] = _T, dry_run: bool = _DRY,
                no_deps: bool = typer.Option(False, "--no-deps", help="Don't restart dependent services.")) -> None:
        """Restart service containers."""
        options = dict(dry_run=dry_run, timeout=timeout, no_deps=no_deps)
        lifecycle_command(ctx, "restart", list(services or ()), options)

    @app.command("kill")
    def kill(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
             signal: str = typer.Option("SIGKILL", "-s", "--signal", help="Signal to send."),
             remove_orphans: bool = typer.Option(False, "--remove-orphans"), dry_run: bool = _DRY) -> None:
        """Force stop service containers."""
        lifecycle_command(ctx, "kill", list(services or ()), dict(signal=signal, dry_run=dry_run))

    @app.command("rm")
    def rm(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
           force: bool = typer.Option(False, "-f", "--force", help="Don't ask to confirm removal."),
           stop: bool = typer.Option(False, "-s", "--stop", help="Stop the containers first."),
           volumes: bool = typer.Option(False, "-v", "--volumes", help="Remove anonymous volumes."),
           dry_run: bool = _DRY) -> None:
        """Remove stopped service containers."""
        lifecycle_command(ctx, "rm", list(services or ()), dict(force=force, stop=stop, volumes=volumes,
                                                                dry_run=dry_run))

    @app.command("wait")
    def wait(ctx: typer.Context, services: List[str] = typer.Argument(...),
             down_project: bool = typer.Option(False, "--down-project", help="Drop the project once one exits."),
             dry_run: bool = _DRY) -> None:
        """Block until the first service container stops, print its exit code."""
        from composer.engine.options import DownOptions

        if down_project and (ctx.obj.dry_run or dry_run):
            raise UsageError("wait --down-project has no dry run mode yet", hint="drop --dry-run")

        project = C.load(ctx)
        if not C.containers_of(project.name, services):
            from composer.errors import ContainerNotFound

            raise ContainerNotFound(f'no containers for project "{project.name}"',
                                    hint=f"start the services with `composer up -d {' '.join(services)}`")
        if down_project:
            code = _first_exit(C.engine(), project, tuple(services), failures_only=False) or 0
            with C.progress_for(ctx) as progress:
                C.engine(progress).down(project, DownOptions())
            typer.echo(str(code))
            raise typer.Exit(code)
        code = 0
        for container_id, code in C.engine().wait(project, tuple(services)):  # the last one's code, as Compose
            typer.echo(f'container "{container_id}" exited with status code {code}')
        raise typer.Exit(code)

    @app.command("pull")
    def pull(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
             quiet: bool = typer.Option(False, "-q", "--quiet", help="Pull without printing progress."),
             ignore_failures: bool = typer.Option(False, "--ignore-pull-failures"),
             include_deps: bool = typer.Option(False, "--include-deps", help="Also pull the dependencies."),
             ignore_buildable: bool = typer.Option(False, "--ignore-buildable", help="Skip images that can be built."),
             policy: Optional[str] = typer.Option(None, "--policy", help='Apply pull policy ("missing"|"always").'),
             dry_run: bool = _DRY) -> None:
        """Pull service images."""
        project = C.load(ctx)
        names = _pulled(project, services or (), include_deps, ignore_buildable, policy)
        if ctx.obj.dry_run or dry_run:
            from composer.cli.dryrun import show_plan
            from composer.engine.options import UpOptions
            from composer.engine.reconcile import plan_images

            observed = C.engine().observe(project, tuple(names))
            if not quiet:
                show_plan(ctx, plan_images(project, observed, UpOptions(pull="always"), services=names))
            return
        with C.progress_for(ctx, "Pulling") as progress:
            try:  # (-q: Compose still shows each service's lines, not the layers')
                if names:
                    C.engine(progress).pull(project, tuple(names), parallel=C.parallel(ctx), quiet=quiet)
            except ComposerError:
                if not ignore_failures:
                    raise


def _pulled(project: Any, services: List[str], include_deps: bool, ignore_buildable: bool,
            policy: Optional[str]) -> List[str]:
    """The services ``pull`` pulls: those named (``include_deps``: and their dependencies) with an
    ``image:``; none with ``build:`` when ``ignore_buildable``; ``--policy missing``: only the
    images not here yet (``never``/``build``: none; any other value pulls, as compose 2.40)."""
    from composer.engine.reconcile import select

    if policy in ("never", "build"):
        return []
    names = [n for n in select(project, tuple(services), with_deps=include_deps) if project.services[n].image
             and not (ignore_buildable and project.services[n].build is not None)]
    if policy in ("missing", "if_not_present") and names:
        from composer.engine import convert

        images = C.engine().observe(project, tuple(names)).images
        names = [n for n in names if images.get(convert.image_reference(project.name, project.services[n])) is None]
    return names


def _register_info(app: typer.Typer) -> None:
    from composer.cli import compose_info

    compose_info.register(app)
