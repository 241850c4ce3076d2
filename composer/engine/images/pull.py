"""`image pull`: manifest (list) -> config -> layers downloaded and unpacked in parallel -> index.

A warm re-pull of an unchanged image costs one manifest request. Each layer is fetched and
unpacked under its own file lock, so concurrent pulls share the work; on failure the blobs and
snapshots this pull created are removed again, leaving the store as it was.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from composer.engine.images.events import EventSink, ProgressEvent, ignore, short
from composer.engine.images.mediatypes import DOCKER_MANIFEST, MANIFEST_ACCEPT, MANIFEST_LISTS, OCI_MANIFEST
from composer.engine.images.reference import Reference, parse_reference
from composer.engine.images.registry import RegistryClient
from composer.engine.images.store import ImageStore, chain_ids
from composer.engine.images.warm import known_image
from composer.errors import ImageError, ImageNotFound


@dataclass(frozen=True, slots=True)
class Platform:
    """``os/architecture[/variant]``."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))


def parse_platform(text: str | None) -> Platform:
    """``linux/arm64/v8`` -> Platform; None -> this machine."""
    if not text:
        from composer.engine.images.archive import host_architecture

        return Platform("linux", host_architecture())
    parts = text.lower().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ImageError(f"invalid platform {text!r}", hint="use os/arch[/variant], e.g. linux/amd64")
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


@dataclass(frozen=True, slots=True)
class PullResult:
    """What a pull did: the image, the name it got, the registry digest, whether it changed."""

    image_id: str
    name: str
    digest: str
    updated: bool


def pick_platform(index: dict[str, Any], platform: Platform, reference: str) -> dict[str, Any]:
    """The manifest descriptor of a list/index that matches ``platform``."""
    for entry in index.get("manifests", []):
        wanted = entry.get("platform") or {}
        if (wanted.get("os"), wanted.get("architecture")) != (platform.os, platform.architecture):
            continue
        if platform.variant and wanted.get("variant") not in (None, platform.variant):
            continue
        return entry
    raise ImageNotFound(f"no matching manifest for {platform} in the manifest list entries of {reference}",
                        hint="choose another --platform")


def check_platform(store: ImageStore, reference: str, platform: str | None) -> None:
    """``--platform`` of a command on a local image (inspect, history, save, rm): the image's
    own platform must be that one, else dockerd's NotFound (``... was found but does not match
    the specified platform: wanted linux/arm64, actual: linux/amd64``)."""
    if not platform:
        return
    import json

    from composer.engine.images.reference import missing_name

    wanted = parse_platform(platform)
    image_id, _ = store.find(store.read_db(), reference)
    config = json.loads(store.blobs.read(image_id))
    actual = Platform(config.get("os") or "", config.get("architecture") or "", config.get("variant"))
    if (actual.os, actual.architecture) != (wanted.os, wanted.architecture) or \
            wanted.variant not in (None, actual.variant):
        raise ImageNotFound(f"image with reference {missing_name(reference)} was found but does not match the "
                            f"specified platform: wanted {wanted}, actual: {actual}")


@dataclass
class _Pull:
    """The state of one pull: what it created (to undo on failure) and layer sizes."""

    store: ImageStore
    client: RegistryClient
    ref: Reference
    on_event: EventSink
    created: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)  # layers announced as ``Already exists``

    def fetch_small_blob(self, digest: str) -> bytes:
        if not self.store.blobs.exists(digest):
            with self.store.blobs.writer() as writer:
                self.client.fetch_blob(self.ref.path, digest, writer)
                writer.commit(digest)
            self.created.append(digest)
        return self.store.blobs.read(digest)

    def has_layer(self, digest: str, chain_id: str) -> bool:
        """Whether the store holds this layer's blob and its unpacked snapshot."""
        return self.store.blobs.exists(digest) and self.store.snapshot_path(chain_id).is_dir()

    def announce(self, layer: dict[str, Any], chain_id: str) -> None:
        """docker's first line of a layer: ``Already exists`` (and nothing more) for one the store
        has, ``Pulling fs layer`` for the others."""
        digest = layer["digest"]
        if self.has_layer(digest, chain_id):
            self.present.add(digest)
        self.on_event(ProgressEvent(short(digest), "Already exists" if digest in self.present else "Pulling fs layer"))

    def fetch_layer(self, layer: dict[str, Any], diff_id: str, chain_id: str) -> None:
        """Download and unpack one layer, unless the store has it (locked: concurrent pulls share)."""
        digest, total, name = layer["digest"], int(layer.get("size", 0)), short(layer["digest"])
        blobs, snapshot = self.store.blobs, self.store.snapshot_path(chain_id)
        if self.has_layer(digest, chain_id):
            if digest not in self.present:  # another pull brought it meanwhile
                self.on_event(ProgressEvent(name, "Already exists"))
            self.sizes[chain_id] = self.store.read_db()["layers"].get(chain_id, 0)
            return
        existed = snapshot.is_dir()
        with blobs.blob_lock(digest):
            if blobs.exists(digest):
                self.on_event(ProgressEvent(name, "Extracting", 0, total))
                self.sizes[chain_id] = self.store.unpack(chain_id, diff_id, lambda: blobs.open(digest))
            else:
                self.sizes[chain_id] = self._download_and_unpack(digest, diff_id, chain_id, name, total)
                self.created.append(digest)
        if not existed:
            self.created.append(chain_id)
        self.on_event(ProgressEvent(name, "Pull complete", total, total))

    def _download_and_unpack(self, digest: str, diff_id: str, chain_id: str, name: str, total: int) -> int:
        """Download the blob (verified before it becomes visible), then unpack it.

        Measured here: streaming the download through a pipe into the unpacker was slower
        (35 s against 26-31 s for a 97 MB image) than downloading first and unpacking from the
        page-cached blob, so layers run in parallel with each other instead.
        """
        with self.store.blobs.writer() as writer:
            self.client.fetch_blob(self.ref.path, digest, writer,
                                   lambda done: self.on_event(ProgressEvent(name, "Downloading", done, total)))
            self.on_event(ProgressEvent(name, "Verifying Checksum", total, total))
            writer.commit(digest)
        self.on_event(ProgressEvent(name, "Download complete", total, total))
        self.on_event(ProgressEvent(name, "Extracting", 0, total))
        return self.store.unpack(chain_id, diff_id, lambda: self.store.blobs.open(digest))

    def undo(self) -> None:
        """Remove the blobs and snapshots this pull created that no image references."""
        db = self.store.read_db()
        used = {chain for record in db["images"].values() for chain in record["chain"]}
        used |= {record["manifest"] for record in db["images"].values()} | set(db["images"])
        for digest in self.created:
            if digest in used:
                continue
            shutil.rmtree(self.store.snapshot_path(digest), ignore_errors=True)
            self.store.blobs.remove(digest)


def pull(reference: str, *, store: ImageStore | None = None, platform: str | None = None,
         on_event: EventSink = ignore, parallel: int = 3) -> PullResult:
    """Pull ``reference`` into the store (see the module docstring)."""
    ref = parse_reference(reference)
    store = store or ImageStore()
    wanted = parse_platform(platform)
    with RegistryClient(ref.domain) as client, store.gc_guard():
        top, media_type, digest = client.get_manifest(ref.path, ref.digest or ref.tag or "latest", MANIFEST_ACCEPT)
        repo_digest = f"{ref.repository}@{digest}"
        names = [str(ref)] if ref.tag else []
        db = store.read_db()
        known = known_image(db, str(store.root), repo_digest)
        if known is not None:
            if names and db["refs"].get(names[0]) != known:
                with store.update_db() as db:
                    db["refs"][names[0]] = known
            if names:  # pull_policy's refresh windows count from here
                store.record_pull(names[0], known)
            _pulled(ref, store, known)
            return PullResult(known, str(ref), digest, updated=False)
        on_event(ProgressEvent(ref.tag or ref.digest or "", f"Pulling from {ref.path}"))
        job = _Pull(store, client, ref, on_event)
        try:
            image_id = _pull_image(job, top, media_type or json.loads(top).get("mediaType", ""),
                                   digest, wanted, parallel, names, repo_digest)
        except BaseException:
            job.undo()
            raise
    if names:
        store.record_pull(names[0], image_id)
    _pulled(ref, store, image_id)
    return PullResult(image_id, str(ref), digest, updated=True)


def _pulled(ref: Reference, store: ImageStore, image_id: str) -> None:
    """dockerd's ``pull`` event: Actor.ID and ``name`` the reference (``busybox:latest``)."""
    from composer.engine.object_events import image_event, image_labels

    image_event("pull", ref.familiar(), ref.familiar(), image_labels(store, image_id))


def repository_tags(reference: str) -> list[str]:
    """The tags the registry has of ``reference``'s repository (``pull --all-tags``)."""
    ref = parse_reference(reference)
    with RegistryClient(ref.domain) as client:
        return client.list_tags(ref.path)


def _pull_image(job: _Pull, top: bytes, media_type: str, digest: str, platform: Platform,
                parallel: int, names: list[str], repo_digest: str) -> str:
    manifest_bytes, manifest_type, manifest_digest = top, media_type, digest
    document = json.loads(top)
    if media_type in MANIFEST_LISTS or "manifests" in document:
        entry = pick_platform(document, platform, str(job.ref))
        manifest_bytes, manifest_type, manifest_digest = job.client.get_manifest(
            job.ref.path, entry["digest"], (OCI_MANIFEST, DOCKER_MANIFEST))
        manifest_type = manifest_type or entry.get("mediaType", OCI_MANIFEST)
        document = json.loads(manifest_bytes)
    if document.get("schemaVersion") != 2 or "config" not in document:
        raise ImageError(f"{job.ref}: unsupported manifest type {manifest_type!r}",
                         hint="only Docker schema 2 and OCI images can be pulled")
    config = json.loads(job.fetch_small_blob(document["config"]["digest"]))
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    layers = document.get("layers", [])
    if len(diff_ids) != len(layers):
        raise ImageError(f"{job.ref}: the manifest has {len(layers)} layers but the config {len(diff_ids)}")
    chains = chain_ids(diff_ids)
    for layer, chain in zip(layers, chains):
        job.announce(layer, chain)
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(job.fetch_layer, layer, diff_id, chain)
                   for layer, diff_id, chain in zip(layers, diff_ids, chains)]
        for future in futures:
            future.result()
    job.store.blobs.put(manifest_bytes, manifest_digest)
    if manifest_digest != digest:
        job.store.blobs.put(top, digest)
    return job.store.register(manifest_digest, manifest_type, names=names, repo_digest=repo_digest,
                              layer_sizes=job.sizes)
