"""Images in and out of files: `import` (a rootfs tarball), `save` and `load` (docker/OCI archives)."""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import tarfile
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Sequence

from composer.engine.images.changes import apply_changes
from composer.engine.images.content import digest_of
from composer.engine.images.layers import decompressed, extract_layer_sized
from composer.engine.images.mediatypes import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST
from composer.engine.images.reference import Reference, parse_reference
from composer.engine.images.store import ImageStore
from composer.errors import ImageError

ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                 "s390x": "s390x", "riscv64": "riscv64"}


def host_architecture() -> str:
    """The OCI name of this machine's architecture (``amd64``)."""
    machine = platform.machine()
    return ARCHITECTURES.get(machine, machine)


def now_rfc3339() -> str:
    """The current UTC time as docker writes it (``2024-05-01T12:00:00.123456Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted JSON: stable bytes, so stable digests."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _open_source(stack: ExitStack, store: ImageStore, source: Any) -> BinaryIO:
    """A binary stream of the rootfs tarball: a path to a file or a directory, or a stream."""
    if hasattr(source, "read"):
        return source
    path = Path(source)
    if path.is_dir():
        return stack.enter_context(_tar_directory(store, path))
    try:
        return stack.enter_context(open(path, "rb"))
    except OSError as error:
        raise ImageError(f"cannot read {path}: {error.strerror}", hint="give a rootfs tarball or a directory") from None


def _tar_directory(store: ImageStore, directory: Path) -> BinaryIO:
    tmp = store.private_dir()
    tar_path = tmp / "rootfs.tar"
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(directory)):
            tar.add(directory / entry, arcname=entry)
    handle = open(tar_path, "rb")
    shutil.rmtree(tmp)  # the open handle keeps the data readable
    return handle


def ingest_layer(store: ImageStore, stream: BinaryIO) -> tuple[str, int]:
    """Store ``stream`` (any compression) as an uncompressed layer blob plus its snapshot.

    For a bottom layer (its chain id is its diff id). Returns (diff id, uncompressed size).
    """
    work = store.private_dir()
    writer = store.blobs.writer()
    try:
        diff_id, disk = extract_layer_sized(stream, work, sink=writer)  # type: ignore[arg-type]
        size = writer.size
        writer.commit(diff_id)
        target = store.snapshot_path(diff_id)
        with store.snapshot_lock(diff_id):
            if not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(work, target)
                store.unpacked[diff_id] = disk
    except BaseException:
        writer.abort()
        raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return diff_id, size


def import_rootfs(store: ImageStore, source: Any, reference: str | None,
                  changes: Sequence[str] = (), message: str = "") -> str:
    """Import a rootfs tarball as a one-layer image; returns its id (``docker import``)."""
    name = str(parse_reference(reference)) if reference else None
    run_config = apply_changes({}, changes)
    with store.gc_guard(), ExitStack() as stack:
        diff_id, size = ingest_layer(store, _open_source(stack, store, source))
        created = now_rfc3339()
        config = {
            "architecture": host_architecture(), "os": "linux", "created": created, "config": run_config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "comment": message or "Imported from -"}],  # docker's words
        }
        config_bytes = canonical_json(config)
        config_digest = store.blobs.put(config_bytes)
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": OCI_LAYER, "digest": diff_id, "size": size}],
        }
        manifest_digest = store.blobs.put(canonical_json(manifest))
        image_id = store.register(manifest_digest, OCI_MANIFEST, names=[name] if name else [],
                                  layer_sizes={diff_id: size})
    if name:  # docker's LastTagTime: set by import and tag (not by pull or load)
        with store.update_db() as db:
            db["images"][image_id]["tagged"] = now_rfc3339()
    from composer.engine.object_events import image_event, image_labels

    labels = image_labels(store, image_id)
    if reference:  # dockerd's events of an import: the tag as given, then the import
        image_event("tag", image_id, reference, labels)
    image_event("import", image_id, labels=labels)
    return image_id


# --- save -----------------------------------------------------------------------------------------
def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def _add_layer(tar: tarfile.TarFile, store: ImageStore, blob: str, diff_id: str, size: int) -> int:
    """The layer ``blob`` uncompressed, as ``blobs/sha256/<diff id>`` (docker save's format)."""
    if not size:  # unknown: count it
        with store.blobs.open(blob) as raw:
            stream = decompressed(raw)
            while chunk := stream.read(1 << 20):
                size += len(chunk)
    info = tarfile.TarInfo(_blob_name(diff_id))
    info.size, info.mode, info.mtime = size, 0o644, 0
    with store.blobs.open(blob) as raw:
        tar.addfile(info, decompressed(raw))
    return size


def _blob_name(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


def _tag_of(reference: str, name: str) -> Reference | None:
    """The reference to record in the archive, when the image was chosen by name (not by id)."""
    try:
        parsed = parse_reference(reference)
    except ImageError:
        return None
    return parsed if str(parsed) == name and parsed.tag else None


class _ArchiveWriter:
    """Writes images into a tar once per blob, collecting index.json and manifest.json entries."""

    def __init__(self, store: ImageStore, tar: tarfile.TarFile) -> None:
        self.store, self.tar = store, tar
        self.db = store.read_db()
        self.written: set[str] = set()
        self.index: list[dict[str, Any]] = []
        self.manifests: list[dict[str, Any]] = []
        self.repositories: dict[str, dict[str, str]] = {}

    def _once(self, digest: str, write: Any) -> None:
        if digest not in self.written:
            write()
            self.written.add(digest)

    def add_image(self, image_id: str, tags: list[Reference]) -> None:
        """One image (one manifest.json entry, as docker groups its names) with its chosen ``tags``."""
        record = self.db["images"][image_id]
        stored = json.loads(self.store.blobs.read(record["manifest"]))
        config = self.store.blobs.read(image_id)
        diff_ids = json.loads(config)["rootfs"]["diff_ids"]
        layers = []
        for descriptor, diff_id, chain in zip(stored["layers"], diff_ids, record["chain"]):
            size = self.db["layers"].get(chain, 0)
            if diff_id not in self.written:
                size = _add_layer(self.tar, self.store, descriptor["digest"], diff_id, size)
                self.written.add(diff_id)
            layers.append({"mediaType": OCI_LAYER, "digest": diff_id, "size": size})
        self._once(image_id, lambda: _add_bytes(self.tar, _blob_name(image_id), config))
        manifest = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
            "mediaType": OCI_CONFIG, "digest": image_id, "size": len(config)}, "layers": layers})
        manifest_digest = digest_of(manifest)
        self._once(manifest_digest, lambda: _add_bytes(self.tar, _blob_name(manifest_digest), manifest))
        descriptor = {"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest)}
        for tag in tags:
            self.index.append({**descriptor, "annotations": {"io.containerd.image.name": str(tag),
                                                             "org.opencontainers.image.ref.name": tag.tag or ""}})
            if diff_ids:  # docker's legacy `repositories`: repo -> tag -> top layer
                top = diff_ids[-1].removeprefix("sha256:")
                self.repositories.setdefault(tag.familiar_repository, {})[tag.tag or "latest"] = top
        if not tags:
            self.index.append(descriptor)
        self.manifests.append({"Config": _blob_name(image_id), "RepoTags": [t.familiar() for t in tags] or None,
                               "Layers": [_blob_name(diff_id) for diff_id in diff_ids]})

    def finish(self) -> None:
        _add_bytes(self.tar, "index.json", canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                           "manifests": self.index}))
        _add_bytes(self.tar, "manifest.json", _compact(self.manifests))  # docker's key order
        if self.repositories:
            _add_bytes(self.tar, "repositories", _compact(self.repositories))
        _add_bytes(self.tar, "oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"}))


def _resolve(store: ImageStore, db: dict[str, Any], reference: str) -> list[tuple[str, Reference | None]]:
    """The images ``reference`` names: a repository without a tag means all its tags (as docker)."""
    if "@" not in reference and ":" not in reference.rsplit("/", 1)[-1]:
        try:
            repository = parse_reference(reference).repository
        except ImageError:
            repository = None
        tagged = sorted(name for name in db["refs"] if name.rsplit(":", 1)[0] == repository)
        if tagged:
            return [(db["refs"][name], parse_reference(name)) for name in tagged]
    image_id, name = store.find(db, reference)
    return [(image_id, _tag_of(reference, name))]


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def save(store: ImageStore, references: Sequence[str], output: BinaryIO) -> None:
    """Write ``references`` as one archive that is both a docker archive and an OCI layout."""
    db = store.read_db()
    chosen: dict[str, list[Reference]] = {}
    for reference in references:
        for image_id, tag in _resolve(store, db, reference):
            tags = chosen.setdefault(image_id, [])
            if tag is not None and tag not in tags:
                tags.append(tag)
    with tarfile.open(fileobj=output, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = _ArchiveWriter(store, tar)
        for image_id, tags in chosen.items():
            writer.add_image(image_id, tags)
        writer.finish()
    from composer.engine.object_events import image_event, image_labels

    for image_id in chosen:
        image_event("save", image_id, labels=image_labels(store, image_id))
