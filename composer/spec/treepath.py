"""Glob patterns over tree paths: ``services.*.ports`` (``*`` any key, ``[]`` any list index)."""

from __future__ import annotations

from functools import lru_cache

from composer.spec.source import Path


@lru_cache(maxsize=None)
def _split(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split("."))


def matches(path: Path, pattern: str) -> bool:
    """Whether ``path`` matches ``pattern`` exactly (same length, each part matching)."""
    parts = _split(pattern)
    if len(parts) != len(path):
        return False
    for want, got in zip(parts, path):
        if want == "*":
            continue
        if want == "[]":
            if not isinstance(got, int):
                return False
        elif want != got:
            return False
    return True
