"""The attach protocol's pure parts: frames, detach keys, the detach-sequence scanner."""

from __future__ import annotations

import pytest

from composer.engine.runtime.attach import STDIN, STDOUT, DetachScanner, FrameReader, frame, parse_detach_keys
from composer.errors import ContainerStateError, UsageError


def test_frames_split_across_reads():
    data = frame(STDOUT, b"hello") + frame(STDIN, b"") + frame(STDOUT, b"x" * 70000)
    reader = FrameReader()
    frames = []
    for start in range(0, len(data), 7):
        frames += reader.feed(data[start:start + 7])
    assert frames == [(STDOUT, b"hello"), (STDIN, b""), (STDOUT, b"x" * 70000)]
    assert not reader.buffer


@pytest.mark.parametrize("spec, keys", [
    ("ctrl-p,ctrl-q", b"\x10\x11"), ("ctrl-@", b"\x00"), ("ctrl-[,a", b"\x1ba"), ("CTRL-X, b", b"\x18b"),
    ("ctrl-_", b"\x1f"),
])
def test_detach_keys_as_docker_reads_them(spec, keys):
    assert parse_detach_keys(spec) == keys


@pytest.mark.parametrize("spec", ["", "ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q"])
def test_bad_detach_keys_are_refused(spec):
    with pytest.raises(UsageError, match="invalid detach keys"):
        parse_detach_keys(spec)


def test_scanner_passes_everything_but_the_sequence():
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"ab\x10c") == (b"ab\x10c", False)  # a lone ctrl-p goes through
    assert scanner.feed(b"x\x10") == (b"x", False)  # held: it may start the sequence
    assert scanner.feed(b"\x10") == (b"\x10", False)  # a second ctrl-p: the first goes, the new one waits
    assert scanner.feed(b"\x11rest") == (b"", True)


def test_scanner_across_reads_with_a_longer_sequence():
    scanner = DetachScanner(b"\x18ab")
    assert scanner.feed(b"\x18a") == (b"", False)
    assert scanner.feed(b"c") == (b"\x18ac", False)
    assert scanner.feed(b"\x18") == (b"", False)
    assert scanner.feed(b"ab") == (b"", True)


def _frames_from(connection, count: int) -> list[tuple[int, bytes]]:
    reader, frames = FrameReader(), []
    while len(frames) < count:
        frames += reader.feed(connection.recv(65536))
    return frames


def test_hub_replays_relays_input_and_closes_stdin(tmp_path):
    import os

    from composer.engine.runtime.attach import CLOSE_STDIN, AttachHub, connect

    hub = AttachHub(str(tmp_path))
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        hub.new_life(write_end, tty=False)
        hub.output(STDOUT, b"before anyone came\n")
        with connect(str(tmp_path)) as client:
            server_side = hub.accept()
            assert _frames_from(client, 1) == [(STDOUT, b"before anyone came\n")]  # the replay
            hub.output(STDOUT, b"live\n")
            assert _frames_from(client, 1) == [(STDOUT, b"live\n")]
            client.sendall(frame(STDIN, b"typed\n") + frame(CLOSE_STDIN))
            while hub.input_fd >= 0:
                assert hub.receive(server_side)
            assert os.read(read_end, 100) == b"typed\n"
            assert os.read(read_end, 100) == b""  # stdin closed: the container sees EOF
        hub.close(str(tmp_path))
        assert not (tmp_path / "attach.sock").exists()
        with pytest.raises(ContainerStateError, match="start it first"):
            connect(str(tmp_path))
    finally:
        os.close(read_end)
