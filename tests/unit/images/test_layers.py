"""Layer extraction: exact metadata, overlay whiteouts, and crafted layers that must not escape."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
import zstandard

from composer.engine.images.layers import OPAQUE_XATTR, extract_layer
from composer.errors import LayerError

pytestmark = pytest.mark.root


def make_tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    target = tmp_path / "snapshot"
    target.mkdir()
    return target


def test_exact_metadata(dest: Path) -> None:
    data = make_tar(
        (entry("usr", tarfile.DIRTYPE, mode=0o750, mtime=1000), None),
        (entry("usr/bin/su", mode=0o4755, uid=0, gid=0, mtime=2000), b"#!x"),
        (entry("usr/owned", uid=1234, gid=4321, mtime=3000,
               pax_headers={"SCHILY.xattr.user.note": "hello"}), b"data"),
        (entry("usr/hard", tarfile.LNKTYPE, linkname="usr/owned"), None),
        (entry("usr/link", tarfile.SYMTYPE, linkname="/etc/passwd", mtime=4000), None),
        (entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666), None),
        (entry("run/fifo", tarfile.FIFOTYPE, mode=0o600), None),
    )
    diff_id = extract_layer(io.BytesIO(data), dest)
    assert diff_id.startswith("sha256:")
    su = os.stat(dest / "usr/bin/su")
    assert stat.S_IMODE(su.st_mode) == 0o4755 and su.st_mtime == 2000
    owned = os.stat(dest / "usr/owned")
    assert (owned.st_uid, owned.st_gid, owned.st_mtime) == (1234, 4321, 3000)
    assert os.getxattr(dest / "usr/owned", "user.note") == b"hello"
    assert owned.st_ino == os.stat(dest / "usr/hard").st_ino
    assert os.readlink(dest / "usr/link") == "/etc/passwd"
    assert os.lstat(dest / "usr/link").st_mtime == 4000
    null = os.stat(dest / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and os.major(null.st_rdev) == 1 and os.minor(null.st_rdev) == 3
    assert stat.S_ISFIFO(os.stat(dest / "run/fifo").st_mode)
    usr = os.stat(dest / "usr")
    assert stat.S_IMODE(usr.st_mode) == 0o750 and usr.st_mtime == 1000


def test_whiteouts_become_overlay_whiteouts(dest: Path) -> None:
    data = make_tar((entry("etc", tarfile.DIRTYPE), None), (entry("etc/.wh.gone"), b""),
                    (entry("var/.wh..wh..opq"), b""))
    extract_layer(io.BytesIO(data), dest)
    gone = os.lstat(dest / "etc/gone")
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(dest / "var", OPAQUE_XATTR) == b"y"


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, lambda b: zstandard.compress(b)])
def test_compressions_give_the_same_diff_id(tmp_path: Path, compress) -> None:
    data = make_tar((entry("a"), b"x" * 10000))
    target = tmp_path / str(id(compress))
    target.mkdir()
    assert extract_layer(io.BytesIO(compress(data)), target) == "sha256:" + __import__("hashlib").sha256(data).hexdigest()
    assert (target / "a").read_bytes() == b"x" * 10000


@pytest.mark.parametrize("members", [
    [(entry("/etc/evil"), b"x")],
    [(entry("../evil"), b"x")],
    [(entry("a/../../evil"), b"x")],
    [(entry("link", tarfile.SYMTYPE, linkname="{outside}"), None), (entry("link/evil"), b"x")],
    [(entry("link", tarfile.SYMTYPE, linkname="../../../.."), None)],
    [(entry("hard", tarfile.LNKTYPE, linkname="{outside}/victim"), None)],
    [(entry("hard", tarfile.LNKTYPE, linkname="../victim"), None)],
    [(entry("d/link", tarfile.SYMTYPE, linkname="../../x"), None)],
    [(entry(".wh...", tarfile.REGTYPE), b"")],
], ids=["absolute", "dotdot", "inner-dotdot", "through-symlink", "symlink-up", "hardlink-abs",
        "hardlink-up", "nested-symlink-up", "whiteout-dotdot"])
def test_crafted_layers_cannot_escape(tmp_path: Path, dest: Path, members) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "victim").write_text("keep")
    fixed = []
    for info, data in members:
        info.linkname = info.linkname.replace("{outside}", str(outside))
        fixed.append((info, data))
    with pytest.raises(LayerError):
        extract_layer(io.BytesIO(make_tar(*fixed)), dest)
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "evil").exists()
    assert (tmp_path / "victim").read_text() == "keep"


def test_corrupt_stream(dest: Path) -> None:
    data = gzip.compress(make_tar((entry("a"), b"x" * 100000)))
    with pytest.raises(LayerError, match="corrupt"):
        extract_layer(io.BytesIO(data[: len(data) // 2]), dest)


def test_a_path_named_twice_is_replaced_never_written_through(tmp_path: Path, dest: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    data = make_tar((entry("d", tarfile.DIRTYPE), None), (entry("d/keep"), b"k"),
                    (entry("d", tarfile.DIRTYPE), None),  # a directory named again keeps its content
                    (entry("x", tarfile.SYMTYPE, linkname=str(outside / "victim")), None),
                    (entry("x"), b"file"),  # replaces the symlink, never writes through it
                    (entry("y"), b"old"), (entry("y", tarfile.LNKTYPE, linkname="x"), None),
                    (entry("z"), b"file"), (entry("z", tarfile.DIRTYPE), None))
    extract_layer(io.BytesIO(data), dest)
    assert (dest / "d/keep").read_bytes() == b"k" and list(outside.iterdir()) == []
    assert (dest / "x").read_bytes() == b"file" and not (dest / "x").is_symlink()
    assert os.lstat(dest / "y").st_ino == os.lstat(dest / "x").st_ino
    assert (dest / "z").is_dir()


def test_forward_reader_never_seeks_back() -> None:
    from composer.engine.images.layers import ForwardReader

    reader = ForwardReader(io.BytesIO(b"0123456789"))  # type: ignore[arg-type]
    assert reader.read(2) == b"01" and reader.seek(5) == 5 and reader.read(1) == b"5"
    assert reader.seek(2, io.SEEK_CUR) == 8 and reader.tell() == 8
    with pytest.raises(LayerError):
        reader.seek(0)
