"""Storing build layers: gzip blobs whose diff id is the uncompressed tar's digest, reproducibly."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from composer.engine.build.commit import OCI_LAYER_GZIP, Layer, descriptor, place_layer, store_layer
from composer.engine.images.store import ImageStore, chain_ids


def make_tree(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.txt").write_text("hello\n" * 1000)
    os.utime(root / "app" / "main.txt", (1_600_000_000, 1_600_000_000))
    os.utime(root / "app", (1_600_000_000, 1_600_000_000))
    return root


def test_gzip_blob_same_tree_same_digests(state_root: Path, tmp_path: Path) -> None:
    store = ImageStore()
    first = store_layer(store, make_tree(tmp_path / "a"), [])
    second = store_layer(store, make_tree(tmp_path / "b"), ["sha256:" + "0" * 64])
    assert (first.diff_id, first.digest) == (second.diff_id, second.digest)
    assert first.chain != second.chain and not (tmp_path / "a").exists()  # the directory became the snapshot
    data = store.blobs.path(first.digest).read_bytes()
    tar = gzip.decompress(data)
    assert "sha256:" + hashlib.sha256(tar).hexdigest() == first.diff_id
    assert (first.size, first.blob_size) == (len(tar), len(data)) and first.blob_size < first.size
    assert descriptor(first) == {"mediaType": OCI_LAYER_GZIP, "digest": first.digest, "size": first.blob_size}
    legacy = Layer(first.diff_id, first.size, first.chain)
    assert legacy.blob == first.diff_id and descriptor(legacy)["mediaType"].endswith(".tar")


def test_place_layer_on_a_new_parent(state_root: Path, tmp_path: Path) -> None:
    store = ImageStore()
    layer = store_layer(store, make_tree(tmp_path / "a"), [])
    parent = "sha256:" + "1" * 64
    placed = place_layer(store, layer, [parent])
    assert placed is not None and placed.chain == chain_ids([parent, layer.diff_id])[-1]
    assert (store.snapshot_path(placed.chain) / "app/main.txt").read_text() == "hello\n" * 1000
    store.blobs.remove(layer.digest)
    assert place_layer(store, layer, ["sha256:" + "2" * 64]) is None
