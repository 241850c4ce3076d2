"""A crafted image archive cannot make `load` read or write outside its private directory."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from composer.engine.images.load import load
from composer.engine.images.store import ImageStore
from composer.errors import ImageError

pytestmark = pytest.mark.root


def archive(*members: tuple[str, bytes | str]) -> io.BytesIO:
    """A tar of regular files (bytes) and symlinks (str targets)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


def test_manifest_pointing_outside_is_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": ["../../../etc/passwd"]}])
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}})
    with pytest.raises(ImageError, match=r"'\.\.'|outside"):
        load(store, archive(("manifest.json", manifest.encode()), ("config.json", config.encode())))
    assert store.read_db()["images"] == {}


def test_symlinked_member_outside_is_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": []}])
    with pytest.raises(ImageError, match="outside the archive"):
        load(store, archive(("manifest.json", manifest.encode()), ("config.json", "/etc/hostname")))
    assert store.read_db()["images"] == {}


def test_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="neither manifest.json nor index.json"):
        load(ImageStore(tmp_path / "store"), archive(("hello.txt", b"hi")))
