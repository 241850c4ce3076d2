"""Glob patterns over tree paths: ``services.*.ports`` (``*`` any key, ``[]`` any list index).

Rule tables are looked up for every node of a model, so :class:`Rules` compiles its patterns
into a trie: a lookup costs one step per path part instead of one match per pattern.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Generic, Iterable, Mapping, TypeVar

from composer.spec.source import Path

V = TypeVar("V")


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


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.value: tuple[int, object] | None = None


class Rules(Generic[V]):
    """A table of pattern -> value; ``get(path)`` returns the first-listed matching value."""

    def __init__(self, table: Mapping[str, V] | Iterable[str]) -> None:
        self._root = _Node()
        items = table.items() if isinstance(table, Mapping) else ((p, True) for p in table)
        for index, (pattern, value) in enumerate(items):
            if not pattern:
                continue
            node = self._root
            for part in _split(pattern):
                node = node.children.setdefault(part, _Node())
            if node.value is None:
                node.value = (index, value)

    def get(self, path: Path) -> V | None:
        """The value of the first pattern matching ``path``, or None."""
        best = self._find(self._root, path, 0)
        return None if best is None else best[1]  # type: ignore[return-value]

    def __contains__(self, path: Path) -> bool:
        return self._find(self._root, path, 0) is not None

    def _find(self, node: _Node, path: Path, depth: int) -> tuple[int, object] | None:
        if depth == len(path):
            return node.value
        part = path[depth]
        candidates = [node.children.get("*")]
        if isinstance(part, int):
            candidates.append(node.children.get("[]"))
        else:
            candidates.append(node.children.get(part))
        best: tuple[int, object] | None = None
        for child in candidates:
            if child is not None:
                found = self._find(child, path, depth + 1)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
        return best


class Cursor(Generic[V]):
    """A position in a :class:`Rules` trie, moved one path part at a time (for tree walks)."""

    __slots__ = ("nodes", "value")

    def __init__(self, nodes: tuple[_Node, ...]) -> None:
        self.nodes = nodes
        best: tuple[int, object] | None = None
        for node in nodes:
            if node.value is not None and (best is None or node.value[0] < best[0]):
                best = node.value
        self.value: V | None = None if best is None else best[1]  # type: ignore[assignment]
        """The value of the first-listed pattern ending exactly here."""

    def child(self, part: str | int) -> "Cursor[V]":
        """The cursor one part deeper (empty when no pattern can match below)."""
        if not self.nodes:
            return self
        wildcard = "[]" if isinstance(part, int) else part
        key = (self.nodes, wildcard)
        cached = _CHILDREN.get(key)
        if cached is None:
            cached = _CHILDREN[key] = self._child(wildcard)
        return cached

    def _child(self, wildcard: str) -> "Cursor[V]":
        found: list[_Node] = []
        for node in self.nodes:
            for key in ("*", wildcard):
                child = node.children.get(key)
                if child is not None:
                    found.append(child)
        return Cursor(tuple(found)) if found else _EMPTY


_EMPTY: Cursor = Cursor(())
_CHILDREN: dict[tuple[tuple[_Node, ...], str], Cursor] = {}  # trie nodes live as long as their tables


def cursor(rules: Rules[V]) -> Cursor[V]:
    """A cursor at the root of ``rules``."""
    return Cursor((rules._root,))
