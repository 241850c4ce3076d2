"""Docker's ``json-file`` log driver: the supervisor writes, ``container logs`` reads.

One JSON object per line (``{"log": "text\\n", "stream": "stdout", "time": "RFC 3339 nano"}``) in
``<container dir>/<id>-json.log``, rotated to ``.1``, ``.2`` ... by ``max-size``/``max-file``.
Lines longer than 16 KiB are split, as docker does; a partial last line is written when its
stream closes.
"""

from __future__ import annotations

import os
import time
TYPE_CHECKING = False  # typing stays off the supervisor and `run` paths (~8 ms)
if TYPE_CHECKING:
    from typing import Callable, Iterator, TypeVar

    T = TypeVar("T")

from composer.engine.runtime.record import Record

MAX_LINE = 16 * 1024
try:  # the C escaper (fast on tens of MB/s), without the json package (re, enum: run -d imports this)
    from _json import encode_basestring as _ESCAPE
except ImportError:
    from json.encoder import encode_basestring as _ESCAPE


class LogLine(Record):
    """One line of a container's output."""

    stream: str   # "stdout" or "stderr"
    time: str     # RFC 3339 with nanoseconds, UTC
    text: str     # with its trailing newline, if it had one


def log_path(directory: str, container_id: str) -> str:
    """Where the current log file of a container lives."""
    return os.path.join(directory, f"{container_id}-json.log")


def timestamp(seconds: float | None = None) -> str:
    """RFC 3339 nano (UTC) as docker writes it."""
    seconds = time.time() if seconds is None else seconds
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((seconds - whole) * 1e9):09d}Z"


def parse_size(value: str) -> int:
    """``10m``, ``1g``, ``500k`` -> bytes (docker's log-opt sizes); -1 when empty."""
    text = value.strip().lower().removesuffix("b")
    if not text:
        return -1
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def open_log(config, directory: str):
    """The container's json-file ``LogWriter`` with its ``--log-opt`` rotation; None for
    ``--log-driver none`` (``config``: a ContainerConfig)."""
    if config.log_driver == "none":
        return None
    options = config.log_options
    return LogWriter(log_path(directory, config.id), parse_size(options.get("max-size", "")),
                     int(options.get("max-file", "1") or 1))


class LogWriter:
    """Appends a container's output to its json-file log, rotating by size."""

    def __init__(self, path: str, max_size: int = -1, max_file: int = 1) -> None:
        self.path = path
        self.max_size = max_size
        self.max_file = max(max_file, 1)
        self.pending = {"stdout": b"", "stderr": b""}
        self.handle = open(path, "ab", buffering=0)
        self.size = self.handle.tell()

    def feed(self, stream: str, data: bytes) -> None:
        """Add raw output of ``stream``; complete lines are written at once (one write call)."""
        if self.pending[stream]:
            data = self.pending[stream] + data
        stamp = ',"stream":"' + stream + '","time":"' + timestamp() + '"}\n'
        last = data.rfind(b"\n")
        if self.max_size <= 0 and 0 <= last and len(data) - last <= MAX_LINE and _plain(data):
            body = data[:last]
            if _short_lines(body):
                self.pending[stream] = data[last + 1:]
                self._write(_encode_plain(body, stamp.encode()))
                return
        *lines, rest = data.split(b"\n")
        out = ['{"log":' + _ESCAPE(line.decode("utf-8", "replace") + "\n") + stamp for line in lines
               if len(line) < MAX_LINE]
        if len(out) != len(lines):  # rare: split overlong lines at 16 KiB like docker
            out = [self._record(stream, chunk, stamp) for line in lines for chunk in _split(line + b"\n")]
        while len(rest) >= MAX_LINE:
            out.append(self._record(stream, rest[:MAX_LINE], stamp))
            rest = rest[MAX_LINE:]
        self.pending[stream] = rest
        if self.max_size > 0:  # rotation is decided per record, as docker's
            for record in out:
                self._write(record.encode())
        elif out:
            self._write("".join(out).encode())

    @staticmethod
    def _record(stream: str, chunk: bytes, stamp: str) -> str:
        return '{"log":' + _ESCAPE(chunk.decode("utf-8", "replace")) + stamp

    def flush(self, stream: str) -> None:
        """The stream closed: write its partial last line (without a newline)."""
        rest, self.pending[stream] = self.pending[stream], b""
        if rest:
            stamp = ',"stream":"' + stream + '","time":"' + timestamp() + '"}\n'
            self._write(self._record(stream, rest, stamp).encode())

    def _write(self, data: bytes) -> None:
        if self.max_size > 0 and self.size + len(data) > self.max_size and self.size:
            self._rotate()
        self.handle.write(data)
        self.size += len(data)

    def _rotate(self) -> None:
        self.handle.close()
        if self.max_file == 1:
            os.truncate(self.path, 0)
        else:
            for index in range(self.max_file - 1, 0, -1):
                older = f"{self.path}.{index - 1}" if index > 1 else self.path
                if os.path.exists(older):
                    os.replace(older, f"{self.path}.{index}")
        self.handle = open(self.path, "ab", buffering=0)
        self.size = self.handle.tell()

    def close(self) -> None:
        """Flush partial lines and close the file."""
        for stream in self.pending:
            self.flush(stream)
        self.handle.close()


PIPE_READ = 1 << 20  # a chatty container fills 1 MiB pipes: fewer, bigger reads and log writes


def _widen(fd: int) -> None:
    """A 1 MiB pipe (64 KiB by default), if the system allows it."""
    import fcntl

    try:
        fcntl.fcntl(fd, 1031, PIPE_READ)  # F_SETPIPE_SZ
    except OSError:
        pass


def _pidfd(pid: int) -> int:
    """A descriptor that becomes readable once ``pid`` exits (-1 without one)."""
    try:
        return os.pidfd_open(pid) if pid > 0 else -1
    except OSError:
        return -1


class ShownAndLogged:
    """A foreground ``container run``'s stdout and stderr: pipes that this process copies both to
    its own stdout/stderr and into the json-file log (docker keeps a foreground container's
    output for ``logs``). Made before the container is forked (it inherits the pipes as its 1 and
    2); ``pump(writer)`` gives us our own 1 and 2 back and copies until the container closes both."""

    def __init__(self, streams: set[str] = frozenset({"stdout", "stderr"})) -> None:
        self.writer: LogWriter | None = None
        self.shown = [os.dup(1), os.dup(2)]  # where the output is shown
        # indexes of ``shown`` not shown: not among ``streams`` (run -a), or whose reader went
        self.broken = {index for index, name in enumerate(("stdout", "stderr")) if name not in streams}
        self.sources: dict[int, tuple[str, int]] = {}  # pipe read end -> (stream, index in shown)
        for index, name in enumerate(("stdout", "stderr")):
            read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
            _widen(read_fd)
            os.dup2(write_fd, index + 1)
            os.close(write_fd)
            self.sources[read_fd] = (name, index)
        self.ours = True  # fds 1 and 2 are the pipes

    def show(self, text: str, index: int = 1) -> None:
        """Write ``text`` where stderr (``index`` 1; 0: stdout) is shown, not into the log."""
        try:
            os.write(self.shown[index], text.encode(errors="replace"))
        except OSError:
            pass

    def pump(self, writer: LogWriter | None, pid: int = 0) -> None:
        """After the container's start: copy its output (into ``writer``, if any) until it
        closes both pipes, or until its PID 1 (``pid``) has exited and what it wrote is read (a
        process it left behind, ``--pid host``, may hold the pipes open)."""
        import select

        self._restore()
        self.writer = writer
        poller = select.poll()
        for fd in self.sources:
            poller.register(fd, select.POLLIN)
        ended = _pidfd(pid)
        if ended >= 0:
            poller.register(ended, select.POLLIN)
        open_fds = set(self.sources)
        try:
            while open_fds:
                for fd, _ in poller.poll():
                    if fd == ended:  # what is in the pipes now is all PID 1 wrote
                        for source in open_fds:
                            os.set_blocking(source, False)
                            while self._copy(source):
                                pass
                        return
                    if not self._copy(fd):
                        poller.unregister(fd)
                        open_fds.discard(fd)
        finally:
            if ended >= 0:
                os.close(ended)

    def _copy(self, fd: int) -> bool:
        """One read of a pipe into the log and onto the screen; False at its end (or, once PID 1
        exited, when it is empty)."""
        name, index = self.sources[fd]
        try:
            data = os.read(fd, PIPE_READ)
        except BlockingIOError:
            data = b""
        if data:
            if self.writer is not None:
                self.writer.feed(name, data)
            self._write(index, data)
            return True
        if self.writer is not None:
            self.writer.flush(name)
        return False

    def _write(self, index: int, data: bytes) -> None:
        view = memoryview(data)
        while view and index not in self.broken:
            try:
                view = view[os.write(self.shown[index], view):]
            except OSError:  # the reader went (a closed pipe): the log still gets everything
                self.broken.add(index)

    def _restore(self) -> None:
        if self.ours:
            for index, fd in enumerate(self.shown):
                os.dup2(fd, index + 1)
            self.ours = False

    def close(self) -> None:
        """Our stdout/stderr back (if ``pump`` never ran), everything closed."""
        self._restore()
        for fd in [*self.sources, *self.shown]:
            os.close(fd)
        self.sources, self.shown = {}, []
        if self.writer is not None:
            self.writer.close()


_UNSAFE = bytes(range(0x20)).replace(b"\n", b"").replace(b"\t", b"").replace(b"\r", b"")
_ESCAPES = ((b"\\", b"\\\\"), (b'"', b'\\"'), (b"\t", b"\\t"), (b"\r", b"\\r"))


def _plain(data: bytes) -> bool:
    """ASCII without control characters other than newline, tab and CR: encodable in bulk."""
    return data.isascii() and not data.translate(None, _SAFE)


_SAFE = bytes(byte for byte in range(128) if bytes([byte]) not in _UNSAFE)


def _short_lines(body: bytes) -> bool:
    """No line of ``body`` reaches MAX_LINE. Such a line holds a whole aligned half-size block
    without a newline, so a few ``find`` calls per MiB usually settle it without a split."""
    block = MAX_LINE // 2
    if all(body.find(b"\n", start, start + block) >= 0 for start in range(0, len(body) - block + 1, block)):
        return True
    return max(map(len, body.split(b"\n"))) < MAX_LINE  # long lines, maybe not quite that long


def _encode_plain(body: bytes, stamp: bytes) -> bytes:
    """json-file records of the ``_plain`` lines in ``body`` (newline-separated) with C-speed
    replaces instead of a loop per line, so that a chatty container runs at pipe speed."""
    for char, escaped in _ESCAPES:
        if char in body:
            body = body.replace(char, escaped)
    return b'{"log":"' + body.replace(b"\n", b'\\n"' + stamp + b'{"log":"') + b'\\n"' + stamp


def _split(line: bytes) -> list[bytes]:
    return [line[i:i + MAX_LINE] for i in range(0, len(line), MAX_LINE)] or [b""]


def log_files(path: str) -> list[str]:
    """The rotated files (oldest first), then the current one."""
    rotated = []
    index = 1
    while os.path.exists(f"{path}.{index}"):
        rotated.append(f"{path}.{index}")
        index += 1
    return rotated[::-1] + ([path] if os.path.exists(path) else [])


def parse_line(raw: bytes) -> LogLine | None:
    """One json-file record (None if it is torn or not ours)."""
    import json

    try:
        record = json.loads(raw)
        return LogLine(stream=record["stream"], time=record["time"], text=record["log"])
    except (ValueError, KeyError, TypeError):
        return None


def read_records(path: str, limit: int = -1) -> Iterator[LogLine]:
    """Every record in the log files, oldest first (the current file up to ``limit`` bytes)."""
    return read_parsed(path, parse_line, limit)


def read_parsed(path: str, parse: Callable[[bytes], T | None], limit: int = -1) -> Iterator[T]:
    """Every line of the log files that ``parse`` makes a record of (None: skipped), oldest first
    (the current file up to ``limit`` bytes); a file rotated away meanwhile is skipped."""
    for name in log_files(path):
        try:
            with open(name, "rb", buffering=1 << 20) as handle:
                lines = handle.read(limit).splitlines() if name == path and limit >= 0 else handle
                for raw in lines:
                    record = parse(raw)
                    if record is not None:
                        yield record
        except FileNotFoundError:
            continue
