"""gzip for layer blobs, compressed by several threads at once (the way pigz does it).

The tar stream is cut into fixed blocks; each block is deflated on its own (zlib releases the
GIL) with the previous block's last 32 KiB as its dictionary and ends with a sync flush, so the
raw deflate outputs simply concatenate into one stream; one gzip header and a trailer with the
CRC-32 and length of the whole input wrap it. The bytes depend only on the input, the block size
and the level, never on thread timing, so the same layer always gets the same blob digest.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

BLOCK = 1 << 20
WINDOW = 1 << 15
#: zlib level 1: measured here 2-3x faster than the default 6 for ~20% bigger blobs.
LEVEL = 1
#: a gzip member header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown.
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _deflate(block: bytes, dictionary: bytes, last: bool) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=dictionary) if dictionary \
        else zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(block) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class GzipSink:
    """A write-only stream: hashes the tar bytes (the diff id) and writes them gzip-compressed to ``out``."""

    def __init__(self, out: BinaryIO, workers: int | None = None) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0
        self._crc = 0
        self._buffer = bytearray()
        self._tail = b""
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="gzip") if self._workers > 1 else None
        self._pending: deque[Future[bytes]] = deque()
        out.write(HEADER)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self._crc = zlib.crc32(data, self._crc)
        self.size += len(data)
        self._buffer += data
        while len(self._buffer) >= BLOCK:
            block = bytes(self._buffer[:BLOCK])
            del self._buffer[:BLOCK]
            self._submit(block, last=False)
        return len(data)

    def _submit(self, block: bytes, *, last: bool) -> None:
        dictionary, self._tail = self._tail, block[-WINDOW:]
        if self._pool is None or (last and not self._pending):  # a small layer: no thread needed
            self.out.write(_deflate(block, dictionary, last))
            return
        self._pending.append(self._pool.submit(_deflate, block, dictionary, last))
        while len(self._pending) > 2 * self._workers or (last and self._pending):
            self.out.write(self._pending.popleft().result())

    def close(self) -> str:
        """Compress what is left and write the trailer; returns the diff id (sha256 of the tar)."""
        try:
            self._submit(bytes(self._buffer), last=True)
            self.out.write(self._crc.to_bytes(4, "little") + (self.size & 0xFFFFFFFF).to_bytes(4, "little"))
        finally:
            self.abort()
        return "sha256:" + self.hash.hexdigest()

    def abort(self) -> None:
        """Stop the worker threads (pending blocks are dropped)."""
        if self._pool is not None:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
            self._pool.shutdown(wait=True)
            self._pool = None
