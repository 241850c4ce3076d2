"""A layer's size as docker reports it, counted while unpacking: always what a walk of the
snapshot finds (``store.disk_size``), also when members replace, link or white out others."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from composer.engine.images.layers import extract_layer_sized
from composer.engine.images.store import ImageStore, disk_size
from tests.unit.images.test_layers import entry, make_tar

pytestmark = pytest.mark.root

D, F, L, H = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
LAYERS = {
    "plain": [("a", F, b"12345"), ("d", D, None), ("d/b", F, b"xy"), ("d/empty", F, b""),
              ("d/link", L, "../a"), ("d/hard", H, "a"), ("dev", D, None)],
    "replaced": [("a", F, b"1" * 100), ("a", F, b"22"), ("l", L, "somewhere/far"), ("l", F, b"333")],
    "hard link outlives its name": [("a", F, b"1" * 50), ("b", H, "a"), ("a", F, b"1"), ("c", H, "b")],
    "whiteouts": [("d", D, None), ("d/x", F, b"1" * 70), ("d/sub/y", F, b"2" * 30), ("f", F, b"333"),
                  ("d/.wh.sub", F, b""), (".wh.f", F, b""), ("d/.wh..wh..opq", F, b"")],
    "directory replaced by a file": [("d/x", F, b"1" * 40), ("d/y", L, "x"), ("d", F, b"4444"),
                                     ("e", F, b"55"), ("e", D, None), ("e/z", F, b"6")],
    "hard link to a link": [("t", L, "target"), ("h", H, "t"), ("t", L, "other-target-longer")],
}


def _tar(members: list[tuple[str, bytes, object]]) -> bytes:
    built = []
    for name, kind, payload in members:
        if kind in (L, H):
            built.append((entry(name, kind, linkname=payload), None))
        else:
            built.append((entry(name, kind), payload))
    return make_tar(*built)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_counted_size_is_the_walked_size(case: str, tmp_path: Path) -> None:
    dest = tmp_path / "snapshot"
    dest.mkdir()
    _digest, counted = extract_layer_sized(io.BytesIO(_tar(LAYERS[case])), dest)
    assert counted == disk_size(dest)


def test_register_takes_the_counted_size_without_walking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from composer.engine.images.archive import import_rootfs

    store = ImageStore(tmp_path / "images")
    walked: list[str] = []
    monkeypatch.setattr(ImageStore, "snapshot_size", lambda self, chain: walked.append(chain) or 0)
    image_id = import_rootfs(store, io.BytesIO(_tar(LAYERS["plain"])), "sized:latest")
    chain = store.read_db()["images"][image_id]["chain"][0]
    assert walked == []
    assert store.read_db()["disk"][chain] == disk_size(store.snapshot_path(chain)) == 5 + 2 + 4
