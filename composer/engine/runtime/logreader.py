"""Reading a json-file log back: filters (streams, since/until, tail) and ``--follow``.

Timestamps are compared as strings: every record's ``time`` has the same fixed-width RFC 3339
form, so string order is time order. Following reads the current file from where it got to,
waits on inotify for more, reopens it after a rotation, and ends once the container has stopped
and everything it wrote has been read.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

from composer.engine.runtime.logs import log_files, read_parsed, timestamp
from composer.engine.runtime.state import ContainerDir
from composer.engine.runtime.watch import DirWatch


Raw = tuple  # (stream: str, time: str, text: bytes)
STREAM_MARK = b',"stream":"'


def parse_raw(raw: bytes) -> Raw | None:
    """One record as we write it, without a JSON parse when the text has no escapes (the usual case)."""
    import json

    cut = raw.rfind(STREAM_MARK)
    if not raw.startswith(b'{"log":"') or cut < 0:
        return None
    stream = raw[cut + 11:cut + 17].decode()
    stamp = raw[cut + 27:].rstrip(b"\n").removesuffix(b'"}').decode()
    text = raw[8:cut - 1]
    if b"\\" in text:
        if text.endswith(b"\\n") and b"\\" not in text[:-2]:
            text = text[:-2] + b"\n"
        else:
            try:
                text = json.loads(raw[7:cut]).encode("utf-8", "surrogateescape")
            except ValueError:
                return None
    return stream, stamp, text


def read_raw(path: str, limit: int = -1) -> Iterator[Raw]:
    """Every record of the log files, oldest first (the current file up to ``limit`` bytes)."""
    return read_parsed(path, parse_raw, limit)


def tail_raw(path: str, count: int, wanted: Callable[[Raw], bool], limit: int = -1) -> list[Raw]:
    """The last ``count`` wanted records, oldest first, read backwards from the end (``logs
    --tail N`` of a large log reads only its end); the current file up to ``limit`` bytes."""
    found: list[Raw] = []
    for name in reversed(log_files(path)):
        for raw in lines_backwards(name, limit if name == path else -1):
            record = parse_raw(raw)
            if record is not None and wanted(record):
                found.append(record)
                if len(found) == count:
                    return found[::-1]
    return found[::-1]


def lines_backwards(name: str, limit: int = -1, block: int = 1 << 16) -> Iterator[bytes]:
    """The non-empty lines of a file, last first (of its first ``limit`` bytes; -1: all)."""
    try:
        handle = open(name, "rb")
    except FileNotFoundError:
        return
    with handle:
        end = os.fstat(handle.fileno()).st_size if limit < 0 else limit
        head = b""  # the start of a line whose beginning is in the block before
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            lines = (handle.read(end - start) + head).split(b"\n")
            head = lines.pop(0) if start else b""
            end = start
            yield from (line for line in reversed(lines) if line)


def iter_logs(cdir: ContainerDir, path: str, *, streams: set[str], follow: bool, tail: int | None,
              since: float | None, until: float | None, running: Callable[[], bool]) -> Iterator[Raw]:
    """The selected records, then (``follow``) new ones until the container stops."""
    low = timestamp(since) if since else ""
    high = timestamp(until) if until else ""
    every = streams == {"stdout", "stderr"} and not low and not high

    def wanted(line: Raw) -> bool:
        return line[0] in streams and line[1] >= low and (not high or line[1] <= high)

    watch = DirWatch(cdir.path) if follow else None
    try:
        size = _size(path)
        position = (size, _inode(path))
        if tail is not None and tail >= 0:
            old = tail_raw(path, tail, wanted, size if follow else -1) if tail else []
        else:
            old = read_raw(path, size if follow else -1)
            if not every:
                old = (line for line in old if wanted(line))
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


def _follow(path: str, position: tuple[int, int], watch: DirWatch, wanted, running) -> Iterator[Raw]:
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
            line = parse_raw(raw)
            if line is not None and wanted(line):
                yield line
        if not alive and not data:
            return
        if not data:
            watch.wait(0.5)


_JOINT = None


def bulk(path: str) -> Iterator[tuple[str, bytes]]:
    """Every record's text, in 8 MiB batches: ``(stream, bytes)`` (``logs`` without options).

    A run of stdout lines without escapes (the common case) is converted by one regular
    expression pass in C instead of a parse per line; stderr lines and escaped text line by line.
    """
    import re

    global _JOINT
    _JOINT = _JOINT or re.compile(rb'\\n","stream":"stdout","time":"[^"]{1,40}"}\n{"log":"')
    for name in log_files(path):
        try:
            handle = open(name, "rb")
        except FileNotFoundError:
            continue
        with handle:
            while chunk := handle.read(8 << 20):
                chunk += handle.readline()
                yield from _convert(chunk)


def _convert(chunk: bytes) -> Iterator[tuple[str, bytes]]:
    """A chunk's records as (stream, bytes) runs: the stdout runs between stderr lines (found
    with C-speed searches) by the bulk path, the stderr lines one by one."""
    position = 0
    while (found := chunk.find(b'"stream":"stderr"', position)) >= 0:
        start = chunk.rfind(b"\n", 0, found) + 1
        end = chunk.find(b"\n", found) + 1 or len(chunk)
        if start > position:
            yield from _convert_stdout(chunk[position:start])
        yield from _convert_lines(chunk[start:end])
        position = end
    if position < len(chunk):
        yield from _convert_stdout(chunk[position:])


def _convert_stdout(chunk: bytes) -> Iterator[tuple[str, bytes]]:
    """Whole stdout records: one regular expression pass over those whose only escape is their
    "\\n" (a last, partial record, as ``printf x`` leaves, is parsed on its own)."""
    if _plain_records(chunk):
        yield "stdout", _texts(chunk)
        return
    last = chunk.rfind(b"\n", 0, len(chunk) - 1) + 1
    if last and _plain_records(chunk[:last]):
        yield "stdout", _texts(chunk[:last])
        yield from _convert_lines(chunk[last:])
    else:
        yield from _convert_lines(chunk)


def _texts(chunk: bytes) -> bytes:
    """The texts of plain stdout records, joined (C-speed: one substitution)."""
    body = _JOINT.sub(b"\n", chunk[8:])
    return body[:body.rfind(b'\\n","stream":"stdout"')] + b"\n"


def _plain_records(chunk: bytes) -> bool:
    """Whether every record of ``chunk`` is stdout text ending in "\\n" with no other escape."""
    ends = chunk.count(b'\\n","stream":"stdout"')
    return chunk.count(b"\\") == ends and chunk.startswith(b'{"log":"') and chunk.count(b"\n") == ends


def _convert_lines(chunk: bytes) -> Iterator[tuple[str, bytes]]:
    """Records parsed one by one, consecutive ones of a stream joined."""
    pending: list[bytes] = []
    current = "stdout"
    for raw in chunk.splitlines():
        record = parse_raw(raw)
        if record is None:
            continue
        if record[0] != current and pending:
            yield current, b"".join(pending)
            pending = []
        current = record[0]
        pending.append(record[2])
    if pending:
        yield current, b"".join(pending)
