"""Layer blobs gzip-compressed by several threads: valid gzip, the same bytes whatever the threads."""

from __future__ import annotations

import gzip
import hashlib
import io
import random

import pytest

from composer.engine.build.compress import BLOCK, GzipSink


def compress(data: bytes, workers: int, piece: int = 70_000) -> tuple[bytes, str]:
    out = io.BytesIO()
    sink = GzipSink(out, workers)
    for start in range(0, len(data), piece):
        sink.write(data[start:start + piece])
    diff_id = sink.close()
    return out.getvalue(), diff_id


@pytest.mark.parametrize("size", [0, 10, BLOCK, 3 * BLOCK + 12345])
def test_parallel_gzip_is_valid_and_deterministic(size: int) -> None:
    rng = random.Random(size)
    words = [bytes(rng.choice(b"abcdefgh") for _ in range(8)) for _ in range(500)]
    data = b" ".join(rng.choice(words) for _ in range(size // 9 + 1))[:size]
    results = {workers: compress(data, workers) for workers in (1, 2, 4)}
    blobs = {blob for blob, _ in results.values()}
    assert len(blobs) == 1  # thread timing never changes the bytes (nor the blob digest)
    blob, diff_id = results[1]
    assert gzip.decompress(blob) == data and diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    if size > BLOCK:
        assert len(blob) < len(data) / 2  # blocks still see the previous block's window


def test_abort_stops_the_threads() -> None:
    sink = GzipSink(io.BytesIO(), 2)
    sink.write(b"x" * (3 * BLOCK))
    sink.abort()
    assert sink._pool is None
