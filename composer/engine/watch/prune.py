"""``watch --prune``: the images a rebuild leaves dangling are removed, as Docker Compose does.

Images built for a compose service carry the ``com.docker.compose.project`` and ``.service``
labels (``composer.engine.build.compose``, as docker/compose's ``getImageBuildLabels``). After a
watch rebuild, Docker Compose lists the project's dangling images (``dangling=true`` and the
project label) and removes each one but the images just built; one a container still uses is
skipped. This does the same on composer's image store.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from composer.engine import labels as L
from composer.errors import ComposerError


def _labels(store: Any, image_id: str) -> dict[str, str]:
    """The ``Config.Labels`` of a stored image ({} when its config cannot be read)."""
    try:
        config = json.loads(store.blobs.read(image_id))
    except (ComposerError, OSError, ValueError):
        return {}
    return (config.get("config") or {}).get("Labels") or {}


def dangling_images(store: Any, project: str) -> list[str]:
    """The ids of ``project``'s images that no name points at (``dangling=true`` + project label)."""
    db = store.read_db()
    named = set(db["refs"].values())
    return [image_id for image_id in db["images"]
            if image_id not in named and _labels(store, image_id).get(L.PROJECT) == project]


def prune_dangling(project: str, keep: Iterable[str] = ()) -> list[str]:
    """Remove ``project``'s dangling images but ``keep`` (the ids just built); the ids removed."""
    from composer.engine.images.catalog import container_usage, gc, remove
    from composer.engine.images.store import ImageStore

    store = ImageStore()
    spared = set(keep)
    removed = []
    usage = None  # the containers are read once, and only when there is something to remove
    for image_id in dangling_images(store, project):
        if image_id in spared:
            continue
        if usage is None:
            usage = container_usage()
        try:
            lines = remove(store, image_id, usage=usage)
        except ComposerError:
            continue  # a container still uses it (docker's remove refuses, and the prune goes on)
        if ("Deleted", image_id) in lines:
            removed.append(image_id)
    if removed:
        gc(store, usage.layers if usage else None)
    return removed
