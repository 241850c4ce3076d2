"""The store: import, resolve by every kind of reference, snapshots shared by chain id."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore, chain_ids
from composer.errors import ImageNotFound

pytestmark = pytest.mark.root


def test_busybox_image_fixture(busybox_image, state_root: Path) -> None:
    assert busybox_image.name == "docker.io/library/busybox:latest"
    assert busybox_image.config["Cmd"] == ["sh"]
    assert any(item.startswith("PATH=") for item in busybox_image.config["Env"])
    (layer,) = busybox_image.layer_dirs
    assert (layer / "bin/busybox").is_file() and layer.is_relative_to(state_root)
    assert json.loads((state_root / "images/index.json").read_text())["manifests"]


def test_resolve_by_every_reference(busybox_image) -> None:
    store = ImageStore()
    hexid = busybox_image.id.removeprefix("sha256:")
    for reference in ("busybox", "busybox:latest", "docker.io/library/busybox:latest",
                      busybox_image.id, hexid, hexid[:12]):
        assert store.resolve(reference).id == busybox_image.id
    with pytest.raises(ImageNotFound, match="No such image: nothere") as caught:
        store.resolve("nothere")
    assert "composer image pull nothere" in str(caught.value)


def test_resolve_is_fast(busybox_image) -> None:
    store = ImageStore()
    started = time.perf_counter()
    for _ in range(50):
        store.resolve("busybox")
    assert (time.perf_counter() - started) / 50 < 0.005


def test_same_layer_is_shared(busybox_image, busybox_tar: Path, state_root: Path) -> None:
    other = ImageStore().import_rootfs(busybox_tar, "other:1", ["CMD /bin/true"])
    assert other.id != busybox_image.id
    assert other.layer_dirs == busybox_image.layer_dirs
    assert len(list((state_root / "images/snapshots").iterdir())) == 1


def test_import_directory(busybox_rootfs: Path, state_root: Path) -> None:
    image = ImageStore().import_rootfs(busybox_rootfs, "fromdir")
    assert (image.layer_dirs[0] / "bin/sh").is_symlink()


def test_chain_ids() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    first, second = chain_ids([a, b])
    assert first == a and second.startswith("sha256:") and second != b


def test_gc_removes_unused_and_old_leftovers(busybox_image, busybox_tar: Path, state_root: Path) -> None:
    import os

    from composer.engine.images.catalog import gc, remove

    store = ImageStore()
    old, fresh = store.root / "tmp/blob-old", store.root / "tmp/blob-fresh"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (0, 0))
    assert ("Deleted", busybox_image.id) in remove(store, "busybox")
    assert gc(store) > 0
    assert not old.exists() and fresh.exists()
    assert not any((store.root / "snapshots").iterdir())
    assert not any((store.root / "blobs/sha256").iterdir())


def test_sizes_are_counted_as_docker_counts_them(tmp_path: Path, state_root: Path) -> None:
    """An image's size is its files' and links' bytes, each inode once, no directory counted
    (docker's overlay2 DiffSize): 1986164 for the busybox rootfs docker imports, not its tar's length."""
    import io
    import os
    import tarfile

    from composer.engine.images.catalog import inspect_image
    from composer.engine.images.store import disk_size

    tree = tmp_path / "tree"
    (tree / "dir/sub").mkdir(parents=True)
    (tree / "dir/sub/file").write_bytes(b"x" * 1000)
    os.link(tree / "dir/sub/file", tree / "hard")
    (tree / "link").symlink_to("dir/sub/file")  # 12 bytes: the target's name
    (tree / "empty").touch()
    assert disk_size(tree) == 1000 + 12
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(tree, arcname=".")
    length = archive.tell()
    archive.seek(0)
    ImageStore().import_rootfs(archive, "sized:1")
    assert inspect_image(ImageStore(), "sized:1")["Size"] == 1012 < length
