"""``cp`` out of a container: links are copied as they are, nothing is written through one."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from composer.engine.runtime.copy import _host_destination, _unpack


def _stream(members: list[tuple[tarfile.TarInfo, bytes]]) -> int:
    """A pipe's read end holding a tar of ``members`` (small: it fits in the pipe)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, data in members:
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data else None)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, buffer.getvalue())
    os.close(write_fd)
    return read_fd


def _link(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, b""


def test_a_link_to_an_absolute_path_is_copied_as_a_link(tmp_path):
    _unpack(_stream([_link("lnk", "/etc/passwd")]), _host_destination(str(tmp_path)), "lnk")
    assert os.readlink(tmp_path / "lnk") == "/etc/passwd"


def test_nothing_is_written_through_a_link_that_leads_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    into = tmp_path / "into"
    into.mkdir()
    crafted = _stream([_link("d", str(outside)), (tarfile.TarInfo("d/planted"), b"x")])
    with pytest.raises(tarfile.OutsideDestinationError):
        _unpack(crafted, _host_destination(str(into)), "d")
    assert not (outside / "planted").exists()
