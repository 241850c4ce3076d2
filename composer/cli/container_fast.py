"""Typer-free fast paths of the latency-critical container verbs: stop, start, kill, restart, rm,
wait, and the reading ones scripts call in loops, ls (ps) and inspect.

Their latency is a headline figure, and typer's import costs more than the work itself; the flags
are docker's, parsed by ``run_flags``' table-driven parser. ``--help`` goes to the typer command.
"""

from __future__ import annotations

import sys

from composer.cli.run_flags import _flags, parse_interspersed
from composer.errors import UsageError

TABLES: dict[str, dict] = {verb: {} for verb in ("stop", "start", "kill", "restart", "rm", "wait", "ls", "inspect")}
_flags("value", "-t|--timeout|--time", "-s|--signal", table=TABLES["stop"])  # (--time: docker's old name)
_flags("value", "-t|--timeout|--time", "-s|--signal", table=TABLES["restart"])
_flags("value", "-s|--signal", table=TABLES["kill"])
_flags("bool", "-f|--force", "-v|--volumes", "-l|--link", table=TABLES["rm"])
_flags("value", "--condition", table=TABLES["wait"])
_flags("bool", "-a|--all", "-q|--quiet", "-l|--latest", "-s|--size", "--no-trunc", table=TABLES["ls"])
_flags("list", "-f|--filter", table=TABLES["ls"])
_flags("value", "--format", "-n|--last", table=TABLES["ls"])
_flags("value", "-f|--format", table=TABLES["inspect"])
_flags("bool", "-s|--size", table=TABLES["inspect"])


def _timeout(options: dict, verb: str) -> float | None:
    value = options.get("time")
    if value is None:
        return None
    try:
        return float(int(value))
    except ValueError:
        from composer.cli.render import invalid_value
        from composer.errors import FlagError

        raise FlagError(invalid_value("-t, --timeout", value, "integer"), exit_code=125,
                        hint=f"See 'composer container {verb} --help'.") from None


def run(verb: str, argv: list[str]) -> int:
    """One verb over its container arguments; docker's output (the references, or exit codes),
    a failed one reported and the others still done (exit 1), as docker's."""
    from composer.cli.render import each_reference

    try:
        options, references = parse_interspersed(argv, TABLES[verb])
    except UsageError as error:  # docker: a flag error exits 125, a missing argument 1
        error.exit_code, error.hint = 125, f"See 'composer container {verb} --help'."
        raise
    if verb == "ls":
        return _ls(options, references)
    if not references:
        raise UsageError(f"'composer container {verb}' requires at least 1 argument",
                         hint=f"See 'composer container {verb} --help'.")
    if verb == "inspect":
        return _inspect(options, references)
    timeout = _timeout(options, verb)
    return each_reference(references, lambda reference: _one(verb, reference, options, timeout),
                          "failed to start containers: {}" if verb == "start" else "",
                          harmless=_not_found if verb == "rm" and options.get("force") else None)


def _ls(options: dict, arguments: list[str]) -> int:
    """``container ls`` (docker ps)."""
    from composer.cli.psformat import ps_lines

    if arguments:
        raise UsageError("'composer container ls' accepts no arguments", hint="See 'composer container ls --help'.")
    last = options.get("last", "-1")
    if not last.lstrip("-").isdigit():
        from composer.cli.render import invalid_value

        raise UsageError(invalid_value("-n, --last", last, "integer"), hint="See 'composer container ls --help'.",
                         exit_code=125)
    lines, warnings = ps_lines(options.get("all", False), options.get("quiet", False), options.get("filter", []),
                               options.get("format", ""), 1 if options.get("latest") else int(last),
                               options.get("size", False), options.get("no_trunc", False))
    sys.stderr.write("".join(line + "\n" for line in warnings))
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _inspect(options: dict, references: list[str]) -> int:
    """``container inspect``: docker's JSON array, or a Go template's line per container."""
    from composer.cli.render import inspect_each
    from composer.engine.runtime import containers
    from composer.errors import ContainerNotFound

    output_format = options.get("format", "")

    def look_up(reference: str) -> dict:
        info = containers.inspect(containers.resolve(reference), size=options.get("size", False))
        if output_format and output_format != "json":
            info["State"].setdefault("Health", None)  # a nil pointer in docker's struct: <nil>, not <no value>
            info.setdefault("SizeRw", None)  # the same (nil without -s)
            info.setdefault("SizeRootFs", None)
        return info

    return inspect_each(references, look_up, ContainerNotFound, output_format, strict=True, prepare=template_data)


# container inspect's Go types: nil slices print [], nil maps map[], structs {a b}, maps map[k:v]
NIL_LISTS = frozenset({"Args", "Binds", "VolumesFrom", "CapAdd", "CapDrop", "Dns", "DnsOptions", "DnsSearch",
                       "ExtraHosts", "GroupAdd", "Links", "SecurityOpt", "Devices", "DeviceCgroupRules",
                       "DeviceRequests", "Ulimits", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                       "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "MaskedPaths", "ReadonlyPaths", "Cmd",
                       "Entrypoint", "Env", "OnBuild", "Shell", "Aliases", "DNSNames", "ExecIDs",
                       "SecondaryIPAddresses", "SecondaryIPv6Addresses", "Mounts", "ConsoleSize"})
NIL_MAPS = frozenset({"Labels", "Volumes", "ExposedPorts", "DriverOpts", "Tmpfs", "Sysctls", "StorageOpt",
                      "Annotations"})
GO_MAPS = frozenset({"Labels", "Volumes", "ExposedPorts", "DriverOpts", "Tmpfs", "Sysctls", "StorageOpt",
                     "Annotations", "PortBindings", "Ports", "Networks", "Data", "LogConfig.Config"})


def template_data(info: dict) -> object:
    """One ``container inspect`` document as the Go values docker's templates see (a port
    without bindings is a nil slice: ``map[80/tcp:[]]``)."""
    from composer.cli.gotemplate import NilList, go_nils, go_structs

    ports = info.get("NetworkSettings", {}).get("Ports") or {}
    info["NetworkSettings"]["Ports"] = {key: NilList() if value is None else value for key, value in ports.items()}
    for section, fields in OMITTED.items():  # omitempty fields are still the struct's: their zero values
        for name, zero in fields.items():
            info.get(section, {}).setdefault(name, zero)
    info["Mounts"] = [{name: mount.get(name, "") for name in MOUNT_POINT} for mount in info.get("Mounts") or ()]
    return go_structs(go_nils(info, NIL_LISTS, NIL_MAPS), GO_MAPS)


OMITTED = {"Config": {"ExposedPorts": None, "Healthcheck": None, "ArgsEscaped": False, "NetworkDisabled": False,
                      "MacAddress": "", "StopSignal": "", "StopTimeout": None, "Shell": None},
           "HostConfig": {"Tmpfs": None, "Sysctls": None, "StorageOpt": None, "Mounts": None, "Init": None}}
MOUNT_POINT = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation")  # its field order


def _not_found(error: Exception) -> bool:
    from composer.errors import ContainerNotFound

    return isinstance(error, ContainerNotFound)


def _one(verb: str, reference: str, options: dict, timeout: float | None) -> str:
    """``verb`` on one container; the line docker prints for it (kill's errors name it, as docker's)."""
    from composer.errors import ContainerRuntimeError

    try:
        return _apply(verb, reference, options, timeout)
    except ContainerRuntimeError as error:
        if verb == "kill":
            error.message = f"Cannot kill container: {reference}: {error.message}"
        raise


def _apply(verb: str, reference: str, options: dict, timeout: float | None) -> str:
    from composer.engine.runtime import containers

    if verb == "rm" and options.get("link"):
        containers.remove_link(reference)
        return reference
    if verb == "kill":  # dockerd reads the signal before it looks the container up
        containers.signal_number(options.get("signal", "SIGKILL"))
    container_id = containers.resolve(reference)
    if verb == "stop":
        containers.stop(container_id, timeout, options.get("signal"))
    elif verb == "restart":
        containers.restart(container_id, timeout, options.get("signal"))
    elif verb == "start":
        containers.start(container_id)
    elif verb == "kill":
        containers.kill(container_id, options.get("signal", "SIGKILL"))
    elif verb == "rm":
        containers.remove(container_id, force=options.get("force", False), volumes=options.get("volumes", False))
    else:
        return str(containers.wait(container_id, options.get("condition", "not-running")))
    return reference


def _verb(name: str):
    def main(argv: list[str]) -> int | None:
        if any(arg in ("--help", "-h") for arg in argv) or (name == "start" and any(
                a.startswith("-") for a in argv)):
            return None  # help, and start -a/-i: main() falls back to the typer command
        from composer.cli.main import exit_now  # loaded already: the entry point
        from composer.cli.render import daemon_errors

        return exit_now(daemon_errors(run)(name, argv))  # nothing left for the interpreter's teardown to release
    return main


stop_main, start_main, kill_main = _verb("stop"), _verb("start"), _verb("kill")
restart_main, rm_main, wait_main = _verb("restart"), _verb("rm"), _verb("wait")
ls_main, inspect_main = _verb("ls"), _verb("inspect")
