"""Reading a json-file log back: filters (streams, since/until, tail) and ``--follow``.

Timestamps are compared as strings: every record's ``time`` has the same fixed-width RFC 3339
form, so string order is time order. Following reads the current file from where it got to,
waits on inotify for more, reopens it after a rotation, and ends once the container has stopped
and everything it wrote has been read.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Callable, Iterator

from composer.engine.runtime.logs import LogLine, parse_line, read_records, timestamp
from composer.engine.runtime.state import ContainerDir
from composer.engine.runtime.watch import DirWatch


def iter_logs(cdir: ContainerDir, path: str, *, streams: set[str], follow: bool, tail: int | None,
              since: float | None, until: float | None, running: Callable[[], bool]) -> Iterator[LogLine]:
    """The selected lines, then (``follow``) new ones until the container stops."""
    low = timestamp(since) if since else ""
    high = timestamp(until) if until else ""

    def wanted(line: LogLine) -> bool:
        return line.stream in streams and line.time >= low and (not high or line.time <= high)

    watch = DirWatch(cdir.path) if follow else None
    try:
        size = _size(path)
        position = (size, _inode(path))
        old = (line for line in read_records(path, size if follow else -1) if wanted(line))
        if tail is not None and tail >= 0:
            old = iter(deque(old, maxlen=tail)) if tail else iter(())
        yield from old
        if watch is not None and not (high and high < timestamp()):
            yield from _follow(path, position, watch, wanted, running)
    finally:
        if watch is not None:
            watch.close()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _inode(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return 0


def _follow(path: str, position: tuple[int, int], watch: DirWatch, wanted, running) -> Iterator[LogLine]:
    offset, inode = position
    pending = b""
    while True:
        alive = running()
        if _inode(path) != inode:  # rotated: the new file from its start
            offset, inode, pending = 0, _inode(path), b""
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            data = b""
        offset += len(data)
        *complete, pending = (pending + data).split(b"\n")
        for raw in complete:
            line = parse_line(raw)
            if line is not None and wanted(line):
                yield line
        if not alive and not data:
            return
        if not data:
            watch.wait(0.5)
