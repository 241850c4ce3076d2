"""Images in and out of files: `import` (a rootfs tarball), `save` and `load` (docker/OCI archives)."""

from __future__ import annotations

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
from composer.engine.images.layers import extract_layer
from composer.engine.images.reference import parse_reference
from composer.engine.images.store import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, ImageStore
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
        diff_id = extract_layer(stream, work, sink=writer)  # type: ignore[arg-type]
        size = writer.size
        writer.commit(diff_id)
        target = store.snapshot_path(diff_id)
        with store.blobs.lock(diff_id):
            if not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(work, target)
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
            "history": [{"created": created, "created_by": "composer import", "comment": message or "Imported"}],
        }
        config_bytes = canonical_json(config)
        config_digest = store.blobs.put(config_bytes)
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": OCI_LAYER, "digest": diff_id, "size": size}],
        }
        manifest_digest = store.blobs.put(canonical_json(manifest))
        return store.register(manifest_digest, OCI_MANIFEST, names=[name] if name else [],
                              layer_sizes={diff_id: size})
