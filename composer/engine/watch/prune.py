"""``watch --prune``: the images a rebuild leaves dangling are removed, as Docker Compose does.

Docker Compose lists the project's dangling images after each watch rebuild and removes every one
but the image just built. composer's built images carry no project label, so the watcher names
the images it replaces instead: the image a service ran before its rebuild is removed once no
name points at it any more and no container uses it; anything else is kept.
"""

from __future__ import annotations

from typing import Iterable

from composer.errors import ComposerError


def image_id(reference: str) -> str | None:
    """The id of the local image ``reference`` names (None when there is none)."""
    from composer.engine.images.store import ImageStore

    store = ImageStore()
    try:
        return store.find(store.read_db(), reference)[0]
    except ComposerError:
        return None


def prune_superseded(image_ids: Iterable[str]) -> list[str]:
    """Remove each of ``image_ids`` that is dangling (untagged) and unused; the ids removed."""
    from composer.engine.images.catalog import gc, remove
    from composer.engine.images.store import ImageStore

    store = ImageStore()
    db = store.read_db()
    named = set(db["refs"].values())
    removed = []
    for candidate in dict.fromkeys(image_ids):
        if candidate not in db["images"] or candidate in named:
            continue  # gone already, or still tagged (the rebuild changed nothing, or another name)
        try:
            lines = remove(store, candidate)
        except ComposerError:
            continue  # a container still uses it (docker's prune skips those too)
        if ("Deleted", candidate) in lines:
            removed.append(candidate)
    if removed:
        gc(store)
    return removed
