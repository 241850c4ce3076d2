"""Drawing the engine's progress events as Compose does: live lines on a TTY, plain lines, JSON.

``--progress tty`` keeps one line per object (``✔ Container app-web-1  Started   0.3s``) under a
``[+] Running 3/3`` header, redrawn by rich; ``plain`` prints each event as it comes; ``json``
prints one JSON object per event; ``quiet`` prints nothing. ``auto`` is tty when stderr is a
terminal. Everything goes to stderr (stdout stays for what a command prints), and ``event`` may
be called from any thread.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any

from composer.engine.events import Event, Status
from composer.errors import UsageError

MODES = ("auto", "tty", "plain", "json", "quiet")
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def choose_mode(requested: str | None, ansi: str = "auto", stream: IO[str] | None = None) -> str:
    """The effective mode for ``--progress`` and ``--ansi`` (auto: tty on a terminal, else plain)."""
    mode = requested or "auto"
    if mode not in MODES:
        raise UsageError(f"unsupported --progress {mode!r}", hint="use auto, tty, plain, json or quiet")
    if mode != "auto":
        return mode
    stream = stream or sys.stderr
    if ansi == "never":
        return "plain"
    return "tty" if ansi == "always" or stream.isatty() else "plain"


class Line:
    """One object's line in the live display."""

    __slots__ = ("event", "started")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.started = time.monotonic()

    def render(self, tick: int, width: int) -> str:
        """`` ✔ Container app-web-1  Started   0.3s`` (a spinner and the running time while busy)."""
        event = self.event
        if event.failed:
            mark = "✘"
        elif event.status is Status.WARNING:
            mark = "!"
        elif event.done:
            mark = "✔"
        else:
            mark = _SPINNER[tick % len(_SPINNER)]
        if not event.kind:  # a pull's line (a layer's under its service's)
            text, details = untyped_words(event)
            left = f"{'  ' if event.parent else ''} {mark} {event.name}".ljust(width) + f" {text} {details}".rstrip()
        else:
            left = f" {mark} {event.kind} {event.name}".ljust(width) + f" {_status_word(event)}"
            if event.text and not _is_in_use(event):
                left += f" {event.text}"
        seconds = event.duration if event.done and event.duration is not None else time.monotonic() - self.started
        return f"{left:<{width + 14}} {seconds:5.1f}s"


IN_USE = "Resource is still in use"


def _in_use(text: str) -> tuple[str, str] | None:
    """(kind, name) of down's ``Network x: Resource is still in use`` warning, else None."""
    subject, _, rest = text.partition(": ")
    kind, _, name = subject.partition(" ")
    return (kind, name) if rest == IN_USE and kind in ("Network", "Volume") and name else None


def untyped_words(event: Event) -> tuple[str, str]:
    """Compose's Text and Details of a line with no type word (its pulls): ``Pulling``; a
    layer's docker status and progress; ``Skipped - <why>``; ``Error`` and the message."""
    if event.parent:
        return event.text, event.details
    if event.status is Status.SKIPPED:
        return f"Skipped - {event.text}", ""
    if event.failed:
        return "Error", event.text
    return event.status.value, ""


def _status_word(event: Event) -> str:
    """The word after the object: its status, or down's in-use warning (Compose's StatusText)."""
    return IN_USE if _is_in_use(event) else event.status.value


def _is_in_use(event: Event) -> bool:
    return event.status is Status.WARNING and event.text == IN_USE


def warning_line(text: str, stream: IO[str]) -> str:
    """A warning as Compose's logger (logrus) writes it: ``WARN[0000] text`` to a terminal,
    ``time="2026-11-23T23:18:56Z" level=warning msg="text"`` otherwise."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if terminal:
        return f"WARN[0000] {text}"
    import datetime

    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
    return f'time="{stamp}" level=warning msg={json.dumps(text, ensure_ascii=False)}'


class Progress:
    """An event sink for ``ProjectService(emit=progress.event)``; use it as a context manager."""

    def __init__(self, mode: str = "plain", stream: IO[str] | None = None, title: str = "Running") -> None:
        self.mode = mode
        self.stream = stream or sys.stderr
        self.title = title
        self.lines: dict[str, Line] = {}
        self.warnings: list[str] = []
        self.in_use: list[tuple[str, str]] = []  # (kind, name) down kept: a container still uses it
        self.started: dict[str, Status] = {}  # each container's last status (outside the live display)
        self._lock = threading.Lock()
        self._live: Any = None
        self._tick = 0
        self.prefix = ""  # --dry-run: compose's " DRY-RUN MODE - " before each line (shown plain)

    # --- the sink ----------------------------------------------------------------------------------
    def event(self, event: Event) -> None:
        """Record and show one event (never raises: the executor's thread calls it)."""
        try:
            with self._lock:
                self._handle(event)
        except Exception:  # a broken terminal must not break the command
            pass

    def _handle(self, event: Event) -> None:
        if event.status is Status.WARNING and event.kind == "Project":
            self.warnings.append(event.text)
            in_use = _in_use(event.text)
            if in_use is not None and self.mode in ("plain", "tty"):
                self.in_use.append(in_use)  # Compose's two lines once its removal was tried: at the end
                return
            if self.mode in ("plain", "tty"):
                self.stream.write(warning_line(event.text, self.stream) + "\n")
        if event.failed and event.kind == "Service" and self.mode != "json":
            return  # up --wait: Compose shows a failed wait only as the command's error
        if self._refused_start(event):
            return
        if self.mode == "json":
            record = {"dry-run": True, **event.to_dict()} if self.prefix else event.to_dict()  # as compose's
            self.stream.write(json.dumps(record) + "\n")
        elif (self.mode == "plain" or self.mode == "tty" and self.prefix) and event.kind != "Project":
            self.stream.write(self.prefix + self._plain(event) + "\n")
        elif self.mode == "tty" and event.kind != "Project":
            key = f"{event.kind} {event.parent} {event.name}"
            line = self.lines.get(key)
            if line is None or line.event.done or line.event.failed:
                self.lines[key] = Line(event)
            else:
                line.event = event
            if self._live is not None:
                self._live.update(self._renderable(), refresh=False)
        self.stream.flush()

    def _refused_start(self, event: Event) -> bool:
        """A failed start (or restart) of a container outside the live display: Compose leaves its
        ``Starting`` line as it is and says the error once, as the command's (its startService sends
        no error event). The live display ends the line with the error (else it spins on)."""
        if self.mode == "tty" and not self.prefix or event.kind != "Container":
            return False
        before = self.started.get(event.name)
        self.started[event.name] = event.status
        return event.failed and before in (Status.STARTING, Status.RESTARTING)

    @staticmethod
    def _plain(event: Event) -> str:
        """`` Container x  Started``: compose's plain writer prints no duration; ``cp`` names the copy
        (`` proj-web-1 copy a.txt to proj-web-1:/tmp/a.txt Copying``)."""
        if event.status in (Status.COPYING, Status.COPIED):
            return f" {event.name} copy {event.text} {event.status.value}"
        if not event.kind:  # Compose's fmt.Println("", ID, Text, Details): a space before an empty Details
            text, details = untyped_words(event)
            return f" {event.name} {text} {details}"
        text = f" {event.kind} {event.name}  {_status_word(event)}"
        if event.text and not _is_in_use(event):
            text += f" {event.text}"
        return text

    def confirm(self, message: str) -> bool:
        """Ask ``message`` (default no) with the live display paused: see :func:`ask`. (Not under
        ``_lock``: stopping the display waits for its refresh thread, which takes that lock.)"""
        live, self._live = self._live, None
        if live is not None:
            live.stop()
        try:
            return ask(message)
        finally:
            if live is not None:
                live.start()
                self._live = live

    # --- the live display --------------------------------------------------------------------------
    def text(self) -> str:
        """The live display's text now: the ``[+] Running 2/3`` header and one line per object."""
        self._tick += 1
        lines = list(self.lines.values())
        done = sum(1 for line in lines if line.event.done)
        width = max((len(f" x {line.event.kind} {line.event.name}") for line in lines), default=0) + 1
        header = f"[+] {self.title} {done}/{len(lines)}"
        body = "\n".join(line.render(self._tick, width) for line in lines)
        return header + ("\n" + body if body else "")

    def _renderable(self) -> Any:
        from rich.text import Text

        return Text(self.text())

    def show(self, events: list[Event]) -> None:
        """Show finished ``events`` at once, as the live display would end (no rich needed)."""
        for event in events:
            self.event(event)
        if self.mode == "tty" and self.lines:
            self.stream.write(self.text() + "\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        if self.mode == "tty" and not self.prefix:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream, force_terminal=True)
            self._live = Live(self._renderable(), console=console, refresh_per_second=8,
                              get_renderable=self._refresh_renderable, transient=False)
            self._live.start()
        return self

    def _refresh_renderable(self) -> Any:
        with self._lock:
            return self._renderable()

    def __exit__(self, *exc: object) -> None:
        kept, self.in_use = self.in_use, []
        for kind, name in kept:
            self.event(Event(kind=kind, name=name, status=Status.REMOVING))
            self.event(Event(kind=kind, name=name, status=Status.WARNING, text=IN_USE))
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()


def ask(message: str, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> bool:
    """A yes/no question as Compose asks it (default no). On a terminal: ``? message (y/N)``, y or
    yes accepts; otherwise the message (no newline after it, as Compose), then one line read from
    stdin whose first word accepts when it is y, 1, t or true (``StringToBool``; end of input declines)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    terminal = stdin is not None and stdin.isatty()
    stdout.write(f"? {message} (y/N) " if terminal else message)
    stdout.flush()
    try:
        words = (stdin.readline() if stdin is not None else "").split()
    except (OSError, ValueError):
        words = []
    answer = words[0].lower() if words else ""
    return answer in (("y", "yes") if terminal else ("y", "1", "t", "true"))
