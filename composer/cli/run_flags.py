"""A small, typer-free parser of ``docker run``'s flags (``container run``'s hot path).

argparse costs ~10 ms of imports (re, gettext, enum); this table-driven parser costs nothing.
"""

from __future__ import annotations

from composer.errors import UsageError

# flag -> (destination, kind): kind is "bool", "value" (last wins) or "list" (repeatable)
FLAGS: dict[str, tuple[str, str]] = {}


def _flags(kind: str, *specs: str, table: dict | None = None) -> None:
    for spec in specs:
        names = spec.split("|")
        dest = names[-1].lstrip("-").replace("-", "_")
        for name in names:
            (FLAGS if table is None else table)[name] = (dest, kind)


_flags("bool", "--rm", "-i|--interactive", "-t|--tty", "-d|--detach", "--init", "--privileged",
       "--read-only", "--no-healthcheck", "-P|--publish-all", "--oom-kill-disable", "--help",
       "--sig-proxy", "-q|--quiet",  # (composer's pulls print nothing)
       "--disable-content-trust", "--use-api-socket")  # (composer verifies no signatures)
_flags("list", "-e|--env", "--env-file", "-l|--label", "--label-file", "-v|--volume", "--mount", "--tmpfs",
       "--cap-add", "--cap-drop", "--security-opt", "--sysctl", "--ulimit", "--add-host", "-p|--publish",
       "--dns", "--dns-search", "--dns-option", "--group-add", "--device", "--expose", "-a|--attach",
       "--log-opt", "--network-alias", "--link", "--link-local-ip", "--volumes-from", "--device-cgroup-rule",
       "--device-read-bps", "--device-write-bps", "--device-read-iops", "--device-write-iops",
       "--blkio-weight-device", "--annotation", "--storage-opt")
_flags("value", "--name", "-w|--workdir", "-u|--user", "--entrypoint", "-h|--hostname", "--domainname",
       "--net|--network", "--pid", "--ipc", "--uts", "-m|--memory", "--memory-swap", "--memory-reservation",
       "--cpus", "-c|--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "--pids-limit", "--blkio-weight",
       "--oom-score-adj", "--shm-size", "--stop-signal", "--stop-timeout", "--platform", "--pull",
       "--restart", "--userns", "--cgroupns", "--log-driver", "--health-cmd", "--ip", "--ip6",
       "--health-interval", "--health-timeout", "--health-retries", "--health-start-period",
       "--health-start-interval",
       "--detach-keys", "--cidfile", "--runtime", "--isolation", "--cgroup-parent", "--memory-swappiness",
       "--cpu-period", "--cpu-quota", "--cpu-rt-period", "--cpu-rt-runtime", "--kernel-memory", "--cpu-count",
       "--cpu-percent", "--io-maxbandwidth", "--io-maxiops", "--mac-address", "--volume-driver", "--gpus")


# ``create``: run's flags but those of a run's attachment (docker's create has none of them)
CREATE_FLAGS = {name: spec for name, spec in FLAGS.items()
                if name not in ("-d", "--detach", "--detach-keys", "--sig-proxy")}

EXEC_FLAGS: dict[str, tuple[str, str]] = {}
_flags("bool", "-d|--detach", "-i|--interactive", "-t|--tty", "--privileged", "--help", table=EXEC_FLAGS)
_flags("list", "-e|--env", "--env-file", table=EXEC_FLAGS)
_flags("value", "-u|--user", "-w|--workdir", "--detach-keys", table=EXEC_FLAGS)


def parse_exec_args(argv: list[str]) -> tuple[dict, str, list[str]]:
    """(options, container, command) of ``container exec [OPTIONS] CONTAINER COMMAND [ARG...]``."""
    options, index = _parse_options(argv, EXEC_FLAGS)
    if options.get("help"):
        return options, "", []
    if index + 1 >= len(argv):
        raise UsageError('"container exec" requires at least 2 arguments',
                         hint="usage: composer container exec [OPTIONS] CONTAINER COMMAND [ARG...]")
    return options, argv[index], argv[index + 1:]


def _parse_options(argv: list[str], table: dict) -> tuple[dict, int]:
    options: dict = {}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return options, index + 1
        if not arg.startswith("-") or arg == "-":
            break
        index = _consume(argv, index, options, table)
    return options, index


def parse_interspersed(argv: list[str], table: dict) -> tuple[dict, list[str]]:
    """(options, arguments) of a verb whose flags may come after its arguments too (docker's
    ``inspect web -f X``, ``rm web -f``); everything after ``--`` is an argument."""
    options: dict = {}
    arguments: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return options, arguments + argv[index + 1:]
        if not arg.startswith("-") or arg == "-":
            arguments.append(arg)
            index += 1
        else:
            index = _consume(argv, index, options, table)
    return options, arguments


def parse_verb(argv: list[str], table: dict, command: str) -> tuple[dict, list[str]] | None:
    """(options, arguments) of docker's ``command`` (``image ls``), its flags anywhere among the
    arguments; None for ``--help``/``-h`` (the typer command's help). A flag it refuses is docker's
    error: exit 125, its usage block after it (``See 'composer COMMAND --help'.``); so is a wrong
    number of arguments (exit 1, ``dockerusage.check_arity``)."""
    if any(arg in ("--help", "-h") for arg in argv):
        return None
    try:
        options, arguments = parse_interspersed(argv, table)
    except UsageError as error:
        error.exit_code, error.hint = 125, f"See 'composer {command} --help'."
        raise
    from composer.cli.dockerusage import check_arity

    check_arity(command, arguments)
    return options, arguments


def parse_run_args(argv: list[str], verb: str = "run") -> tuple[dict, str, list[str]]:
    """(options, image, command args) of ``container run|create [OPTIONS] IMAGE [COMMAND] [ARG...]``."""
    options: dict = {}
    index = 0
    table = CREATE_FLAGS if verb == "create" else FLAGS
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        try:
            index = _consume(argv, index, options, table)
        except UsageError as error:  # docker's usage block, exit 125
            error.hint = f"See 'composer container {verb} --help'."
            error.exit_code = 125
            raise
    if index >= len(argv):
        if options.get("help"):
            return options, "", []
        raise UsageError(f"'composer container {verb}' requires at least 1 argument",
                         hint=f"See 'composer container {verb} --help'.", exit_code=1)
    return options, argv[index], argv[index + 1:]


def _consume(argv: list[str], index: int, options: dict, table: dict = FLAGS) -> int:
    """Parse the option at ``argv[index]``; returns the index of the next argument."""
    arg = argv[index]
    if arg.startswith("--"):
        name, has_value, value = arg.partition("=")
        return _store(argv, index, options, name, value if has_value else None, table)
    # short flags: -it, -eKEY=V, -e KEY=V
    for position in range(1, len(arg)):
        name = "-" + arg[position]
        dest_kind = table.get(name)
        if dest_kind is None:
            raise UsageError(f"unknown shorthand flag: {arg[position]!r} in {arg}")
        rest = arg[position + 1:]
        if dest_kind[1] != "bool" or rest.startswith("="):  # (-i=false: a bool's value)
            return _store(argv, index, options, name, rest.removeprefix("=") if rest else None, table)
        options[dest_kind[0]] = True
    return index + 1


def _store(argv: list[str], index: int, options: dict, name: str, value: str | None,
           table: dict = FLAGS) -> int:
    if name not in table:
        raise UsageError(f"unknown flag: {name}", hint="See 'composer container run --help'.")
    dest, kind = table[name]
    if kind == "bool":
        options[dest] = True if value is None else go_bool(value, dest, table)
        return index + 1
    if value is None:
        if index + 1 >= len(argv):
            from composer.cli.render import needs_argument

            raise UsageError(needs_argument(name, argv[index]))
        value = argv[index + 1]
        index += 1
    if kind == "list":
        options.setdefault(dest, []).append(value)
    else:
        options[dest] = value
    return index + 1


def go_bool(value: str, dest: str, table: dict) -> bool:
    """``--flag=VALUE`` of the bool flag ``dest`` of ``table`` as pflag reads it (strconv.ParseBool);
    its error (FlagError) for another value."""
    from composer.gobool import GO_BOOLS

    if value in GO_BOOLS:
        return GO_BOOLS[value]
    from composer.cli.render import invalid_value
    from composer.errors import FlagError

    raise FlagError(invalid_value(flag_names(table, dest), value, "bool"))


def flag_names(table: dict, dest: str) -> str:
    """``-i, --interactive``: a flag's names as pflag's messages show them."""
    names = [n for n, (d, _) in table.items() if d == dest]
    short = [n for n in names if not n.startswith("--")]
    return ", ".join(short[:1] + [n for n in names if n.startswith("--")][:1])


UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_bytes(value: str, flag: str) -> int:
    """docker's RAMInBytes: ``512m``, ``1g``, ``100k``, ``1024``; ``-1`` stays -1."""
    text = value.strip().lower()
    if text == "-1":
        return -1
    if text.endswith("b") and len(text) > 1 and text[-2] in UNITS and text[-2] != "b":
        text = text[:-1]
    unit = text[-1] if text and text[-1].isalpha() else ""
    number = text[: len(text) - len(unit)]
    try:
        if unit not in UNITS:
            raise ValueError
        return int(float(number) * UNITS[unit])
    except ValueError:
        raise UsageError(f"invalid size {value!r} for {flag}", hint="use a number with an optional unit b, k, m, g") from None


def parse_duration(value: str, flag: str) -> float:
    """Go's time.ParseDuration: ``30s``, ``1m30s``, ``500ms``, ``1.5h`` -> seconds (``""``: 0)."""
    from composer.units import go_duration

    if not value.strip():
        return 0.0
    try:
        return go_duration(value)
    except ValueError:
        raise UsageError(f"invalid duration {value!r} for {flag}", hint="use e.g. 30s, 1m30s or 500ms") from None
