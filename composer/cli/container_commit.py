"""``composer container commit``: docker's ``commit`` (a container's changes as a new image).

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

from typing import List, Optional

import typer

TRUE_WORDS = ("1", "t", "T", "TRUE", "true", "True")
FALSE_WORDS = ("0", "f", "F", "FALSE", "false", "False")
PAUSE_HELP = "Pause container during commit (-p=false: do not)."
AUTHOR_HELP = 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'
CHANGE_HELP = "Apply Dockerfile instruction to the created image."


def pause_and_words(pause: str, words: List[Optional[str]]) -> tuple:
    """(pause?, positional words): ``-p``/``--pause`` is a bool flag taking ``=false`` as pflag's;
    a word that is no bool after a bare ``-p`` was the first positional argument (click took it)."""
    value = pause.lstrip("=")
    if value in TRUE_WORDS:
        return True, [w for w in words if w is not None]
    if value in FALSE_WORDS:
        return False, [w for w in words if w is not None]
    return True, [value, *(w for w in words if w is not None)]


def container_commit(container: Optional[str] = typer.Argument(None, metavar="CONTAINER"),
                     repository: Optional[str] = typer.Argument(None, metavar="[REPOSITORY[:TAG]]"),
                     extra: Optional[str] = typer.Argument(None, hidden=True),
                     author: str = typer.Option("", "-a", "--author", help=AUTHOR_HELP),
                     change: List[str] = typer.Option([], "-c", "--change", help=CHANGE_HELP),
                     message: str = typer.Option("", "-m", "--message", help="Commit message"),
                     pause: str = typer.Option("true", "-p", "--pause", is_flag=False, flag_value="true",
                                               help=PAUSE_HELP)) -> None:
    """Create a new image from a container's changes."""
    from composer.engine.images.commit import CommitRequest, commit
    from composer.engine.runtime.containers import resolve
    from composer.engine.images.reference import parse_reference
    from composer.errors import FlagError, ImageError

    paused, words = pause_and_words(pause, [container, repository, extra])
    if not 1 <= len(words) <= 2:
        raise FlagError("'composer container commit' requires at least 1 and at most 2 arguments",
                        hint="Usage:  composer container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]", exit_code=1)
    reference = words[1] if len(words) > 1 else None
    if reference:
        parse_reference(reference)  # the command line's own error (invalid reference format), as docker's
    request = CommitRequest(reference=reference, author=author, comment=message, changes=tuple(change),
                            pause=paused)
    container_id = resolve(words[0])
    try:
        image_id = commit(container_id, request)
    except ImageError as error:  # the daemon's refusal in docker (a bad --change, a missing image)
        typer.echo(f"Error response from daemon: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(image_id)


def register(container: typer.Typer) -> None:
    """Add ``commit`` to the ``container`` group."""
    from composer.cli.render import daemon_errors, docker_command_class

    container.command("commit", cls=docker_command_class())(daemon_errors(container_commit))
