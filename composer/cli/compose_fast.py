"""Typer-free ``exec``, ``run``, ``ps``, ``logs``, ``port``, ``top`` and ``images`` (FAST_PATHS entries; the
lifecycle commands' flag tables too, their bodies in ``compose_lifecycle``), and
the command bodies the typer commands of ``compose_commands``/``compose_info`` share with them.

typer and click cost ~0.2 s of imports, more than the work of these commands. Their flags are
Compose's, parsed by ``run_flags``' table-driven parser; global options before the command word
are parsed here too. ``--help`` and anything this parser does not know (an unknown flag, a
missing argument, a non-numeric ``--index``) fall back to typer (a main returns None), which
prints its usage error or help as before.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any, Callable, Optional

from composer.cli import compose as C
from composer.cli.run_flags import _flags, _parse_options, go_bool, parse_interspersed
from composer.errors import FlagError, UsageError

TABLES: dict[str, dict] = {verb: {} for verb in ("exec", "run", "ps", "logs", "port", "top", "images")}
_flags("bool", "-d|--detach", "-T|--no-tty|--no-TTY", "--privileged", "-i|--interactive", "-t|--tty",
       table=TABLES["exec"])  # -i, -t: compose's hidden flags, the defaults
_flags("list", "-e|--env", table=TABLES["exec"])
_flags("value", "-u|--user", "-w|--workdir", "--index", table=TABLES["exec"])
_flags("bool", "--rm", "-d|--detach", "--no-deps", "-P|--service-ports", "-T|--no-TTY", "-t|--tty", "--build",
       "--quiet-pull", "-i|--interactive", "-q|--quiet", "--quiet-build", "--use-aliases", "--remove-orphans",
       table=TABLES["run"])
_flags("list", "-e|--env", "-p|--publish", "-v|--volume", "-l|--label", "--env-from-file", "--cap-add",
       "--cap-drop", table=TABLES["run"])
_flags("value", "--entrypoint", "--name", "--pull", "-u|--user", "-w|--workdir", table=TABLES["run"])
UNTIL_SERVICE = ("exec", "run")  # their options end at the service (typer's allow_interspersed_args=False)
_flags("bool", "-a|--all", "-q|--quiet", "--services", "--no-trunc", "--orphans", table=TABLES["ps"])
_flags("list", "--status", "--filter", table=TABLES["ps"])
_flags("value", "--format", table=TABLES["ps"])
_flags("bool", "-f|--follow", "-t|--timestamps", "--no-color", "--no-log-prefix", table=TABLES["logs"])
_flags("value", "-n|--tail", "--since", "--until", "--index", table=TABLES["logs"])
_flags("value", "--protocol", "--index", table=TABLES["port"])
_flags("bool", "-q|--quiet", table=TABLES["images"])
_flags("value", "--format", table=TABLES["images"])
LIFECYCLE = ("start", "stop", "restart", "pause", "unpause", "kill", "rm")
TABLES.update({verb: {} for verb in LIFECYCLE})
_flags("value", "-t|--timeout", table=TABLES["stop"])
_flags("value", "-t|--timeout", table=TABLES["restart"])
_flags("bool", "--no-deps", table=TABLES["restart"])
_flags("value", "-s|--signal", table=TABLES["kill"])
_flags("bool", "--remove-orphans", table=TABLES["kill"])
_flags("bool", "-f|--force", "-s|--stop", "-v|--volumes", table=TABLES["rm"])
for _table in TABLES.values():
    _flags("bool", "--dry-run", table=_table)  # compose's global flag, also after the command word

# global option -> (field of typer's GlobalOptions, kind)
GLOBALS: dict[str, tuple[str, str]] = {
    "-f": ("files", "list"), "--file": ("files", "list"), "-p": ("project_name", "value"),
    "--project-name": ("project_name", "value"), "--project-directory": ("project_directory", "value"),
    "--profile": ("profiles", "list"), "--env-file": ("env_files", "list"), "--progress": ("progress", "value"),
    "--ansi": ("ansi", "value"), "--parallel": ("parallel", "value"), "--dry-run": ("dry_run", "bool"),
}


def default_globals() -> Any:
    """The global options when none is given (typer's ``GlobalOptions()``, without typer)."""
    return SimpleNamespace(files=[], project_name=None, project_directory=None, profiles=[], env_files=[],
                           progress=None, ansi="auto", dry_run=False, parallel=-1)


def global_options(argv: list[str]) -> Optional[tuple[Any, str, list[str]]]:
    """(GlobalOptions as typer's root callback stores them, command word, its arguments); None when
    argv holds something else before the word (typer parses it then)."""
    fields: dict[str, Any] = {**vars(default_globals()), "parallel": "-1"}
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        name, equals, inline = argv[index].partition("=")
        field, kind = GLOBALS.get(name, ("", ""))
        if not kind or (equals and (kind == "bool" or not name.startswith("--"))):
            return None  # unknown, or a form (-p=x, --dry-run=1) whose meaning stays click's
        if kind == "bool" or equals:
            value, index = inline if equals else True, index + 1
        elif index + 1 < len(argv):
            value, index = argv[index + 1], index + 2
        else:
            return None
        fields[field] = [*fields[field], value] if kind == "list" else value
    fields["parallel"] = _int(fields["parallel"])
    if index >= len(argv) or fields["parallel"] is None:
        return None
    if fields["project_directory"] is not None:  # typer converts it through pathlib.Path
        from pathlib import Path

        fields["project_directory"] = str(Path(fields["project_directory"]))
    return SimpleNamespace(**fields), argv[index], argv[index + 1:]


def with_globals(argv: list[str]) -> Optional[int]:
    """``composer [global options] WORD ...`` for the commands of this module (None: typer)."""
    parsed = global_options(argv)
    if parsed is None:
        return None
    options, word, rest = parsed
    if word == "up" and options.dry_run:
        return None  # its plan is printed by typer's command
    if word == "up":
        return C.up_fast(rest, options, whole=argv)
    if word == "down":
        return C.down_fast(rest, options)
    if word in LIFECYCLE:
        from composer.cli.compose_lifecycle import MAINS as LIFECYCLE_MAINS

        return LIFECYCLE_MAINS[word](rest, options)
    return MAINS[word](rest, options) if word in MAINS else None


def _context(obj: Any, **params: Any) -> Any:
    """What typer hands a command: the global options and its arguments (``C.load`` reads both)."""
    return SimpleNamespace(obj=default_globals() if obj is None else obj, params=params)


def _parse(verb: str, argv: list[str]) -> Optional[tuple[dict, list[str]]]:
    """(options, arguments) of ``verb`` (``exec``'s and ``run``'s options end at the service);
    None (typer) for what the table does not know (``--help`` too)."""
    table = TABLES[verb]
    try:
        if verb not in UNTIL_SERVICE:
            options, arguments = parse_interspersed(argv, table)
        else:
            options, index = _parse_options(argv, table)
            if index and argv[index - 1] == "--":
                return None  # typer's handling of "--" before the service stays typer's
            arguments = argv[index:]
    except FlagError:
        raise  # a bool flag's =VALUE that is none (pflag's words: ``-i=maybe``)
    except UsageError:
        return None
    if "index" in options and _int(options["index"]) is None:
        return None  # click's "not a valid integer"
    return options, arguments


def _at_least(count: int, arguments: list[str]) -> list[str]:
    """``arguments``, refused as cobra's ``MinimumNArgs(count)`` when there are fewer."""
    if len(arguments) < count:
        raise FlagError(f"requires at least {count} arg(s), only received {len(arguments)}")
    return arguments


def _int(text: str) -> Optional[int]:
    """``text`` as click converts an int option; None when it is not one (typer's error then)."""
    try:
        return int(text)
    except ValueError:
        return None


def _index(options: dict, default: Optional[int]) -> Optional[int]:
    """``--index`` (checked by ``_parse``), or ``default`` when not given."""
    return default if options.get("index") is None else _int(options["index"])


# --- exec ------------------------------------------------------------------------------------------
def exec_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("exec", argv)
    if parsed is None:
        return None
    options, (service, *command) = parsed[0], _at_least(2, parsed[1])
    ctx = _context(obj, service=service)
    return exec_command(ctx, service, command, options, _index(options, 0))


def exec_command(ctx: Any, service: str, command: list[str], options: dict, index: int) -> int:
    """``compose exec``: ``command`` in the service's container number ``index``; its exit code
    (``--dry-run``: the container found, nothing run, as compose's dry-run client)."""
    project = C.load(ctx)
    container = specified_container(project.name, service, index)
    if ctx.obj.dry_run or options.get("dry_run"):
        return 0
    detach = bool(options.get("detach"))
    tty = not options.get("no_TTY") and sys.stdin.isatty() and not detach
    env_list = [f"{k}={v}" for k, v in C.parse_env(options.get("env") or ()).items()]
    exec_in = C.runtime_feature("exec_in")
    settings = dict(stdin=not detach and options.get("interactive", True), env=env_list, user=options.get("user") or "",
                    workdir=options.get("workdir") or "", detach=detach, privileged=bool(options.get("privileged")))
    try:
        code = exec_in(container.id, list(command), tty=tty, **settings)
    except UsageError:
        if not tty:
            raise
        code = exec_in(container.id, list(command), tty=False, **settings)  # no pseudo-TTY in this runtime yet
    return code or 0


# --- run -------------------------------------------------------------------------------------------
def run_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("run", argv)
    if parsed is None:
        return None
    from composer.cli.compose_run import run_command

    options, (service, *command) = parsed[0], _at_least(1, parsed[1])
    return run_command(_context(obj, service=service, command=command), service, command or None, options)


# --- ps --------------------------------------------------------------------------------------------
def ps_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("ps", argv)
    if parsed is None:
        return None
    options, services = parsed
    ps_command(_context(obj, services=services), services, options)
    return 0


def ps_command(ctx: Any, services: list[str], options: dict) -> None:
    """``compose ps``: the project's containers as a table, JSON lines, ids, services or a template."""
    from composer.cli.psformat import docker_ps_format
    from composer.engine.options import PsOptions
    from composer.engine.status import ps_record

    output_format = options.get("format") or docker_ps_format() or "table"  # as compose: the CLI's psFormat
    project, name = C.load_or_name(ctx)
    found = C.engine().ps(name, PsOptions(services=tuple(services), all=bool(options.get("all")),
                                          status=tuple(_states(options))), project=project)
    orphans = options.get("orphans", True)
    if isinstance(orphans, str):  # (typer's ps gives the flag's text)
        orphans = go_bool(orphans, "orphans", TABLES["ps"])
    if not orphans and project is not None:
        from composer.engine import labels as L

        found = [c for c in found if c.labels.get(L.SERVICE, "") in project.services]
    records = [ps_record(c) for c in found]
    for line in _ps_lines(found, records, output_format, options):
        print(line)


def _states(options: dict) -> list[str]:
    """``--status`` values and ``--filter status=X`` ones (compose's ps knows no other filter)."""
    states = list(options.get("status") or ())
    for item in options.get("filter") or ():
        key, equals, value = item.partition("=")
        if not equals:
            raise UsageError("arguments to --filter should be in form KEY=VAL", hint="use --filter status=STATE")
        if key != "status":
            raise UsageError(f"unknown filter {key}", hint="compose's ps filters by status only")
        states.append(value)
    return states


def _ps_lines(found: list[Any], records: list[dict], output_format: str, options: dict) -> list[str]:
    no_trunc = bool(options.get("no_trunc"))
    if options.get("services"):  # compose joins the names with newlines: one empty line when there is none
        return ["\n".join(dict.fromkeys(r["Service"] for r in records))]
    if options.get("quiet"):  # compose prints full ids (--no-trunc changes nothing)
        return [container.id for container in found]
    records = [{**r, "Command": _quoted_command(r["Command"][1:-1], no_trunc)} for r in records]
    if output_format == "json":  # docker compose truncates the command here too
        from composer.spec.render import go_json

        return [go_json(record) for record in records]
    if output_format == "table":
        return table_lines(["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"],
                           [[r["Name"], r["Image"], r["Command"], r["Service"], r["RunningFor"], r["Status"],
                             r["Ports"]] for r in records])
    from composer.cli.psformat import render

    rows = [{**r, "Label": lambda key, c=c: c.labels.get(key, "")}  # .Label "KEY" is a method, as compose's
            for r, c in zip(records, found)]
    return list(render(rows, output_format, strict=True))  # an unknown field refused, as compose


def _quoted_command(command: str, keep: bool) -> str:
    """compose's ``.Command`` (table, json, template): cut to 20 characters (unless ``--no-trunc``),
    then quoted as Go's ``strconv.Quote`` (``"sh -c 'trap \\"exit 0…"``; printable non-ASCII kept)."""
    if not keep and len(command) > 20:
        command = command[:19] + "…"
    return json.dumps(command, ensure_ascii=False)


def table_lines(header: list[str], rows: list[list[Any]], minimum: int = 10, gap: int = 3) -> list[str]:
    """Aligned rows as docker's tabwriter prints them (``tabwriter.NewWriter(w, minimum, 1, gap, ' ', 0)``):
    each cell padded to its column's width plus ``gap``, at least ``minimum``; the last cell as is."""
    from composer.cli.render import columns

    return columns([header, *rows], minimum, gap)


def print_rows(header: list[str], rows: list[list[str]], gap: int = 3, minimum: int = 0) -> None:
    """Aligned columns (docker's tabwriter: ``gap`` spaces of padding, cells at least ``minimum`` wide)."""
    from composer.cli.render import columns

    for line in columns([header, *rows], minimum, gap, trim=True):
        print(line)


# --- logs ------------------------------------------------------------------------------------------
def logs_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("logs", argv)
    if parsed is None:
        return None
    options, services = parsed
    logs_command(_context(obj, services=services), services, options, _index(options, None))
    return 0


def logs_command(ctx: Any, services: list[str], options: dict, index: Optional[int]) -> None:
    """``compose logs [-f]``: the services' output, prefixed by their containers' names."""
    tail = options.get("tail", "all")
    tail = tail if tail.isdigit() else "all"  # compose: anything but a number shows every line
    timestamps, since, until = bool(options.get("timestamps")), options.get("since"), options.get("until")
    index = index or None  # compose: --index 0 is no index
    for flag, value in (("since", since), ("until", until)):
        C.parse_time(value, f'invalid value for "{flag}": ')  # refused before the file is read, as compose
    if index is not None and len(services) != 1:
        raise UsageError("--index requires one service to be selected", hint="name the service: logs --index N SERVICE")
    project = C.load(ctx)
    for service in services:
        if service not in project.services:
            raise UsageError(f"no such service: {service}")
    containers = C.containers_of(project.name, services, index=index)
    if index is not None and not containers:
        from composer.errors import ContainerNotFound

        raise ContainerNotFound(f'service "{services[0]}" is not running container #{index}',
                                hint=f"see composer ps -a {services[0]}")
    printer = C.LogPrinter([C.short_name(c) for c in containers], color=C.use_color(bool(options.get("no_color"))),
                           prefix=not options.get("no_log_prefix"), timestamps=timestamps, one_stream=True)
    if options.get("follow") and index is None:
        from composer.cli.compose_follow import follow_project

        settings = dict(since=C.parse_time(since), until=C.parse_time(until), timestamps=timestamps,
                        announce_exit=True, tail=None if tail == "all" else int(tail))  # "web-1 exited with code 0"
        follow_project(project.name, tuple(services or project.services), containers, printer, settings)
        return
    C.stream_logs(containers, printer, follow=bool(options.get("follow")), tail=tail, since=since, until=until)


# --- port, top, images -----------------------------------------------------------------------------
def port_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("port", argv)
    if parsed is None:
        return None
    options, (service, private_port) = parsed[0], _at_least(2, parsed[1])[:2]  # (compose ignores more)
    ctx = _context(obj, service=service, private_port=private_port)
    port_command(ctx, service, private_port, options.get("protocol", "tcp"), _index(options, 0))
    return 0


def port_command(ctx: Any, service: str, private_port: str, protocol: str, index: int) -> None:
    """``compose port``: ``IP:PORT`` the service's ``private_port`` is published on."""
    if not private_port.isdigit() or int(private_port) > 65535:
        raise UsageError(f'strconv.ParseUint: parsing "{private_port}": invalid syntax',
                         hint="give the container's port number")
    _, name = C.load_or_name(ctx)
    print(public_port(specified_container(name, service, index), int(private_port), protocol.lower()))


def top_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("top", argv)
    if parsed is None:
        return None
    top_command(_context(obj, services=parsed[1]), parsed[1])
    return 0


def top_command(ctx: Any, services: list[str]) -> None:
    """``compose top``: the processes of the services' running (and paused) containers."""
    from composer.engine import labels as L

    _, name = C.load_or_name(ctx)  # as compose: the project's name is enough
    inspect = C.make_runtime().inspect_container
    owners = {}  # host pid -> (service, container number)
    for container in C.containers_of(name, services, oneoff=True):  # one-offs too, as compose
        if container.state in ("running", "paused"):  # as docker top: a paused one's processes too
            pid = int(inspect(container.id).get("State", {}).get("Pid") or 0)
            owner = (container.labels.get(L.SERVICE, ""), container.labels.get(L.CONTAINER_NUMBER, ""))
            owners.update((int(row[1]), owner) for row in processes_of(pid))
    if owners:
        rows = [[*owners[int(row[1])], *row] for row in ps_full(sorted(owners))]
        print_rows(["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                   sorted(rows, key=lambda r: (r[0], int(r[1] or 0), int(r[3]))), gap=2, minimum=4)


def images_main(argv: list[str], obj: Any = None) -> Optional[int]:
    parsed = _parse("images", argv)
    if parsed is None:
        return None
    options, services = parsed
    images_command(_context(obj, services=services), services, bool(options.get("quiet")),
                   options.get("format", "table"))
    return 0


def images_command(ctx: Any, services: list[str], quiet: bool, output_format: str) -> None:
    """``compose images``: the images of the project's containers (ids, a table or JSON)."""
    from composer.cli.images import human_duration, human_size
    from composer.spec.render import go_json

    _, name = C.load_or_name(ctx)  # as compose: the project's name is enough
    containers = sorted(C.containers_of(name, services, oneoff=True), key=lambda c: c.name)
    if quiet:  # a row's ID is always its container's image id: nothing to inspect
        for image_id in dict.fromkeys(c.image_id.removeprefix("sha256:") for c in containers):
            print(image_id)
        return
    rows = image_rows(containers)
    if output_format == "json":
        print(go_json(rows))
        return
    print_rows(["CONTAINER", "REPOSITORY", "TAG", "PLATFORM", "IMAGE ID", "SIZE", "CREATED"],
               [[r["ContainerName"], r["Repository"] or "<none>", r["Tag"] or "<none>", r["Platform"],
                 r["ID"].removeprefix("sha256:")[:12], human_size(r["Size"]),
                 human_duration(r.get("Created", ""))] for r in rows], minimum=20)


# --- shared with compose_info -----------------------------------------------------------------------
def specified_container(project: str, service: str, index: int = 0) -> Any:
    """The running container of ``service`` that ``exec`` and ``port`` act on, as compose picks it:
    number ``index`` (0: the lowest number), one-off containers last; compose's errors otherwise."""
    from composer.engine import labels as L
    from composer.errors import ContainerNotFound

    found = [c for c in C.containers_of(project, [service], index=index or None, oneoff=True)
             if c.state == "running"]
    if not found:
        suffix = f" container #{index}" if index else ""
        raise ContainerNotFound(f'service "{service}" is not running{suffix}',
                                hint=f"start it with `composer up -d {service}`")
    return min(found, key=lambda c: (c.labels.get(L.ONEOFF) == "True", L.container_number(c.labels)))


def public_port(container: Any, private_port: int, protocol: str) -> str:
    """``IP:PORT`` the container's ``private_port``/``protocol`` is published on (compose's error
    lists the container's ports otherwise); an exposed port not published is ``:0``, as compose."""
    for binding in container.ports:
        if binding.target == private_port and binding.protocol == protocol:
            return f"{binding.host_ip or ('0.0.0.0' if binding.published else '')}:{binding.published or 0}"
    published = ", ".join(f"{b.published or 0}/{b.protocol}" for b in container.ports)
    raise UsageError(f"no port {private_port}/{protocol} for container {container.name}: {published}",
                     hint="publish it with ports: in the compose file")


def ps_full(pids: list[int]) -> list[list[str]]:
    """``ps -f`` columns (UID PID PPID C STIME TTY TIME CMD) of ``pids``, as ``docker top`` shows them."""
    import subprocess

    result = subprocess.run(["ps", "-f", "-p", ",".join(map(str, pids))], capture_output=True, text=True)
    return [line.split(None, 7) for line in result.stdout.splitlines()[1:] if line.strip()]


def processes_of(pid: int) -> list[list[Any]]:
    """(uid, pid, ppid, command) of every process in the PID namespace of ``pid``."""
    import os

    if not pid:
        return []
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    rows = []
    for entry in sorted((e for e in os.listdir("/proc") if e.isdigit()), key=int):
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != namespace:
                continue
            with open(f"/proc/{entry}/status") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        rows.append([status["Uid"].split()[0], entry, status["PPid"].strip(), command or status["Name"].strip()])
    return rows


def image_rows(containers: list[Any]) -> list[dict]:
    """``images --format json``'s records of the containers' images, each image inspected once
    (replicas share theirs)."""
    from composer.engine.images.catalog import inspect_image
    from composer.engine.images.store import ImageStore
    from composer.errors import ImageNotFound

    store, inspected = ImageStore(), {}
    for reference in dict.fromkeys(c.image for c in containers):
        try:
            inspected[reference] = inspect_image(store, reference)
        except ImageNotFound:
            inspected[reference] = None
    return [image_row(c, inspected[c.image]) for c in containers]


def image_row(container: Any, image: Optional[dict]) -> dict:
    """The record of one container's image (``image``: its inspection, None if there is none);
    an image untagged or removed since the container was created is still listed, with what the
    container knows of it."""
    repository, _, tag = container.image.rpartition(":") if ":" in container.image.split("/")[-1] \
        else (container.image, "", "latest")
    row = {"ID": container.image_id, "ContainerName": container.name, "Repository": repository, "Tag": tag,
           "Platform": "", "Size": 0}
    if image is None or image["Id"] != container.image_id:  # the tag moved on: its image is not this container's
        return row
    platform = "/".join(p for p in (image["Os"], image["Architecture"], image.get("Variant")) if p)
    row.update(ID=image["Id"], Platform=platform, Size=image["Size"])
    if image["Created"]:
        row["Created"] = image["Created"]
    if not image["Metadata"]["LastTagTime"].startswith("0001-"):
        row["LastTagTime"] = image["Metadata"]["LastTagTime"]
    return row


MAINS: dict[str, Callable[..., Optional[int]]] = {
    "exec": exec_main, "run": run_main, "ps": ps_main, "logs": logs_main, "port": port_main, "top": top_main,
    "images": images_main,
}
