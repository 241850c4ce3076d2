"""``composer container ...``: docker's container verbs over ``engine.runtime.containers``.

``run`` and ``create`` parse docker run's flags in the typer-free ``container_run`` module.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, List, Optional

import typer


def _api():
    from composer.engine.runtime import containers

    return containers


def inspect_dict(container_id: str) -> dict:
    """docker's ``container inspect`` shape (kept for callers of the first version)."""
    return _api().inspect(container_id)


def container_run(ctx: typer.Context) -> None:
    """Create and run a new container from an image (see `composer container run --help`)."""
    from composer.cli.container_run import main

    raise typer.Exit(main(list(ctx.args)))


def container_create(ctx: typer.Context) -> None:
    """Create a new container (docker run's flags; start it with `container start`)."""
    from composer.cli.container_run import create_main

    raise typer.Exit(create_main(list(ctx.args)))


DETACH_KEYS_HELP = "Override the key sequence for detaching a container (default ctrl-p,ctrl-q)."


def container_start(containers: List[str] = typer.Argument(...),
        attach: bool = typer.Option(False, "-a", "--attach", help="Attach STDOUT/STDERR and forward signals."),
        interactive: bool = typer.Option(False, "-i", "--interactive", help="Attach STDIN."),
        detach_keys: str = typer.Option("", "--detach-keys", help=DETACH_KEYS_HELP)) -> None:
    """Start one or more stopped containers."""
    from composer.errors import ContainerRuntimeError, FlagError

    api = _api()
    if not (attach or interactive):
        _fast("start", containers)
        return
    if len(containers) > 1:
        raise FlagError("you cannot start and attach multiple containers at once")  # (docker: the line alone)
    container_id = api.resolve(containers[0])
    since = time.time()
    try:
        connection = api.start(container_id, attach=True, client_attached=True)
    except ContainerRuntimeError as error:  # docker start -a: its refused start exits 1 (run's 125/126/127)
        error.exit_code = 1
        raise
    raise typer.Exit(_attach(container_id, interactive, detach_keys, since, connection))


def _attach(container_id: str, interactive: bool, detach_keys: str, since: float | None = None,
            connection=None) -> int:
    """Through the supervisor's attach socket (-t/-i containers), else by following the log."""
    api = _api()
    if not api.attachable(container_id):
        return _follow_to_end(container_id, since)
    from composer.engine.runtime.sessions import attach

    code = attach(container_id, stdin=interactive, detach_keys=detach_keys, connection=connection)
    return 0 if code is None else code


def _follow_to_end(container_id: str, since: float | None = None) -> int:
    """Copy the container's output from now on until it stops; its exit code."""
    api = _api()
    since = since or time.time()
    for line in api.read_logs(container_id, follow=True, since=since - 0.05):  # noqa: B007
        (sys.stdout if line.stream == "stdout" else sys.stderr).write(line.text)
        (sys.stdout if line.stream == "stdout" else sys.stderr).flush()
    return api.wait(container_id)


def container_attach(container: str = typer.Argument(...),
        no_stdin: bool = typer.Option(False, "--no-stdin", help="Do not attach STDIN."),
        detach_keys: str = typer.Option("", "--detach-keys", help=DETACH_KEYS_HELP),
        sig_proxy: bool = typer.Option(True, "--sig-proxy/--no-sig-proxy",
                                       help="Proxy all received signals to the process.")) -> None:
    """Attach local standard input, output, and error streams to a running container."""
    container_id = _api().resolve(container)
    _api().require_live(container_id)
    _api().mark_attached(container_id)
    if sig_proxy and not _api().inspect(container_id)["Config"]["Tty"]:  # (a terminal's keys reach it as they are)
        _proxy_signals(container_id)
    raise typer.Exit(_attach(container_id, not no_stdin, detach_keys))


def _proxy_signals(container_id: str) -> None:
    """docker attach's ``--sig-proxy`` (its default): a signal we get (Ctrl-C too) is sent to the
    container, and we go on until it ends."""
    import signal

    from composer.errors import ComposerError

    def forward(number: int, _frame) -> None:
        try:
            _api().kill(container_id, str(number))
        except ComposerError:
            pass  # ended meanwhile: its end ends the attach

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, forward)


def _each(references: list[str], action) -> None:
    """``action(container_id)`` for each reference, docker's way: the reference printed after
    each success, failures reported at the end, exit 1 if any."""
    from composer.cli.render import each_reference

    def one(reference: str) -> str:
        result = action(_api().resolve(reference))
        return reference if result is None else result

    code = each_reference(references, one)
    if code:  # (pause, unpause)
        raise typer.Exit(code)


def _fast(verb: str, containers: list[str], *options: str) -> None:
    """The typer-free fast path's implementation of ``verb`` (the same output and errors)."""
    from composer.cli.container_fast import run

    code = run(verb, [*options, "--", *containers])
    if code:
        raise typer.Exit(code)


def _flag(name: str, value: object) -> list[str]:
    return [] if value is None or value is False else [name] if value is True else [name, str(value)]


def container_stop(containers: List[str] = typer.Argument(...),
        timeout: Optional[int] = typer.Option(None, "-t", "--time", "--timeout", help="Seconds to wait before killing."),
        signal: Optional[str] = typer.Option(None, "-s", "--signal", help="Signal to send.")) -> None:
    """Stop one or more running containers."""
    _fast("stop", containers, *_flag("-t", timeout), *_flag("-s", signal))


def container_restart(containers: List[str] = typer.Argument(...),
        timeout: Optional[int] = typer.Option(None, "-t", "--time", "--timeout", help="Seconds to wait before killing."),
        signal: Optional[str] = typer.Option(None, "-s", "--signal", help="Signal to send.")) -> None:
    """Restart one or more containers."""
    _fast("restart", containers, *_flag("-t", timeout), *_flag("-s", signal))


def container_kill(containers: List[str] = typer.Argument(...),
        signal: str = typer.Option("SIGKILL", "-s", "--signal", help="Signal to send.")) -> None:
    """Kill one or more running containers."""
    _fast("kill", containers, *_flag("-s", signal))


def container_pause(containers: List[str] = typer.Argument(...)) -> None:
    """Pause all processes within one or more containers."""
    _each(containers, lambda container_id: _api().pause(container_id))


def container_unpause(containers: List[str] = typer.Argument(...)) -> None:
    """Unpause all processes within one or more containers."""
    _each(containers, lambda container_id: _api().unpause(container_id))


def container_wait(containers: List[str] = typer.Argument(...),
        condition: str = typer.Option("not-running", "--condition", help="not-running, next-exit or removed.")) -> None:
    """Block until one or more containers stop, then print their exit codes."""
    _fast("wait", containers, "--condition", condition)


def container_rm(containers: List[str] = typer.Argument(...),
        force: bool = typer.Option(False, "-f", "--force", help="Force the removal of a running container (uses SIGKILL)."),
        volumes: bool = typer.Option(False, "-v", "--volumes", help="Remove anonymous volumes associated with the container."),
        link: bool = typer.Option(False, "-l", "--link", help="Remove the specified link.")) -> None:
    """Remove one or more containers."""
    _fast("rm", containers, *_flag("-f", force), *_flag("-v", volumes), *_flag("-l", link))


def container_ls(all_containers: bool = typer.Option(False, "-a", "--all", help="Show all containers (default shows just running)."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display container IDs."),
        filters: List[str] = typer.Option([], "-f", "--filter", help="Filter output based on conditions provided."),
        output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
        last: int = typer.Option(-1, "-n", "--last", help="Show n last created containers (includes all states)."),
        latest: bool = typer.Option(False, "-l", "--latest", help="Show the latest created container (includes all states)."),
        size: bool = typer.Option(False, "-s", "--size", help="Display total file sizes."),
        no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output.")) -> None:
    """List containers."""
    from composer.cli.psformat import ps_lines

    lines, warnings = ps_lines(all_containers, quiet, filters, output_format, 1 if latest else last, size, no_trunc)
    for line in warnings:
        typer.echo(line, err=True)
    for line in lines:
        typer.echo(line)


def container_inspect(containers: List[str] = typer.Argument(...),
        output_format: str = typer.Option("", "-f", "--format", help="json or a Go template ({{.State.Status}})."),
        size: bool = typer.Option(False, "-s", "--size", help="Display total file sizes.")) -> None:
    """Display detailed information on one or more containers."""
    _fast("inspect", containers, *_flag("-f", output_format), *_flag("-s", size))


def container_logs(container: str = typer.Argument(...),
        follow: bool = typer.Option(False, "-f", "--follow", help="Follow log output."),
        tail: str = typer.Option("all", "-n", "--tail", help="Number of lines to show from the end."),
        timestamps: bool = typer.Option(False, "-t", "--timestamps", help="Show timestamps."),
        since: Optional[str] = typer.Option(None, "--since", help="Since a timestamp or relative (42m)."),
        until: Optional[str] = typer.Option(None, "--until", help="Before a timestamp or relative (42m)."),
        details: bool = typer.Option(False, "--details", help="Show extra details provided to logs.")) -> None:
    """Fetch the logs of a container (stdout to stdout, stderr to stderr)."""
    api = _api()
    count = int(tail) if tail.lstrip("-").isdigit() and int(tail) >= 0 else None  # docker: anything else is all
    container_id = api.resolve(container)
    if not (follow or timestamps or since or until or details) and count is None:
        for stream, data in api.read_logs_bulk(container_id):
            (sys.stdout.buffer if stream == "stdout" else sys.stderr.buffer).write(data)
        return
    records = api.read_logs_raw(container_id, follow=follow, tail=count,
                                since=_when(since, "--since"), until=_when(until, "--until"))
    targets = {"stdout": sys.stdout.buffer, "stderr": sys.stderr.buffer}
    pending: list[bytes] = []
    current = "stdout"
    for stream, stamp, text in records:
        if stream != current or len(pending) > 4096:
            targets[current].write(b"".join(pending))
            targets[current].flush()
            pending, current = [], stream
        line = b" " + text if details else text  # --details: the log's attributes (none here), a space
        pending.append((stamp + " ").encode() + line if timestamps else line)
        if follow:
            targets[current].write(b"".join(pending))
            targets[current].flush()
            pending = []
    targets[current].write(b"".join(pending))


def _when(value: str | None, flag: str) -> float | None:
    """docker's --since/--until: unix seconds, RFC 3339, or a duration before now (10m, 1h30m)."""
    if not value:
        return None
    from composer.engine.runtime.describe import epoch
    from composer.errors import UsageError

    try:
        if value[0].isdigit() and "-" not in value and "T" not in value:
            if not value[-1].isalpha():
                return float(value)  # unix seconds (a negative number is no time for docker either)
            from composer.cli.run_flags import parse_duration

            return time.time() - parse_duration(value, flag)
        date, zone = (value, "") if "T" in value else (value[:10] + "T00:00:00", value[10:] or "Z")
        return epoch(date + zone)  # RFC 3339, its date alone, or a date with a zone (2006-01-02Z07:00)
    except (ValueError, UsageError):
        from composer.errors import FlagError  # (docker: the line alone)

        raise FlagError(f'invalid value for "{flag.lstrip("-")}": failed to parse value as time or duration: '
                        f'"{value}"') from None


def container_exec(ctx: typer.Context) -> None:
    """Execute a command in a running container (`exec [-d] [-i] [-u U] [-w DIR] [-e K=V] C CMD...`)."""
    from composer.cli.container_run import exec_main

    raise typer.Exit(exec_main(list(ctx.args)))


def container_top(container: str = typer.Argument(...),
                  ps_options: Optional[List[str]] = typer.Argument(None, help="ps options (default -ef).")) -> None:
    """Display the running processes of a container (``ps -ef``'s columns, as docker's top)."""
    import subprocess

    from composer.cli.psformat import align
    from composer.engine.runtime.cgroups import manager_for
    from composer.errors import ContainerRuntimeError

    container_id = _api().resolve(container)
    _top_refusal(container_id)
    pids = {str(pid) for pid in manager_for(container_id).pids()}
    try:
        listing = subprocess.run(["ps", *(ps_options or ["-ef"])], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise ContainerRuntimeError(f"Error running ps: {error}", exit_code=1) from None
    header, *lines = listing.splitlines()
    titles = header.split()
    if "PID" not in titles:
        raise ContainerRuntimeError("Couldn't find PID field in ps output", exit_code=1)
    column = titles.index("PID")
    rows = [line.split(None, len(titles) - 1) for line in lines]
    rows = [row for row in rows if len(row) > column and row[column] in pids]
    for line in align(["\t".join(titles), *("\t".join(row) for row in rows)], minimum=20):
        typer.echo(line)


def _top_refusal(container_id: str) -> None:
    """dockerd's refusals of ``top``: a container neither running nor paused, or restarting."""
    from composer.engine.runtime.state import ContainerDir
    from composer.errors import ContainerStateError

    status = _api().current_state(ContainerDir(container_id)).get("Status")
    if status == "restarting":
        raise ContainerStateError(f"Container {container_id} is restarting, wait until the container is running")
    if status not in ("running", "paused"):
        raise ContainerStateError(f"Container {container_id} is not running")


STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"


def container_stats(containers: List[str] = typer.Argument(None),
        all_: bool = typer.Option(False, "-a", "--all", help="Show all containers (default shows just running)."),
        output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
        no_stream: bool = typer.Option(False, "--no-stream",
                                       help="Disable streaming stats and only pull the first result."),
        no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate output.")) -> None:
    """Display a live stream of container(s) resource usage statistics."""
    from composer.engine.runtime.containers import LIVE
    from composer.engine.runtime.stats import target_of

    api = _api()
    named = [(reference, api.resolve(reference)) for reference in containers or ()]  # (daemon_errors words a miss)

    def targets() -> list:
        infos = api.list_containers(all=True)
        if named:
            by_id = {info.id: info for info in infos}
            return [target_of(by_id[cid], shown) for shown, cid in named if cid in by_id]
        return [target_of(info) for info in reversed(infos) if all_ or info.state in LIVE]  # newest first, as ps

    show_stats(targets, output_format, no_stream, no_trunc)


def show_stats(targets, output_format: str, no_stream: bool, no_trunc: bool) -> None:
    """Print ``docker stats`` frames of ``targets()``: one with ``no_stream``; else one a second,
    redrawn in place on a terminal, tables one after another otherwise."""
    from composer.cli.psformat import render
    from composer.engine.runtime.stats import stream

    template = STATS_TABLE if output_format in ("", "table") else output_format
    redraw = not no_stream and sys.stdout.isatty()
    if redraw:
        sys.stdout.write("\033[2J")
    for rows in stream(targets, truncate=not no_trunc):
        lines = render(rows, template, strict=True, context="*container.statsContext")
        if redraw:
            lines = ["\033[H" + lines[0], *lines[1:]] if lines else ["\033[H"]
            sys.stdout.write("".join(line + "\033[K\n" for line in lines) + "\033[J")
        else:
            sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
        if no_stream:
            return


def container_rename(container: str = typer.Argument(...), new_name: str = typer.Argument(...)) -> None:
    """Rename a container."""
    from composer.cli.render import daemon_text
    from composer.errors import ComposerError, ContainerRuntimeError

    try:
        container_id = _api().resolve(container)
        if _api().inspect(container_id)["Name"] == "/" + new_name:
            raise ContainerRuntimeError("Renaming a container with the same name as its current name")
        try:
            _api().rename(container_id, new_name)
        except ComposerError as error:
            hint = error.hint if error.message.startswith("Conflict.") else None
            name_error = error.message.replace(f"({new_name})", f"(/{new_name})", 1)  # (dockerd names it /NAME)
            raise ContainerRuntimeError(f"Error when allocating new name: {name_error}", hint=hint) from None
    except ComposerError as error:
        typer.echo(f"{daemon_text(error)}\nError: failed to rename container named {container}", err=True)
        raise typer.Exit(1) from None


def container_prune(force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
                    filters: List[str] = typer.Option([], "--filter", help="Provide filter values (e.g. 'until=<timestamp>').")) -> None:
    """Remove all stopped containers."""
    from composer.cli.render import confirm, print_pruned
    from composer.cli.system import filter_groups
    from composer.engine.object_events import prune_event
    from composer.units import human_size

    selected = prune_selection(filter_groups(filters))  # (a bad filter refused before the prompt)
    if not confirm("This will remove all stopped containers.", force):
        return
    removed, reclaimed = _api().prune(selected)
    prune_event("container", reclaimed)
    print_pruned("Containers", removed, reclaimed=human_size(reclaimed))


def prune_selection(groups: dict) -> Callable[[Any], bool]:
    """prune's filters (``filter_groups``: docker's ``label=K[=V]``, ``label!=K[=V]``,
    ``until=TIME``) as a test of one container; a bad ``until`` is refused here."""
    from composer.cli.psformat import matches
    from composer.cli.system import until_times

    labels = [(key == "label!", value) for key in ("label", "label!") for value in groups.get(key, [])]
    until = until_times(groups)

    def selected(info: Any) -> bool:
        return all(matches(info, ["label=" + value]) != negate for negate, value in labels) and \
            all(info.created < moment for moment in until)

    return selected


def container_cp(source: str = typer.Argument(...), destination: str = typer.Argument(...),
                 archive: bool = typer.Option(False, "-a", "--archive",
                                              help="Archive mode (copy all uid/gid information)."),
                 follow_link: bool = typer.Option(False, "-L", "--follow-link",
                                                  help="Always follow symbol link in SRC_PATH.")) -> None:
    """Copy files between a running container and the host (CONTAINER:PATH; - is a tar stream
    on stdin or stdout)."""
    from composer.engine.runtime.copy import copy_from, copy_to
    from composer.errors import UsageError

    if ":" in source and not source.startswith(("/", ".")):
        name, _, path = source.partition(":")
        copy_from(_api().resolve(name), path, destination, follow_link=follow_link, reference=name)
    elif ":" in destination and not destination.startswith(("/", ".")):
        name, _, path = destination.partition(":")
        copy_to(_api().resolve(name), source, path, archive=archive, reference=name)
    else:
        raise UsageError("must specify at least one container source" if ":" not in source + destination
                         else "copying between containers is not supported")


def container_diff(container: str = typer.Argument(...)) -> None:
    """Inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)."""
    from composer.engine.runtime.layerview import changes
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(_api().resolve(container))
    for kind, path in changes(cdir.upper, cdir.read_config().get("layers", [])):
        typer.echo(f"{kind} {path}")


def container_export(container: str = typer.Argument(...),
                     output: Optional[str] = typer.Option(None, "-o", "--output", help="Write to a file, instead of STDOUT.")) -> None:
    """Export a container's filesystem as a tar archive."""
    from composer.cli.container_commit import export_archive

    export_archive(_api().resolve(container), output)


COMMANDS = {"start": container_start, "stop": container_stop, "restart": container_restart,
            "kill": container_kill, "pause": container_pause, "unpause": container_unpause,
            "wait": container_wait, "rm": container_rm, "ls": container_ls, "inspect": container_inspect,
            "logs": container_logs, "top": container_top, "stats": container_stats, "rename": container_rename,
            "prune": container_prune, "cp": container_cp, "attach": container_attach,
            "diff": container_diff, "export": container_export}


def register(app: typer.Typer) -> None:
    """Add the ``container`` group to ``app``."""
    from composer.cli.render import daemon_errors, docker_command_class

    container = typer.Typer(help="Manage containers.", no_args_is_help=True)
    app.add_typer(container, name="container")
    passthrough = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
    container.command("run", context_settings=passthrough)(container_run)
    container.command("create", context_settings=passthrough)(container_create)
    container.command("exec", context_settings=passthrough)(container_exec)
    docker = docker_command_class()
    for name, function in COMMANDS.items():
        settings = {"ignore_unknown_options": True} if name == "top" else {}  # its ps options: top C -o pid
        container.command(name, cls=docker, context_settings=settings)(daemon_errors(function))
    container.command("ps", hidden=True, cls=docker)(daemon_errors(container_ls))
    from composer.cli import container_update

    container_update.register(container)
    from composer.cli import container_commit

    container_commit.register(container)
    container.command("list", hidden=True, cls=docker)(daemon_errors(container_ls))
