"""``image pull`` and ``image push`` (docker's flags, lines and errors), with the progress display
they share, and ``pull``'s typer-free fast path."""

from __future__ import annotations

import sys

from composer.cli.images import _echo, _store
from composer.cli.run_flags import _flags, parse_verb
from composer.errors import ImageError, UsageError
from composer.units import human_size

TYPE_CHECKING = False  # typing is not imported on the `image pull` fast path
if TYPE_CHECKING:
    from typing import Any

    import typer


def register_transfer(image: typer.Typer) -> None:
    """Add ``pull`` and ``push`` to the ``image`` group."""
    import typer

    @image.command("pull")
    def pull(reference: str = typer.Argument(..., metavar="NAME[:TAG|@DIGEST]"),
             platform: str | None = typer.Option(None, "--platform", help="os/arch[/variant]"),
             quiet: bool = typer.Option(False, "-q", "--quiet", help="Suppress verbose output."),
             all_tags: bool = typer.Option(False, "-a", "--all-tags",
                                           help="Download all tagged images in the repository."),
             _trust: bool = typer.Option(True, "--disable-content-trust", help=TRUST_HELP)) -> None:
        """Download an image from a registry."""
        if all_tags:
            run_pull_all(reference, platform, quiet)
        else:
            run_pull(reference, platform, quiet)

    @image.command("push")
    def push(reference: str = typer.Argument(..., metavar="NAME[:TAG]"),
             quiet: bool = typer.Option(False, "-q", "--quiet", help="Suppress verbose output."),
             all_tags: bool = typer.Option(False, "-a", "--all-tags",
                                           help="Push all tags of an image to the repository."),
             _trust: bool = typer.Option(True, "--disable-content-trust", help=TRUST_HELP)) -> None:
        """Upload an image to a registry."""
        names = local_tags(reference) if all_tags else [reference]
        for index, name in enumerate(names):
            run_push(name, quiet, announced=index > 0)


def local_tags(repository: str) -> list[str]:
    """``push --all-tags``: the local NAME:TAG names of ``repository`` (no tag allowed), sorted."""
    from composer.engine.images.reference import parse_reference

    parsed = parse_reference(repository, default_tag=False)
    if parsed.tag or parsed.digest:
        raise UsageError("tag can't be used with --all-tags/-a")
    prefix = parsed.repository + ":"
    names = sorted(name for name in _store().read_db()["refs"] if name.startswith(prefix))
    if not names:
        raise ImageError(f"An image does not exist locally with the tag: {parsed.familiar_repository}")
    return names


def run_push(reference: str, quiet: bool, announced: bool = False) -> None:
    """Push one tag with docker's lines (``announced``: the repository line was printed already)."""
    from composer.engine.images.push import push as push_image

    progress = Progress(quiet=quiet)
    shown = progress if not announced else \
        (lambda event: None if event.status.startswith("The push refers") else progress(event))
    result = push_image(reference, on_event=shown)
    progress.close()
    tag = result.name.rsplit(":", 1)[-1]
    _echo(result.name if quiet else f"{tag}: digest: {result.digest} size: {result.size}")


TRUST_HELP = "Skip image verification (default true: composer signs and verifies nothing)."


def run_pull(reference: str, platform: str | None, quiet: bool) -> None:
    """Pull with progress, then docker's closing lines (Digest, Status, the full name)."""
    from composer.engine.images.pull import pull as pull_image

    progress = Progress(quiet=quiet)
    result = pull_image(reference, platform=platform, on_event=progress)
    progress.close()
    _print_pulled(reference, result.name, result.digest, result.updated, quiet)


def run_pull_all(repository: str, platform: str | None, quiet: bool) -> None:
    """``pull --all-tags``: every tag of the repository, each with its Pulling/Digest lines, then
    one Status line and the repository's full name, as docker prints them."""
    from composer.engine.images.pull import pull as pull_image
    from composer.engine.images.pull import repository_tags
    from composer.engine.images.reference import parse_reference

    parsed = parse_reference(repository, default_tag=False)
    if parsed.tag or parsed.digest:
        raise UsageError("tag can't be used with --all-tags/-a")
    updated = False
    for tag in repository_tags(repository):
        progress = Progress(quiet=quiet)
        result = pull_image(f"{repository}:{tag}", platform=platform, on_event=progress)
        progress.close()
        updated = updated or result.updated
        if not quiet:
            if not result.updated:  # the full pull printed this line itself
                _echo(f"{tag}: Pulling from {parsed.path}")
            _echo(f"Digest: {result.digest}")
    if not quiet:
        _echo(f"Status: {'Downloaded newer image' if updated else 'Image is up to date'} for "
              f"{parsed.familiar_repository}")
    _echo(parsed.repository)


def _print_pulled(reference: str, name: str, digest: str, updated: bool, quiet: bool) -> None:
    """docker's closing lines of a pull: Digest, Status, then the full name."""
    from composer.engine.images.reference import parse_reference

    if not quiet:
        if not updated:  # the full pull printed this line itself
            parsed = parse_reference(name)
            _echo(f"{parsed.tag or parsed.digest}: Pulling from {parsed.path}")
        _echo(f"Digest: {digest}")
        state = "Downloaded newer image" if updated else "Image is up to date"
        _echo(f"Status: {state} for {parse_reference(reference).familiar()}")
    _echo(name)


PULL_FLAGS: dict[str, tuple[str, str]] = {}
_flags("bool", "-q|--quiet", "-a|--all-tags", "--disable-content-trust", table=PULL_FLAGS)
_flags("value", "--platform", table=PULL_FLAGS)


def fast_pull(argv: list[str]) -> int | None:
    """``image pull`` without typer (a FAST_PATH); None hands ``--help`` to typer."""
    parsed = parse_verb(argv, PULL_FLAGS, "image pull")
    if parsed is None:
        return None
    options, (reference,) = parsed
    platform, quiet = options.get("platform"), bool(options.get("quiet"))
    if options.get("all_tags"):
        run_pull_all(reference, platform, quiet)
        return 0
    if platform is None:
        from composer.engine.images.warm import warm_pull

        warm = warm_pull(reference)
        if warm is not None:
            _print_pulled(reference, warm[1], warm[2], updated=False, quiet=quiet)
            return 0
    run_pull(reference, platform, quiet)
    return 0


class Progress:
    """Renders pull/push events: redrawn per-layer bars on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        import threading

        self.quiet = quiet
        self.tty = sys.stdout.isatty()
        self.lines: dict[str, str] = {}
        self.drawn = 0
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        if self.quiet:
            return
        with self._lock:
            if not event.id or event.status.startswith(("Pulling from", "The push refers")):
                self._plain(f"{event.id}: {event.status}" if event.id and "Pulling" in event.status else event.status)
                return
            text = f"{event.id}: {event.status}"
            if event.total and event.status in ("Downloading", "Pushing", "Extracting"):
                if not self.tty:  # docker prints no progress lines off a terminal
                    return
                text += " " + _bar(event.current, event.total)
            if self.tty:
                self.lines[event.id] = text
                self._redraw()
            elif self.lines.get(event.id) != text:
                self.lines[event.id] = text
                _echo(text)

    def _plain(self, text: str) -> None:
        if self.tty and self.drawn:
            self.lines.clear()
            self.drawn = 0
        _echo(text)

    def _redraw(self) -> None:
        out = sys.stdout
        if self.drawn:
            out.write(f"\x1b[{self.drawn}A")
        for line in self.lines.values():
            out.write(f"\x1b[2K{line}\n")
        self.drawn = len(self.lines)
        out.flush()

    def close(self) -> None:
        sys.stdout.flush()


def _bar(current: int, total: int) -> str:
    filled = min(50, int(50 * current / total)) if total else 0
    arrow = ">" if filled < 50 else ""
    return f"[{'=' * filled}{arrow}{' ' * (50 - filled - len(arrow))}]  {human_size(current)}/{human_size(total)}"
