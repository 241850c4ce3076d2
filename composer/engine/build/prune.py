"""``builder prune``: what builds leave behind, as ``docker builder prune`` removes build cache.

The leftovers of killed builds (step containers, scratch directories with their mounts) always
go. Of the cache index (``build.cache``), the entries whose layer no image holds (or whose blob
is gone) are dangling and go; with ``everything`` every entry does (the next build runs every
step). The store is then garbage collected: it keeps the layers of the entries left (gc protects
the build cache, as docker's ``image prune`` leaves it alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.engine.images.store import ImageStore


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a prune removed: cache keys, step containers of killed builds, and the bytes freed."""

    keys: list[str]
    containers: int
    freed: int


def prune_builder(store: ImageStore | None = None, everything: bool = False,
                  until: float | None = None) -> PruneResult:
    """Remove killed builds' leftovers and the dangling (``everything``: all) cache entries
    (with ``until``, a Unix time: only those recorded before it, as buildkit's ``until``)."""
    from composer.engine.build.cache import default_index, step_layers
    from composer.engine.build.leftovers import remove_killed_builds
    from composer.engine.images.catalog import gc

    store = store or ImageStore()
    containers = remove_killed_builds(store.root / "tmp")
    cache = default_index()
    imaged = {chain for record in store.read_db()["images"].values() for chain in record["chain"]}
    layers = step_layers(cache)
    keys = [key for key, value in cache.entries()
            if (everything or not store.blobs.exists(value) or (key in layers and layers[key]["chain"] not in imaged))
            and (until is None or (cache.entry(key) or {}).get("created", 0) < until)]
    for key in keys:
        cache.forget(key)
    result = PruneResult(keys, containers, gc(store))
    from composer.engine.object_events import prune_event

    prune_event("builder", result.freed)  # dockerd's builder prune event
    return result
