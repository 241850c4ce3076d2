"""The warm re-pull: an image the store has, unchanged in its registry, costs one ``HEAD`` request.

Lean on purpose (no httpx, no store classes): `composer image pull` tries this first and takes
the full pull (:mod:`composer.engine.images.pull`) whenever the answer is not a plain "unchanged"
(unknown image, credentials refused, registry unreachable, a tag to move, a platform asked).
A 401 is answered once with the stored credentials: basic, or a bearer token (http.client).
"""

from __future__ import annotations

import json
import os

from composer import settings
from composer.engine.images.endpoint import fetch_token, head_manifest, parse_challenge
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


def _authorization(domain: str, challenge: str, scope: str) -> str | None:
    """The ``Authorization`` answering a 401's challenge with the stored credentials (None: cannot)."""
    import base64

    from composer.engine.images import auth
    from composer.errors import ComposerError

    try:
        credentials = auth.lookup(domain)
    except ComposerError:
        return None  # the full pull reports it
    basic = None
    if credentials is not None:
        basic = "Basic " + base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    scheme, params = parse_challenge(challenge)
    if scheme == "basic":
        return basic
    if scheme == "bearer" and params.get("realm"):
        token = fetch_token(params["realm"], params.get("service", ""), scope, basic)
        return f"Bearer {token}" if token else None
    return None


def _registry_digest(domain: str, path: str, tag: str) -> str | None:
    accept = ", ".join(MANIFEST_ACCEPT)
    answer = head_manifest(domain, path, tag, accept)
    if answer is not None and answer[0] == 401:
        challenge = answer[1].get("www-authenticate", "")
        authorization = _authorization(domain, challenge, f"repository:{path}:pull")
        answer = head_manifest(domain, path, tag, accept, authorization) if authorization else None
    if answer is None or answer[0] != 200:
        return None
    digest = answer[1].get("docker-content-digest", "")
    return digest if digest.startswith("sha256:") and len(digest) == 71 else None


def warm_pull(reference: str) -> tuple[str, str, str] | None:
    """(image id, name, registry digest) when ``reference`` is stored and unchanged, else None."""
    ref = parse_reference(reference)
    images_root = os.path.join(settings.state_root_dir(), "images")
    try:
        db = read_index(images_root)
    except (OSError, ValueError):
        return None  # the full pull reports an unreadable store
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
