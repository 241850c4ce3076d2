"""A resolve cache in front of the image store, for ``container run``'s start-up time.

Importing the image store (pathlib, typing, dataclasses, reference parsing) costs more than
starting a container. The store rewrites ``images.json`` atomically on every change, so a
resolution cached together with that file's (inode, mtime, size) stays valid exactly as long as
the file is unchanged; anything else goes through ``ImageStore.resolve``. Entries are marshal data:
the json package's import (with re, enum, functools) would cost more than the lookup saves.
"""

from __future__ import annotations

import marshal
import os

from composer.engine.runtime.record import Record
from composer.settings import state_root_dir


class CachedImage(Record):
    """The fields of ``ResolvedImage`` that the runtime uses."""

    id: str
    name: str
    config: dict
    layer_dirs: list


def _fingerprint(db_path: str) -> str | None:
    try:
        info = os.stat(db_path)
    except OSError:
        return None
    return f"{info.st_ino}-{info.st_mtime_ns}-{info.st_size}"


def _cache_path(reference: str) -> str | None:
    """Where the resolution of ``reference`` is kept (None for a name too long for a file name)."""
    key = reference.encode().hex()
    return os.path.join(state_root_dir(), "cache", "resolve", key + ".marshal") if len(key) < 200 else None


def resolved_before(reference: str) -> bool:
    """Whether ``reference`` has a cached resolution: the store parsed it once, so it is a valid
    name (a check of its syntax, whose parser imports ``re``, can be skipped: a stat)."""
    cache = _cache_path(reference)
    return cache is not None and os.path.exists(cache)


def resolve_image(reference: str):
    """The image ``reference`` names (cached; ImageNotFound from the store if there is none)."""
    fingerprint = _fingerprint(os.path.join(state_root_dir(), "images", "images.json"))
    cache = _cache_path(reference)
    if fingerprint and cache:
        try:
            with open(cache, "rb") as handle:
                entry = marshal.load(handle)
            if entry["fingerprint"] == fingerprint and all(os.path.isdir(d) for d in entry["image"]["layer_dirs"]):
                return CachedImage(**entry["image"])
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            pass
    from composer.engine.images.store import ImageStore

    image = ImageStore().resolve(reference)
    if fingerprint and cache:
        _store(cache, fingerprint, image)
    return image


def _store(cache: str, fingerprint: str, image) -> None:
    """Remember a resolution (best effort: a cache that cannot be written is no error)."""
    entry = {"fingerprint": fingerprint, "image": {"id": image.id, "name": image.name, "config": image.config,
                                                   "layer_dirs": [str(p) for p in image.layer_dirs]}}
    temporary = f"{cache}.tmp{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump(entry, handle)
        os.rename(temporary, cache)
    except (OSError, ValueError):
        pass
