"""`image push`: blobs the registry lacks are mounted or uploaded in parallel, then the manifest."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from composer.engine.images.events import EventSink, ProgressEvent, ignore, short
from composer.engine.images.mediatypes import OCI_MANIFEST
from composer.engine.images.reference import Reference, parse_reference
from composer.engine.images.registry import RegistryClient
from composer.engine.images.store import ImageStore
from composer.errors import ImageNotFound


@dataclass(frozen=True, slots=True)
class PushResult:
    """The pushed tag, the manifest digest the registry now serves, and its size."""

    name: str
    digest: str
    size: int


def _mount_source(record: dict[str, Any], ref: Reference) -> str | None:
    """Another repository of the same registry that already has this image's blobs."""
    for repo_digest in record.get("repo_digests", ()):
        repository = repo_digest.split("@", 1)[0]
        domain, _, path = repository.partition("/")
        if domain == ref.domain and path != ref.path:
            return path
    return None


def _push_blob(client: RegistryClient, ref: Reference, store: ImageStore, descriptor: dict[str, Any],
               source: str | None, chunk_size: int | None, on_event: EventSink) -> None:
    digest, size, name = descriptor["digest"], int(descriptor["size"]), short(descriptor["digest"])
    if client.blob_exists(ref.path, digest):
        on_event(ProgressEvent(name, "Layer already exists", size, size))
        return
    if source is not None:
        location = client.mount_blob(ref.path, digest, source)
        if location is None:
            on_event(ProgressEvent(name, f"Mounted from {source}", size, size))
            return
    else:
        location = client.start_upload(ref.path)
    with store.blobs.open(digest) as stream:
        client.upload_blob(ref.path, digest, stream, size, location, chunk_size,
                           lambda done: on_event(ProgressEvent(name, "Pushing", done, size)))
    on_event(ProgressEvent(name, "Pushed", size, size))


def push(reference: str, *, store: ImageStore | None = None, on_event: EventSink = ignore,
         chunk_size: int | None = None, parallel: int = 3) -> PushResult:
    """Push the local image tagged ``reference`` to its registry."""
    ref = parse_reference(reference)
    store = store or ImageStore()
    db = store.read_db()
    image_id = db["refs"].get(str(ref))
    if image_id is None:
        raise ImageNotFound(f"An image does not exist locally with the tag: {ref.familiar_repository}",
                            hint=f"composer image tag IMAGE {reference}")
    record = db["images"][image_id]
    body = store.blobs.read(record["manifest"])
    manifest = json.loads(body)
    layers = list(reversed(manifest.get("layers", [])))  # docker lists the top layer first
    on_event(ProgressEvent(ref.tag or "", f"The push refers to repository [{ref.repository}]"))
    for descriptor in layers:
        on_event(ProgressEvent(short(descriptor["digest"]), "Preparing"))
    with RegistryClient(ref.domain) as client:
        source = _mount_source(record, ref)
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            jobs = [(descriptor, on_event) for descriptor in layers] + [(manifest["config"], ignore)]  # config: silent
            futures = [pool.submit(_push_blob, client, ref, store, descriptor, source, chunk_size, sink)
                       for descriptor, sink in jobs]
            for future in futures:
                future.result()
        digest = client.put_manifest(ref.path, ref.tag or ref.digest or "latest", body,
                                     record.get("media_type") or OCI_MANIFEST)
    with store.update_db() as db:
        digests = db["images"][image_id].setdefault("repo_digests", [])
        if f"{ref.repository}@{digest}" not in digests:
            digests.append(f"{ref.repository}@{digest}")
    from composer.engine.object_events import image_event, image_labels

    image_event("push", ref.familiar(), ref.familiar(), image_labels(store, image_id))  # (the reference, as dockerd)
    return PushResult(str(ref), digest, len(body))
