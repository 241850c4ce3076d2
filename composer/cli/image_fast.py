"""Typer-free ``image ls``/``image list``, ``image inspect`` and ``image history`` (scripts call them in loops): the
same functions as the typer commands of ``composer.cli.images``; anything this parser does not
take (``--help``, an unknown flag, a missing value) goes to typer, for its help and errors."""

from __future__ import annotations

from composer.cli.run_flags import _flags, parse_interspersed
from composer.errors import UsageError

TABLES: dict[str, dict] = {"ls": {}, "inspect": {}, "history": {}}
_flags("bool", "-a|--all", "-q|--quiet", "--no-trunc", "--digests", table=TABLES["ls"])
_flags("list", "-f|--filter", table=TABLES["ls"])
_flags("value", "--format", table=TABLES["ls"])
_flags("value", "-f|--format", "--platform", table=TABLES["inspect"])
_flags("bool", "-H|--human", "--no-trunc", "-q|--quiet", table=TABLES["history"])
_flags("value", "--format", "--platform", table=TABLES["history"])


def _parsed(verb: str, argv: list[str]) -> tuple[dict, list[str]] | None:
    if any(arg in ("--help", "-h") for arg in argv):
        return None
    values: dict = {}
    try:
        if verb == "history":  # ``-H=false``: pflag's bool forms (compose_fast's parser; image ls stays off it)
            from composer.cli.compose_fast import bool_values

            argv, values = bool_values(argv, TABLES[verb])
        options, arguments = parse_interspersed(argv, TABLES[verb])
    except UsageError:
        return None
    if (verb == "ls" and len(arguments) > 1) or (verb == "inspect" and not arguments) or \
            (verb == "history" and len(arguments) != 1):
        return None
    return {**options, **values}, arguments


def ls_main(argv: list[str]) -> int | None:
    """``image ls [OPTIONS] [REPOSITORY[:TAG]]``."""
    parsed = _parsed("ls", argv)
    if parsed is None:
        return None
    from composer.cli.images import list_images_command

    options, arguments = parsed
    return list_images_command(arguments[0] if arguments else None, options.get("quiet", False),
                               options.get("no_trunc", False), options.get("digests", False),
                               options.get("format"), options.get("filter", []), options.get("all", False))


def inspect_main(argv: list[str]) -> int | None:
    """``image inspect [OPTIONS] IMAGE [IMAGE...]``."""
    parsed = _parsed("inspect", argv)
    if parsed is None:
        return None
    from composer.cli.images import inspect_images_command

    options, arguments = parsed
    return inspect_images_command(arguments, options.get("format"), options.get("platform"))


def history_main(argv: list[str]) -> int | None:
    """``image history [OPTIONS] IMAGE``."""
    parsed = _parsed("history", argv)
    if parsed is None:
        return None
    from composer.cli.images import history_command

    options, (reference,) = parsed
    return history_command(reference, options.get("human", True), options.get("no_trunc", False),
                           options.get("quiet", False), options.get("format"), options.get("platform"))
