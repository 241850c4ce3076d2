"""``composer container commit`` and ``export``'s writing: a container's changes as a new image, its
filesystem as a tar (docker's CLI words; the files read by ``engine.images.commit``, never followed).

``main`` is ``container commit``'s typer-free fast path; ``register`` adds the typer command (its
help, and the same work). typer is imported only there.
"""

from __future__ import annotations

import sys

TRUE_WORDS = ("1", "t", "T", "TRUE", "true", "True")
FALSE_WORDS = ("0", "f", "F", "FALSE", "false", "False")
PAUSE_HELP = "Pause container during commit (-p=false: do not)."
AUTHOR_HELP = 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'
CHANGE_HELP = "Apply Dockerfile instruction to the created image."
USAGE = "Usage:  composer container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]"


def pause_and_words(pause: str, words: list[str]) -> tuple:
    """(pause?, positional words): ``-p``/``--pause`` is a bool flag taking ``=false`` as pflag's;
    a word that is no bool after a bare ``-p`` was the first positional argument (click took it)."""
    value = pause.lstrip("=")
    if value in TRUE_WORDS or value in FALSE_WORDS:
        return value in TRUE_WORDS, words
    return True, [value, *words]


def run_commit(words: list[str], author: str, changes: list[str], message: str, pause: bool) -> int:
    """``container commit``'s work: the image id on stdout (0), docker's errors (1)."""
    from composer.cli.render import daemon_text
    from composer.engine.images.commit import CommitRequest, commit
    from composer.engine.images.reference import parse_reference
    from composer.engine.runtime.state import find_container
    from composer.errors import ContainerRuntimeError, FlagError, ImageError

    if not 1 <= len(words) <= 2:
        raise FlagError("'composer container commit' requires at least 1 and at most 2 arguments", hint=USAGE,
                        exit_code=1)
    reference = words[1] if len(words) > 1 else None
    if reference:
        parse_reference(reference)  # the command line's own error (invalid reference format), as docker's
    request = CommitRequest(reference=reference, author=author, comment=message, changes=tuple(changes),
                            pause=pause)
    try:
        image_id = commit(find_container(words[0]).id, request)
    except ImageError as error:  # the daemon's refusal in docker (a bad --change, a missing image)
        print(f"Error response from daemon: {error.message}", file=sys.stderr)
        return 1
    except ContainerRuntimeError as error:
        print(daemon_text(error), file=sys.stderr)
        return error.exit_code
    print(image_id)
    return 0


def main(argv: list[str]) -> int | None:
    """The fast path (``FAST_PATHS``): docker's flags parsed without typer; None for ``--help``."""
    from composer.cli.run_flags import _flags, parse_interspersed
    from composer.errors import UsageError

    if any(arg in ("-h", "--help") for arg in argv):
        return None
    table: dict = {}
    _flags("value", "-a|--author", "-m|--message", table=table)
    _flags("list", "-c|--change", table=table)
    _flags("bool", "-p|--pause", table=table)
    argv = ["--pause" + arg[2:] if arg.startswith("-p=") else arg for arg in argv]  # pflag's -p=false
    try:
        options, words = parse_interspersed(argv, table)
    except UsageError as error:
        error.exit_code, error.hint = 125, "See 'composer container commit --help'."
        raise
    return run_commit(words, options.get("author", ""), options.get("change", []), options.get("message", ""),
                      options.get("pause", True))


def export_main(argv: list[str]) -> int | None:
    """``container export``'s fast path (``FAST_PATHS``): ``-o``/``--output``; None for ``--help``."""
    from composer.cli.render import daemon_errors
    from composer.cli.run_flags import _flags, parse_interspersed
    from composer.engine.runtime.state import find_container
    from composer.errors import UsageError

    if any(arg in ("-h", "--help") for arg in argv):
        return None
    table: dict = {}
    _flags("value", "-o|--output", table=table)
    try:
        options, words = parse_interspersed(argv, table)
    except UsageError as error:
        error.exit_code, error.hint = 125, "See 'composer container export --help'."
        raise
    if len(words) != 1:
        print("'composer container export' requires 1 argument\n\nUsage:  composer container export [OPTIONS] "
              "CONTAINER\n\nRun 'composer container export --help' for more information", file=sys.stderr)
        return 1
    if options.get("output"):
        _check_output_path(options["output"])
    container = daemon_errors(find_container)(words[0])
    export_archive(container.id, options.get("output"))
    return 0


def _check_output_path(output: str) -> None:
    """docker CLI 28's check of ``export -o``, in its words (compose's export words its own):
    the directory's stat, then a directory refused."""
    import os

    from composer.errors import FlagError

    directory = os.path.dirname(os.path.normpath(output))
    try:
        if directory:
            os.stat(directory + "/")  # (a file there: not a directory)
    except OSError as error:
        raise FlagError(f"failed to export container: invalid output path: stat {directory}: "
                        f"{(error.strerror or str(error)).lower()}", exit_code=1) from None
    if os.path.isdir(output):
        raise FlagError("failed to export container: cannot write to a directory", exit_code=1)


def export_archive(container_id: str, output: str | None, refusal: str = "", announce=None) -> None:
    """``export``: the container's filesystem as a tar to ``output`` (docker's way: checked first,
    written to a private temporary file renamed into place, mode 0600) or to a redirected stdout;
    ``announce()`` once the destination passed the checks (compose's progress line)."""
    import os
    import sys

    from composer.engine.images.layertar import id_shift, write_merged
    from composer.engine.runtime.state import ContainerDir
    from composer.errors import UsageError

    if not output and sys.stdout.isatty():
        raise UsageError(refusal or "cowardly refusing to save to a terminal. Use the -o flag or redirect")
    cdir = ContainerDir(container_id)
    config = cdir.read_config()
    layers, shift = config.get("layers", []), id_shift(config, cdir.upper)
    directory = os.path.dirname(os.path.normpath(output or "-"))
    if directory and not os.path.isdir(directory):
        raise UsageError(f'failed to export container: invalid output path: directory "{directory}" does not exist')
    if announce is not None:
        announce()
    if not output:
        write_merged(layers, cdir.upper, sys.stdout.buffer, shift)
        return
    handle, temporary = tempfile_near(output)
    try:
        with os.fdopen(handle, "wb") as target:
            write_merged(layers, cdir.upper, target, shift)
        os.replace(temporary, output)
    except BaseException as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(error, OSError):  # the output is a directory, the disk is full ...
            raise UsageError(f"failed to export container: {error.strerror}: {output}") from None
        raise


def tempfile_near(path: str) -> tuple:
    """(fd, name) of a new 0600 file beside ``path`` (same filesystem: renamed into place)."""
    import os
    import tempfile

    try:
        return tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=f".{os.path.basename(path)}.")
    except OSError as error:
        from composer.errors import UsageError

        raise UsageError(f"failed to export container: {error.strerror}: {path}") from None


def register(container) -> None:
    """Add ``commit`` to the ``container`` group (typer's command: help, and the same work)."""
    import typer

    from composer.cli.render import docker_command_class

    @container.command("commit", cls=docker_command_class())
    def container_commit(
            arguments: list[str] | None = typer.Argument(None, metavar="CONTAINER [REPOSITORY[:TAG]]"),
            author: str = typer.Option("", "-a", "--author", help=AUTHOR_HELP),
            change: list[str] = typer.Option([], "-c", "--change", help=CHANGE_HELP),
            message: str = typer.Option("", "-m", "--message", help="Commit message"),
            pause: str = typer.Option("true", "-p", "--pause", is_flag=False, flag_value="true",
                                      help=PAUSE_HELP)) -> None:
        """Create a new image from a container's changes."""
        paused, words = pause_and_words(pause, list(arguments or ()))
        raise typer.Exit(run_commit(words, author, change, message, paused))
