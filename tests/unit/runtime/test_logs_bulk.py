"""The json-file writer's bulk path (plain ASCII output encoded with C-speed replaces) writes
exactly what the per-line path writes."""

from __future__ import annotations

import json
import random

import pytest

from composer.engine.runtime import logs

SAMPLES = [b'plain line\nsecond "quoted" \\back\ttab\r\n', b"x" * 100 + b"\n", b"caf\xc3\xa9\n", b"bell\x07\n",
           b"partial", b" end\n\n", b"y" * 20000 + b"\nz\n", b"q" * 17000, b"w\n", b"\xff\xfe bad utf-8\n"]


def _records(path) -> list[tuple[str, str]]:
    return [(json.loads(line)["log"], json.loads(line)["stream"]) for line in path.read_text().splitlines()]


def test_bulk_and_per_line_paths_write_the_same_records(tmp_path, monkeypatch):
    written = []
    for name, plain in (("bulk", logs._plain), ("lines", lambda data: False)):
        monkeypatch.setattr(logs, "_plain", plain)
        writer = logs.LogWriter(str(tmp_path / name))
        for index, sample in enumerate(SAMPLES):
            writer.feed("stderr" if index % 3 == 2 else "stdout", sample)
        writer.close()
        written.append(_records(tmp_path / name))
    assert written[0] == written[1]
    assert any(len(text) == logs.MAX_LINE for text, _ in written[0])  # long lines split at 16 KiB, as docker


def test_plain_means_ascii_without_other_control_characters():
    assert logs._plain(b'text "with" \\ \t\r\n')
    assert not logs._plain(b"\x1b[31mred\n")
    assert not logs._plain("é\n".encode())


@pytest.mark.parametrize("seed", range(5))
def test_short_lines_agrees_with_the_longest_line(seed):
    rng = random.Random(seed)
    for _ in range(300):
        lengths = [rng.choice([rng.randint(0, 200), rng.randint(16000, 16800), rng.randint(0, 40000)])
                   for _ in range(rng.randint(1, 4))]
        body = b"\n".join(b"a" * length for length in lengths)
        assert logs._short_lines(body) == (max(lengths) < logs.MAX_LINE), lengths
