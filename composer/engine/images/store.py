"""The local image store: blobs (an OCI image layout), an index of images and tags, and snapshots.

Layout under the root (``$COMPOSER_ROOT/images``)::

    oci-layout, index.json      an OCI image layout (for skopeo/umoci; rewritten from images.json)
    blobs/sha256/<hex>          manifests, configs and layers, verified before they appear
    images.json                 {"refs": {name: id}, "images": {id: record}, "layers": {chain: size},
                                 "disk": {chain: size as docker reports it},
                                 "pulled": {name: [id, when (epoch seconds)]}}
    snapshots/<chain hex>/      one unpacked layer each, keyed by chain id, shared by images
    locks/, tmp/                flock files and private temporary files

``resolve`` reads only images.json and the small config blob: it is on ``container run``'s path.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from composer import settings
from composer.engine.images.content import BlobStore, atomic_write_json, check_digest, file_lock
from composer.engine.images.mediatypes import OCI_INDEX, OCI_MANIFEST
from composer.engine.images.reference import Reference, looks_like_id, missing_name, parse_reference
from composer.errors import ImageError, ImageNotFound, LayerError
from composer.records import Record

TYPE_CHECKING = False  # typing and dataclasses stay off image ls/inspect's path
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Callable, Iterator, Sequence

EMPTY_DB: dict[str, Any] = {"refs": {}, "images": {}, "layers": {}}


class ResolvedImage(Record):
    """An image ready to run: its id, name, run config and unpacked layers (bottom first)."""

    id: str
    name: str
    config: dict
    layer_dirs: tuple[Path, ...]


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The OCI chain ids of a layer stack: ``chain(n) = sha256(chain(n-1) + " " + diff(n))``."""
    import hashlib

    chain: list[str] = []
    for diff_id in diff_ids:
        if chain:
            diff_id = "sha256:" + hashlib.sha256(f"{chain[-1]} {diff_id}".encode()).hexdigest()
        chain.append(diff_id)
    return chain


class ImageStore:
    """Images by name, tag, digest or id, backed by content-addressed blobs and snapshots."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else settings.state_root() / "images"
        self.blobs = BlobStore(self.root)
        self.db_path = self.root / "images.json"
        self.unpacked: dict[str, int] = {}  # chain id -> docker's size, of the snapshots unpacked here

    # --- reading --------------------------------------------------------------------------
    def read_db(self) -> dict[str, Any]:
        """The index (refs, images, layer sizes); empty when nothing was stored yet."""
        try:
            with open(self.db_path, "rb") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return json.loads(json.dumps(EMPTY_DB))

    def resolve(self, reference: str) -> ResolvedImage:
        """The local image ``reference`` names (name[:tag], name@digest, short or full id)."""
        db = self.read_db()
        image_id, name = self.find(db, reference)
        config = json.loads(self.blobs.read(image_id))
        record = db["images"][image_id]
        return ResolvedImage(
            id=image_id,
            name=name,
            config=config.get("config") or {},
            layer_dirs=tuple(self.snapshot_path(chain) for chain in record["chain"]),
        )

    def find(self, db: dict[str, Any], reference: str) -> tuple[str, str]:
        """(image id, the normalized name it was found by) or ImageNotFound."""
        parsed: Reference | None = None
        try:
            parsed = parse_reference(reference)
        except ImageError:
            if not looks_like_id(reference):
                raise
        if parsed is not None:
            found = self._find_by_name(db, parsed)
            if found:
                return found, str(parsed)
        if looks_like_id(reference):
            found = self._find_by_id(db, reference)
            if found:
                names = self.names_of(db, found)
                return found, names[0] if names else found
        raise ImageNotFound(f"No such image: {missing_name(reference)}", hint=f"composer image pull {reference}")

    @staticmethod
    def _find_by_name(db: dict[str, Any], parsed: Reference) -> str | None:
        if parsed.digest is None:
            return db["refs"].get(str(parsed))
        wanted = f"{parsed.repository}@{parsed.digest}"
        for image_id, record in db["images"].items():
            if wanted in record.get("repo_digests", ()):
                return image_id
        return None

    @staticmethod
    def _find_by_id(db: dict[str, Any], text: str) -> str | None:
        prefix = text if text.startswith("sha256:") else f"sha256:{text}"
        matches = [image_id for image_id in db["images"] if image_id.startswith(prefix)]
        if len(matches) > 1:
            raise ImageError(f"image id prefix {text!r} is ambiguous", hint="give more digits of the id")
        return matches[0] if matches else None

    @staticmethod
    def names_of(db: dict[str, Any], image_id: str) -> list[str]:
        """The normalized names (with tags) that point at ``image_id``, sorted."""
        return sorted(name for name, target in db["refs"].items() if target == image_id)

    def snapshot_path(self, chain_id: str) -> Path:
        return self.root / "snapshots" / check_digest(chain_id)

    def snapshot_size(self, chain_id: str) -> int:
        """The size of the layer ``chain_id`` as docker reports it (see :func:`disk_size`)."""
        return disk_size(self.snapshot_path(chain_id))

    def snapshot_lock(self, chain_id: str):
        """The file lock held while the snapshot ``chain_id`` is being made."""
        return self.blobs.lock("snapshot-" + check_digest(chain_id))

    # --- writing --------------------------------------------------------------------------
    @contextmanager
    def update_db(self) -> Iterator[dict[str, Any]]:
        """The index under the store lock; written back atomically when the block succeeds."""
        with file_lock(self.root / "locks" / "images.json"):
            db = self.read_db()
            yield db
            atomic_write_json(self.db_path, db)
            self._write_oci_index(db)

    def _write_oci_index(self, db: dict[str, Any]) -> None:
        manifests = []
        for name, image_id in sorted(db["refs"].items()):
            record = db["images"][image_id]
            tag = name.rsplit(":", 1)[-1]
            manifests.append({
                "mediaType": record.get("media_type", OCI_MANIFEST), "digest": record["manifest"],
                "size": self.blobs.size(record["manifest"]),
                "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag},
            })
        atomic_write_json(self.root / "index.json", {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                     "manifests": manifests})
        layout = self.root / "oci-layout"
        if not layout.exists():
            atomic_write_json(layout, {"imageLayoutVersion": "1.0.0"})

    @contextmanager
    def gc_guard(self, exclusive: bool = False) -> Iterator[None]:
        """Held (shared) while an image enters the store, exclusively while garbage collecting."""
        import fcntl

        path = self.root / "locks" / "gc"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def unpack(self, chain_id: str, diff_id: str | None, open_layer: Callable[[], BinaryIO]) -> int:
        """Make sure the snapshot ``chain_id`` exists, unpacking ``open_layer()`` once (locked).

        ``diff_id`` (if given) is checked against the uncompressed bytes. Returns the unpacked size.
        """
        import shutil

        from composer.engine.images.layers import extract_layer_sized

        target = self.snapshot_path(chain_id)
        with self.snapshot_lock(chain_id):
            if target.is_dir():
                return self.read_db()["layers"].get(chain_id, 0)
            work = self.private_dir()
            try:
                counter = _Counter()
                with open_layer() as stream:
                    actual, disk = extract_layer_sized(stream, work, sink=counter)  # type: ignore[arg-type]
                if diff_id is not None and actual != diff_id:
                    raise LayerError(f"digest mismatch: the layer unpacks to {actual}, the image config says {diff_id}",
                                     hint="the registry or archive served corrupt data; nothing was stored")
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(work, target)
                self.unpacked[chain_id] = disk
            finally:
                if work.exists():
                    shutil.rmtree(work, ignore_errors=True)
        return counter.size

    def private_dir(self, prefix: str = "unpack-") -> Path:
        """A new empty directory under ``tmp/`` (same filesystem as the snapshots)."""
        import tempfile

        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=tmp, prefix=prefix))

    def register(self, manifest_digest: str, media_type: str, *, names: Sequence[str] = (),
                 repo_digest: str | None = None, layer_sizes: dict[str, int] | None = None) -> str:
        """Record the image of stored manifest ``manifest_digest`` and point ``names`` at it."""
        manifest = json.loads(self.blobs.read(manifest_digest))
        image_id = manifest["config"]["digest"]
        config = json.loads(self.blobs.read(image_id))
        chain = chain_ids(config.get("rootfs", {}).get("diff_ids", []))
        known = self.read_db().get("disk", {})
        # counted while unpacking; walked (outside the lock) only for a snapshot another process made
        disk = {each: self.unpacked[each] if each in self.unpacked else self.snapshot_size(each)
                for each in chain if each not in known}
        with self.update_db() as db:
            db.setdefault("disk", {}).update(disk)
            record = db["images"].setdefault(image_id, {"repo_digests": []})
            record.update(manifest=manifest_digest, media_type=media_type, chain=chain,
                          created=config.get("created"))
            if repo_digest and repo_digest not in record["repo_digests"]:
                record["repo_digests"].append(repo_digest)
            db["layers"].update(layer_sizes or {})
            for name in names:
                db["refs"][name] = image_id
        return image_id

    def record_pull(self, name: str, image_id: str, when: float | None = None) -> None:
        """Remember that ``name`` was pulled (as ``image_id``) at ``when`` (now): ``pull_policy``'s
        refresh windows (daily, weekly, every_<duration>) count from it."""
        import time

        with self.update_db() as db:
            db.setdefault("pulled", {})[name] = [image_id, time.time() if when is None else when]

    @staticmethod
    def last_pull(db: dict[str, Any], name: str) -> float | None:
        """When ``name`` was last pulled, if it still names the image that pull gave (a tag, load or
        build since then makes it another image, of unknown freshness)."""
        image_id, when = db.get("pulled", {}).get(name) or (None, None)
        return when if image_id is not None and db["refs"].get(name) == image_id else None

    def import_rootfs(self, source: Any, reference: str | None = None,
                      changes: Sequence[str] = ()) -> ResolvedImage:
        """A rootfs tarball (path, stream or directory) as a one-layer image, like `docker import`."""
        from composer.engine.images.archive import import_rootfs

        image_id = import_rootfs(self, source, reference, changes)
        return self.resolve(reference or image_id)


class _Counter:
    """A write-only sink that only counts bytes."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def disk_size(path: Path) -> int:
    """A layer directory's size as docker's overlay2 reports it (``image ls``, ``history``): the
    lstat sizes of its files and links, each inode once (hard links), directories not counted."""
    total, seen = 0, set()
    pending = [str(path)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            info = entry.stat(follow_symlinks=False)
            if info.st_size and info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_size
    return total
