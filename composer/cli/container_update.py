"""``composer update`` / ``composer container update`` (docker update), typer-free.

Flags may come before, between or after the containers (cobra's interspersed flags). Each
container's name is printed as given once updated, docker's warnings after them, a failure per
container in the daemon's words (the others are still updated; exit 1 if any failed).
"""

from __future__ import annotations

import sys

from composer.cli.run_flags import _flags, parse_bytes, parse_interspersed
from composer.errors import UsageError

FLAGS: dict[str, tuple[str, str]] = {}
_flags("value", "--blkio-weight", "--cpu-period", "--cpu-quota", "--cpu-rt-period", "--cpu-rt-runtime",
       "-c|--cpu-shares", "--cpus", "--cpuset-cpus", "--cpuset-mems", "--kernel-memory", "-m|--memory",
       "--memory-reservation", "--memory-swap", "--pids-limit", "--restart", table=FLAGS)
_flags("bool", "-h|--help", table=FLAGS)

USAGE = """Usage:  composer update [OPTIONS] CONTAINER [CONTAINER...]

Update configuration of one or more containers

Aliases:
  composer container update, composer update

Options:
      --blkio-weight uint16        Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
      --cpu-period int             Limit CPU CFS (Completely Fair Scheduler) period
      --cpu-quota int              Limit CPU CFS (Completely Fair Scheduler) quota
      --cpu-rt-period int          Limit the CPU real-time period in microseconds
      --cpu-rt-runtime int         Limit the CPU real-time runtime in microseconds
  -c, --cpu-shares int             CPU shares (relative weight)
      --cpus decimal               Number of CPUs
      --cpuset-cpus string         CPUs in which to allow execution (0-3, 0,1)
      --cpuset-mems string         MEMs in which to allow execution (0-3, 0,1)
      --kernel-memory bytes        Kernel memory limit (deprecated)
  -m, --memory bytes               Memory limit
      --memory-reservation bytes   Memory soft limit
      --memory-swap bytes          Swap limit equal to memory plus swap: -1 to enable unlimited swap
      --pids-limit int             Tune container pids limit (set -1 for unlimited)
      --restart string             Restart policy to apply when a container exits
"""
INTEGERS = {"blkio_weight": "--blkio-weight", "cpu_period": "--cpu-period", "cpu_quota": "--cpu-quota",
            "cpu_rt_period": "--cpu-rt-period", "cpu_rt_runtime": "--cpu-rt-runtime",
            "cpu_shares": "-c, --cpu-shares", "pids_limit": "--pids-limit"}
SIZES = {"memory": "-m, --memory", "memory_swap": "--memory-swap", "memory_reservation": "--memory-reservation",
         "kernel_memory": "--kernel-memory"}


def parse_args(argv: list[str]) -> tuple[dict, list[str]]:
    """(options, containers): flags anywhere, ``--`` ends them."""
    return parse_interspersed(argv, FLAGS)


def _flag_error(value: str, flag: str, reason: str) -> UsageError:
    """docker's (pflag's) wording of a value it cannot parse (exit 125)."""
    from composer.cli.render import invalid_argument

    return UsageError(invalid_argument(flag, value, reason), hint="See 'composer update --help'.", exit_code=125)


def build_request(options: dict):
    """The UpdateRequest of the parsed flags (docker's CLI conversions)."""
    from composer.cli.render import syntax_error
    from composer.engine.runtime.update import UpdateRequest, parse_restart_policy

    request = UpdateRequest(cpuset_cpus=options.get("cpuset_cpus", ""), cpuset_mems=options.get("cpuset_mems", ""))
    for name, flag in INTEGERS.items():
        if name in options:
            try:
                setattr(request, name, int(options[name]))
            except ValueError:
                raise _flag_error(options[name], flag, syntax_error(options[name], "integer")) from None
    if request.pids_limit == 0:
        request.pids_limit = None  # docker's CLI: 0 is "not given"
    for name, flag in SIZES.items():
        if name in options:
            try:
                setattr(request, name, parse_bytes(options[name], flag))
            except UsageError:
                raise _flag_error(options[name], flag, "invalid size") from None
    if "cpus" in options:
        request.nano_cpus = _nano_cpus(options["cpus"])
    if options.get("restart"):
        request.restart_policy = parse_restart_policy(options["restart"])
    return request


def _nano_cpus(text: str) -> int:
    """``--cpus 1.5`` -> 1500000000, exactly (docker parses a rational number; decimal's import
    costs ~8 ms)."""
    digits = text.strip()
    sign = -1 if digits.startswith("-") else 1
    whole, _, fraction = digits.lstrip("+-").partition(".")
    if not (whole or fraction) or not (whole.isdigit() or not whole) or not (fraction.isdigit() or not fraction):
        raise _flag_error(text, "--cpus", f"failed to parse {text} as a rational number")
    if len(fraction.rstrip("0")) > 9:
        raise _flag_error(text, "--cpus", "value is too precise")
    return sign * (int(whole or 0) * 10**9 + int((fraction + "0" * 9)[:9]))


def run(argv: list[str]) -> int:
    """``update`` over its containers; the exit code."""
    from composer.cli.render import each_reference

    try:
        options, references = parse_args(argv)
    except UsageError as error:
        error.exit_code, error.hint = 125, "See 'composer update --help'."
        raise
    if options.get("help"):
        sys.stdout.write(USAGE)
        return 0
    if not references:
        raise UsageError("'composer update' requires at least 1 argument", hint="See 'composer update --help'.")
    if not options:
        raise UsageError("you must provide one or more flags when using this command")
    request = build_request(options)
    warnings: list[str] = []

    def one(reference: str) -> str:
        from composer.engine.runtime.update import update

        warnings.extend(update(reference, request.__class__(**request.to_dict())))  # (a copy: checks drop limits)
        return reference

    code = each_reference(references, one)
    if warnings:
        print("\n".join(warnings))
    return code


def main(argv: list[str]) -> int:
    """The fast path's entry (``composer update ...``, ``composer container update ...``)."""
    from composer.cli.main import exit_now  # loaded already: the entry point

    return exit_now(run(argv))


def register(app) -> None:
    """``update`` in ``composer --help`` and ``composer container --help``, and run after global
    options (``composer -p x update``); otherwise the fast path runs it (FAST_PATHS)."""
    import typer

    def update_command(ctx) -> None:
        """Update configuration of one or more containers (docker update)."""
        raise typer.Exit(run(list(ctx.args)))

    update_command.__annotations__ = {"ctx": typer.Context, "return": None}  # typer is imported here only
    app.command("update", add_help_option=False,
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(update_command)
