"""``composer watch`` and the watcher behind ``composer up --watch`` (presentation only).

``watch`` builds and starts the services (unless ``--no-up``), syncs the ``initial_sync`` rules,
then follows ``develop.watch``: one line on stdout per action, in Docker Compose 2.40's words, a
failed action as Compose's warning on stderr. Ctrl-C stops watching (exit 130, nothing printed) and
leaves the containers running (as Docker Compose). ``up --watch`` prints the watcher's lines among
the logs with Compose's ``        ⦿ `` prefix.
"""

import sys
import threading
from typing import Any, Callable, List, Optional

from composer.errors import UsageError

ENABLE_WAIT_S = 5.0  # at most this long for the watches to be in place before ``up --watch`` attaches
WATCH_SOURCE = "#watch"  # Compose's name of the watcher's lines (api.WatchLogger): counts in the prefixes' width
WATCH_COLOR = "92"  # bright green, as Compose's


def _say(line: str) -> None:
    print(line, flush=True)


def _warn(text: str) -> None:
    from composer.cli.progress import warning_line

    print(warning_line(text, sys.stderr), file=sys.stderr, flush=True)


def attached_say(printer: Any) -> Callable[[str], None]:
    """``up --watch``: a watcher's line among the logs of ``printer`` (a LogPrinter), as Compose
    prints it: a blank prefix one wider than the containers' names (and ``#watch``), then ``⦿``."""
    def say(text: str) -> None:
        prefix = ""
        if printer.prefix:
            prefix = " " * (max(printer.width, len(WATCH_SOURCE)) + 1) + " ⦿ "
            if printer.color:
                prefix = f"\x1b[{WATCH_COLOR}m{prefix}\x1b[0m"
        printer.say(prefix + text)

    return say


def _watcher(project: Any, services: tuple[str, ...], prune: bool = True, say: Callable[[str], None] = _say,
             starting: bool = False) -> Any:
    """The Watcher of ``services``' rules (``starting``: the watch begins, its warnings said)."""
    from composer.cli import compose as C
    from composer.engine.watch.rules import rules_for, split_bind_mounted
    from composer.engine.watch.runner import Watcher

    rules, left_out = split_bind_mounted(project, rules_for(project, services))
    for rule in left_out if starting else ():  # Compose's warning (its newline too: logrus keeps it)
        _warn(f"path '{rule.path}' also declared by a bind mount volume, this path won't be monitored!\n")
    if not rules:
        raise UsageError("none of the selected services is configured for watch, consider setting a 'develop' section",
                         hint="develop.watch: rules of path, action, target")
    return Watcher(project, C.engine(None, project), rules, say, prune=prune, warn=_warn)


def start_watch(project: Any, services: tuple[str, ...] = (), *, foreground: bool = True, prune: bool = True,
                say: Callable[[str], None] = _say) -> Optional[Callable[[], None]]:
    """Watch ``project`` (after ``up``): until Ctrl-C in the foreground, else in a thread whose
    stop function is returned once the watcher said "Watch enabled" (before ``up``'s "Attaching
    to", as Compose). ``prune``: remove the images rebuilds leave dangling."""
    watcher = _watcher(project, services, prune, say, starting=True)
    watcher.roots()  # a missing path is an error now, not in the thread
    watcher.initial_sync()
    stop = threading.Event()
    if foreground:
        watcher.run(stop)
        return None
    thread = threading.Thread(target=watcher.run, args=(stop,), name="watch", daemon=True)
    thread.start()
    watcher.enabled.wait(ENABLE_WAIT_S)

    def stop_watching() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_watching


def register(app: Any) -> None:
    """Add ``watch`` to ``app``."""
    import typer

    @app.command("watch")
    def watch(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
              no_up: bool = typer.Option(False, "--no-up", help="Do not build & start services before watching."),
              quiet: bool = typer.Option(False, "--quiet", help="Hide build output."),
              prune: bool = typer.Option(True, "--prune/--no-prune", help="Prune dangling images on rebuild.")) -> None:
        """Watch the build context of services and rebuild/refresh containers when files change."""
        from composer.cli import compose as C
        from composer.engine.options import UpOptions

        project = C.load(ctx)
        selected = tuple(services or ())
        _watcher(project, selected).roots()  # bad rules fail before anything starts
        if not no_up:
            with C.progress_for(ctx) as progress:
                engine = C.engine(progress, project)
                if quiet:
                    engine.builder = C.builder_for(project, emit=lambda line: None)  # build output hidden
                engine.up(project, UpOptions(services=selected, parallel=C.parallel(ctx)))
        try:
            start_watch(project, selected, foreground=True, prune=prune)
        except KeyboardInterrupt:  # Compose's watch ends with 130 and says nothing
            raise typer.Exit(130) from None
