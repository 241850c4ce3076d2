"""The build cache: step keys like Docker's classic builder, and a small on-disk index.

A step is reused when its parent is the same, its instruction (after expansion, with the build
args it sees) is the same and, for COPY/ADD, the content hash of its sources is the same.
The key is the sha256 of a canonical JSON of exactly those parts, so it never depends on
mtimes, on dict order or on args the step does not see.

The index maps a key to the id the step produced (a layer blob or image id of the image store,
with the layer's record beside it) with one small file per key under ``<root>/<key[:2]>/<key>``,
written atomically, so concurrent builds can share it without a lock and a lookup costs one
``open``. The store's garbage collection keeps the blob and snapshot of every step layer the
index names (``held``), as docker's ``image prune`` leaves the build cache alone: only
``builder prune`` (and ``system prune``) forget entries, and then their layers go.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from composer.errors import BuildError

SCHEME = "composer.build.v1"


def step_key(parent: str, instruction: str, *, args: Mapping[str, str] | None = None,
             content: str | None = None, platform: str | None = None,
             extra: Mapping[str, object] | None = None) -> str:
    """The cache key of one step.

    ``parent`` is the id of the state the step starts from (base image config digest or the
    previous step's id; ``""`` for scratch); ``instruction`` the expanded instruction text
    (e.g. ``RUN /bin/sh -c make`` or ``COPY --chown=1:1 app /app``); ``args`` the build args the
    step sees; ``content`` the COPY/ADD content hash; ``extra`` anything else the executor
    decides is part of the step (RUN mounts, network mode).
    """
    document = {"scheme": SCHEME, "parent": parent, "instruction": instruction,
                "args": dict(sorted((args or {}).items())), "content": content,
                "platform": platform, "extra": dict(sorted((extra or {}).items()))}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def chain_keys(parent: str, steps: Sequence[tuple[str, Mapping[str, str], str | None]]) -> list[str]:
    """Keys of consecutive steps when each step's parent is the previous key (a dry-run helper)."""
    keys = []
    for instruction, args, content in steps:
        parent = step_key(parent, instruction, args=args, content=content)
        keys.append(parent)
    return keys


class CacheIndex:
    """``lookup(key) -> id`` and ``record(key, id)`` under a root directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        digest = key.removeprefix("sha256:")
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise BuildError(f"invalid build cache key {key!r}")
        return self.root / digest[:2] / digest

    def lookup(self, key: str) -> str | None:
        """The id recorded for a key, or None (a damaged entry counts as a miss)."""
        entry = self.entry(key)
        return None if entry is None else entry["id"]

    def entry(self, key: str) -> dict | None:
        """The whole entry of a key (``id``, ``created``, and ``detail`` when recorded with one)."""
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            return None
        value = entry.get("id") if isinstance(entry, dict) else None
        return entry if isinstance(value, str) and value else None

    def record(self, key: str, value: str, detail: dict | None = None) -> None:
        """Remember that the step with this key produced ``value`` (atomic replace); ``detail``
        is kept in the entry itself (a step's layer: the store's gc never sees it)."""
        import tempfile

        path = self._path(key)
        entry = {"id": value, "created": time.time(), **({"detail": detail} if detail is not None else {})}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
            os.replace(temp, path)
        except OSError as error:
            raise BuildError(f"cannot write the build cache at {self.root}: {error.strerror}") from None

    def forget(self, key: str) -> None:
        """Drop one entry (absent is fine)."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every (key, id) in the index."""
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir():
                continue
            for item in sorted(shard.iterdir()):
                if not item.name.startswith(".tmp-"):
                    value = self.lookup("sha256:" + item.name)
                    if value is not None:
                        yield "sha256:" + item.name, value

    def prune(self, keep: set[str]) -> int:
        """Remove entries whose id is not in ``keep`` (ids still in the image store); returns the count."""
        removed = 0
        for key, value in list(self.entries()):
            if value not in keep:
                self.forget(key)
                removed += 1
        return removed


def default_index() -> CacheIndex:
    """The index of this state root's builder (``<root>/builder/cache``)."""
    from composer import settings

    return CacheIndex(settings.state_root() / "builder" / "cache")


def step_layers(index: CacheIndex | None = None) -> dict[str, dict]:
    """``{key: layer record}`` of the entries that recorded a step's layer (not the commits')."""
    index = index or default_index()
    found = {}
    for key, _value in index.entries():
        entry = index.entry(key)
        detail = entry.get("detail") if entry is not None else None
        if isinstance(detail, dict) and isinstance(detail.get("chain"), str):
            found[key] = {**detail, "blob": entry["id"]}  # type: ignore[index]
    return found


def held(index: CacheIndex | None = None) -> tuple[set[str], set[str]]:
    """(blobs, snapshot chain ids) the cached step layers need: the store's gc keeps them."""
    layers = step_layers(index).values()
    return {layer["blob"] for layer in layers}, {layer["chain"] for layer in layers}
