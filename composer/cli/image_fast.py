"""Typer-free ``image ls``/``image list``, ``image inspect`` and ``image history`` (scripts call them in loops): the
same functions as the typer commands of ``composer.cli.images``; ``--help`` goes to typer."""

from __future__ import annotations

from composer.cli.run_flags import _flags, parse_verb

TABLES: dict[str, dict] = {"ls": {}, "inspect": {}, "history": {}}
_flags("bool", "-a|--all", "-q|--quiet", "--no-trunc", "--digests", table=TABLES["ls"])
_flags("list", "-f|--filter", table=TABLES["ls"])
_flags("value", "--format", table=TABLES["ls"])
_flags("value", "-f|--format", "--platform", table=TABLES["inspect"])
_flags("bool", "-H|--human", "--no-trunc", "-q|--quiet", table=TABLES["history"])
_flags("value", "--format", "--platform", table=TABLES["history"])


def ls_main(argv: list[str]) -> int | None:
    """``image ls [OPTIONS] [REPOSITORY[:TAG]]``."""
    parsed = parse_verb(argv, TABLES["ls"], "image ls")
    if parsed is None:
        return None
    from composer.cli.images import list_images_command

    options, arguments = parsed
    return list_images_command(arguments[0] if arguments else None, options.get("quiet", False),
                               options.get("no_trunc", False), options.get("digests", False),
                               options.get("format"), options.get("filter", []), options.get("all", False))


def inspect_main(argv: list[str]) -> int | None:
    """``image inspect [OPTIONS] IMAGE [IMAGE...]``."""
    parsed = parse_verb(argv, TABLES["inspect"], "image inspect")
    if parsed is None:
        return None
    from composer.cli.images import inspect_images_command

    options, arguments = parsed
    return inspect_images_command(arguments, options.get("format"), options.get("platform"))


def history_main(argv: list[str]) -> int | None:
    """``image history [OPTIONS] IMAGE``."""
    parsed = parse_verb(argv, TABLES["history"], "image history")
    if parsed is None:
        return None
    from composer.cli.images import history_command

    options, (reference,) = parsed
    return history_command(reference, options.get("human", True), options.get("no_trunc", False),
                           options.get("quiet", False), options.get("format"), options.get("platform"))
