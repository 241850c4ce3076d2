"""``builder prune``'s ``until`` (``system prune --filter until=``): only cache entries recorded
before that time go, as buildkit's ``until``; label filters do not reach the build cache."""

from __future__ import annotations

import json
import time
from pathlib import Path

from composer.engine.build.cache import default_index
from composer.engine.build.prune import prune_builder


def _entry(index, key: str, created: float) -> None:
    index.record(key, "sha256:" + "0" * 64)  # a blob the store does not have: a dangling entry
    path = index._path(key)
    path.write_text(json.dumps({**json.loads(path.read_text()), "created": created}))


def test_until_keeps_newer_entries(state_root: Path) -> None:
    index = default_index()
    old, new = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    _entry(index, old, time.time() - 7200)
    _entry(index, new, time.time())
    assert prune_builder(until=time.time() - 3600).keys == [old]
    assert [key for key, _ in index.entries()] == [new]
    assert prune_builder().keys == [new]
