"""The warm re-pull: an image the store has, unchanged in its registry, costs one ``HEAD`` request.

Lean on purpose (no httpx, no store classes): `composer image pull` tries this first and takes
the full pull (:mod:`composer.engine.images.pull`) whenever the answer is not a plain "unchanged"
(unknown image, credentials wanted, registry unreachable, a tag to move, a platform asked).
"""

from __future__ import annotations

import json
import os

from composer import settings
from composer.engine.images.endpoint import head_manifest
from composer.engine.images.mediatypes import MANIFEST_ACCEPT
from composer.engine.images.reference import parse_reference


def read_index(images_root: str) -> dict:
    """``images.json`` of the store at ``images_root`` (empty when missing)."""
    try:
        with open(os.path.join(images_root, "images.json"), "rb") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"refs": {}, "images": {}, "layers": {}}


def known_image(db: dict, images_root: str, repo_digest: str) -> str | None:
    """The id of the stored image pulled as ``repo_digest`` whose snapshots all exist, else None."""
    for image_id, record in db["images"].items():
        if repo_digest in record.get("repo_digests", ()) and all(
                os.path.isdir(os.path.join(images_root, "snapshots", chain.removeprefix("sha256:")))
                for chain in record["chain"]):
            return image_id
    return None


def _registry_digest(domain: str, path: str, tag: str) -> str | None:
    answer = head_manifest(domain, path, tag, ", ".join(MANIFEST_ACCEPT))
    if answer is None or answer[0] != 200:
        return None
    digest = answer[1].get("docker-content-digest", "")
    return digest if digest.startswith("sha256:") and len(digest) == 71 else None


def warm_pull(reference: str) -> tuple[str, str, str] | None:
    """(image id, name, registry digest) when ``reference`` is stored and unchanged, else None."""
    ref = parse_reference(reference)
    images_root = os.path.join(settings.state_root_dir(), "images")
    db = read_index(images_root)
    prefix = ref.repository + "@"
    if not any(d.startswith(prefix) for record in db["images"].values() for d in record.get("repo_digests", ())):
        return None  # never pulled from there: a cold pull, no request to spend
    digest = ref.digest or _registry_digest(ref.domain, ref.path, ref.tag or "latest")
    if digest is None:
        return None
    image_id = known_image(db, images_root, prefix + digest)
    if image_id is None or (ref.tag and db["refs"].get(str(ref)) != image_id):
        return None
    return image_id, str(ref), digest
