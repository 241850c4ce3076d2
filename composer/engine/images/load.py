"""`image load`: docker archives (``manifest.json``) and OCI archives (``index.json``) into the store.

The archive is first unpacked with the safe layer extractor into a private directory (so a
crafted archive cannot write outside it), then every blob is verified and ingested like a pull.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from composer.engine.images.content import digest_of
from composer.engine.images.layers import GZIP_MAGIC, ZSTD_MAGIC, clean_parts, extract_layer
from composer.engine.images.mediatypes import MANIFEST_LISTS, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST
from composer.engine.images.pull import parse_platform, pick_platform
from composer.engine.images.reference import parse_reference
from composer.engine.images.store import ImageStore, chain_ids
from composer.errors import ImageError, LayerError

NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """One image of an archive: its id and the names it was given (normalized)."""

    image_id: str
    names: tuple[str, ...]


class _Archive:
    """An unpacked archive directory; files are looked up without leaving it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, name: str) -> Path:
        candidate = self.root.joinpath(*clean_parts(name)).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            raise ImageError(f"the archive lacks {name!r} (or it points outside the archive)",
                             hint="the archive is incomplete or not an image archive")
        return candidate

    def read(self, name: str, expected: str | None = None) -> bytes:
        data = self.path(name).read_bytes()
        if expected is not None and digest_of(data) != expected:
            raise LayerError(f"{name}: digest mismatch, expected {expected}")
        return data

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()


def _layer_media_type(path: Path) -> str:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic.startswith(GZIP_MAGIC):
        return OCI_LAYER + "+gzip"
    if magic == ZSTD_MAGIC:
        return OCI_LAYER + "+zstd"
    return OCI_LAYER


def _ingest_image(store: ImageStore, archive: _Archive, config_bytes: bytes,
                  layer_files: list[tuple[str, str | None]], names: list[str], manifest: bytes | None = None) -> str:
    """Store one image's blobs and snapshots and register it; returns its id."""
    config = json.loads(config_bytes)
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(layer_files):
        raise ImageError(f"the archive lists {len(layer_files)} layers but the config {len(diff_ids)}")
    config_digest = store.blobs.put(config_bytes)
    descriptors, sizes = [], {}
    for (name, expected), diff_id, chain in zip(layer_files, diff_ids, chain_ids(diff_ids)):
        path = archive.path(name)
        with open(path, "rb") as stream:
            digest = store.blobs.ingest(stream, expected)
        sizes[chain] = store.unpack(chain, diff_id, lambda: store.blobs.open(digest))
        descriptors.append({"mediaType": _layer_media_type(path), "digest": digest, "size": path.stat().st_size})
    if manifest is None:
        from composer.engine.images.archive import canonical_json

        manifest = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
            "mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)}, "layers": descriptors})
    media_type = json.loads(manifest).get("mediaType") or OCI_MANIFEST
    manifest_digest = store.blobs.put(manifest)
    return store.register(manifest_digest, media_type, names=names, layer_sizes=sizes)


def _load_docker(store: ImageStore, archive: _Archive) -> list[LoadedImage]:
    loaded = []
    for entry in json.loads(archive.read("manifest.json")):
        names = [str(parse_reference(tag)) for tag in entry.get("RepoTags") or []]
        image_id = _ingest_image(store, archive, archive.read(entry["Config"]),
                                 [(layer, None) for layer in entry.get("Layers", [])], names)
        loaded.append(LoadedImage(image_id, tuple(names)))
    return loaded


def _oci_name(descriptor: dict[str, Any]) -> list[str]:
    annotations = descriptor.get("annotations") or {}
    for key in (NAME_ANNOTATION, REF_ANNOTATION):
        value = annotations.get(key)
        if value and ("/" in value or ":" in value or key == NAME_ANNOTATION):
            try:
                return [str(parse_reference(value))]
            except ImageError:
                continue
    return []


def _load_oci(store: ImageStore, archive: _Archive) -> list[LoadedImage]:
    loaded = []
    platform = parse_platform(None)
    for descriptor in json.loads(archive.read("index.json")).get("manifests", []):
        names = _oci_name(descriptor)
        blob = lambda d: archive.read("blobs/" + d["digest"].replace(":", "/"), d["digest"])  # noqa: E731
        manifest_descriptor = descriptor
        while manifest_descriptor.get("mediaType") in MANIFEST_LISTS:
            manifest_descriptor = pick_platform(json.loads(blob(manifest_descriptor)), platform, "archive")
        manifest = blob(manifest_descriptor)
        document = json.loads(manifest)
        config = blob(document["config"])
        layers = [("blobs/" + layer["digest"].replace(":", "/"), layer["digest"])
                  for layer in document.get("layers", [])]
        image_id = _ingest_image(store, archive, config, layers, names, manifest)
        loaded.append(LoadedImage(image_id, tuple(names)))
    return loaded


def load(store: ImageStore, stream: BinaryIO) -> list[LoadedImage]:
    """Load every image of a docker or OCI archive (possibly gzip/zstd compressed); dockerd's
    ``load`` event for each."""
    from composer.engine.object_events import image_event, image_labels

    loaded = _load_archive(store, stream)
    for image in loaded:
        image_event("load", image.image_id, labels=image_labels(store, image.image_id))
    return loaded


def _load_archive(store: ImageStore, stream: BinaryIO) -> list[LoadedImage]:
    with store.gc_guard():
        work = store.private_dir()
        try:
            try:
                extract_layer(stream, work)
            except LayerError as error:
                raise ImageError(f"not a valid image archive: {error.message}",
                                 hint="give a file written by `docker save`, `composer image save` or an OCI archive") from error
            archive = _Archive(work)
            if archive.exists("manifest.json"):
                return _load_docker(store, archive)
            if archive.exists("index.json"):
                return _load_oci(store, archive)
            raise ImageError("the archive has neither manifest.json nor index.json",
                             hint="give a file written by `docker save`, `composer image save` or an OCI archive")
        finally:
            shutil.rmtree(work, ignore_errors=True)
