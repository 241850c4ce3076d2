"""Putting build results into the image store: layers (blob + snapshot) and tagged images.

``store_layer`` tars a layer directory into a gzip blob (as a registry serves it, so ``push``
sends proper compressed layers; ``compress`` deflates it on several threads and hashes the
uncompressed tar for the diff id on the way) and moves the directory itself into place as the
snapshot, so no second unpack is needed. ``commit_image`` writes the image config and manifest
and tags the image in one index update: until then a failed build has left no image and no tag.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from composer.engine.build.expand import Platform
from composer.engine.images.mediatypes import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST
from composer.engine.images.store import ImageStore, chain_ids

OCI_LAYER_GZIP = OCI_LAYER + "+gzip"


@dataclass(frozen=True, slots=True)
class Layer:
    """A stored layer: diff id, uncompressed size, chain id and its blob (``digest``, ``blob_size``).

    An empty ``digest`` is a layer stored uncompressed (older cache records): its blob is the diff id.
    """

    diff_id: str
    size: int
    chain: str
    digest: str = ""
    blob_size: int = 0

    @property
    def blob(self) -> str:
        return self.digest or self.diff_id


def store_layer(store: ImageStore, directory: Path, parents: Sequence[str]) -> Layer:
    """Store ``directory`` as the layer on top of ``parents`` (diff ids); the directory is consumed."""
    from composer.engine.build.compress import GzipSink
    from composer.engine.build.layer import write_layer

    try:
        with store.blobs.writer() as writer:
            sink = GzipSink(writer)  # type: ignore[arg-type]
            try:
                write_layer(str(directory), sink)  # type: ignore[arg-type]
            except BaseException:
                sink.abort()
                raise
            diff_id = sink.close()
            blob_size = writer.size
            digest = writer.commit()
        size = sink.size
        chain = chain_ids([*parents, diff_id])[-1]
        target = store.snapshot_path(chain)
        with store.snapshot_lock(chain):
            if not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(directory, target)
        return Layer(diff_id, size, chain, digest, blob_size)  # its size enters the index with the image (commit_image)
    finally:
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)


def place_layer(store: ImageStore, layer: Layer, parents: Sequence[str]) -> Layer | None:
    """``layer`` (a stored blob) on top of ``parents``: its snapshot there unpacked from the blob if
    missing (a ``COPY --link`` layer reused on a new parent); None when the blob is gone."""
    chain = chain_ids([*parents, layer.diff_id])[-1]
    if not store.snapshot_path(chain).is_dir():
        if not store.blobs.exists(layer.blob):
            return None
        store.unpack(chain, layer.diff_id, lambda: store.blobs.open(layer.blob))
    return dataclasses.replace(layer, chain=chain)


def now_rfc3339() -> str:
    """The current time as image configs write it (the images package's format)."""
    from composer.engine.images.archive import now_rfc3339 as now

    return now()


def retag(store: ImageStore, image_id: str, names: Sequence[str]) -> bool:
    """Point ``names`` at the stored image ``image_id`` (their ``tag`` events); False when that
    image is gone."""
    db = store.read_db()
    if image_id not in db["images"]:
        return False
    if any(db["refs"].get(name) != image_id for name in names):
        with store.update_db() as db:
            if image_id not in db["images"]:
                return False
            db["refs"].update({name: image_id for name in names})
    tag_events(store, image_id, names)
    return True


def has_layer(store: ImageStore, parents: Sequence[str], layer: Layer) -> bool:
    """Whether the blob and the snapshot of ``layer`` on top of ``parents`` are both present."""
    chain = chain_ids([*parents, layer.diff_id])[-1]
    return store.blobs.exists(layer.blob) and store.snapshot_path(chain).is_dir()


def image_config(stage_config: dict[str, Any], diff_ids: Sequence[str], created: str,
                 platform: Platform | None = None) -> dict[str, Any]:
    """The full OCI image config of a build result (for ``platform``, this machine's by default)."""
    platform = platform or Platform.host()
    out: dict[str, Any] = {"architecture": platform.arch, "os": platform.os, "created": created,
                           "rootfs": {"type": "layers", "diff_ids": list(diff_ids)}}
    if platform.variant:
        out["variant"] = platform.variant
    out.update(stage_config)
    return out


def descriptor(layer: Layer) -> dict[str, Any]:
    """The manifest entry of a layer this builder stored (gzip, or uncompressed for old records)."""
    if layer.digest:
        return {"mediaType": OCI_LAYER_GZIP, "digest": layer.digest, "size": layer.blob_size}
    return {"mediaType": OCI_LAYER, "digest": layer.diff_id, "size": layer.size}


def commit_image(store: ImageStore, config: dict[str, Any], layers: Sequence[dict[str, Any]],
                 names: Sequence[str] = (), sizes: dict[str, int] | None = None) -> str:
    """Store config + manifest (``layers``: descriptors) and point ``names`` at the image, atomically;
    dockerd's image ``tag`` event for each name (also when nothing changed, as a build always tags).

    ``sizes``: the uncompressed (tar) size of the layers this build made, by chain id.
    """
    from composer.engine.images.archive import canonical_json

    config_bytes = canonical_json(config)
    config_digest = store.blobs.put(config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                "layers": list(layers)}
    manifest_digest = store.blobs.put(canonical_json(manifest))
    db = store.read_db()
    if not (config_digest in db["images"] and all(db["refs"].get(name) == config_digest for name in names)):
        store.register(manifest_digest, OCI_MANIFEST, names=list(names), layer_sizes=dict(sizes or {}))
    tag_events(store, config_digest, names)  # (when nothing changed, the index stays as it is)
    return config_digest


def tag_events(store: ImageStore, image_id: str, names: Sequence[str]) -> None:
    """dockerd's image ``tag`` event of each name a build gives (with the image's labels)."""
    from composer.engine.images.reference import parse_reference
    from composer.engine.object_events import image_event, image_labels

    labels = image_labels(store, image_id)
    for name in names:
        image_event("tag", image_id, parse_reference(name).familiar(), labels)


def read_image(store: ImageStore, image_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An image's full config and its manifest's layer descriptors."""
    config = json.loads(store.blobs.read(image_id))
    record = store.read_db()["images"][image_id]
    manifest = json.loads(store.blobs.read(record["manifest"]))
    return config, list(manifest.get("layers", []))
