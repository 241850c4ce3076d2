"""``Record``: typed, keyword-built data with dict round-trips, without dataclasses' cost.

``container run`` is a latency-critical path: ``@dataclass`` generates and compiles methods for
every class at import time (and pulls in ``inspect``), a few milliseconds per run. A ``Record``
reads its fields from the class annotations once, in ``__init_subclass__``. Defaults are class
attributes; lists, dicts and ``factory(...)`` defaults are created afresh for each instance.
"""

from __future__ import annotations

_MISSING = object()


class factory:  # noqa: N801 - reads like a function at the use site
    """A default made by calling ``make()`` for each new record (``factory(Resources)``)."""

    def __init__(self, make) -> None:
        self.make = make


class Record:
    """Base class: subclasses declare annotated fields (with optional defaults)."""

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            names += [n for n in klass.__dict__.get("__annotations__", {}) if n not in names and n != "_fields"]
        cls._fields = tuple(names)

    def __init__(self, **values: object) -> None:
        for name in self._fields:
            if name in values:
                value = values.pop(name)
            else:
                value = getattr(type(self), name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{type(self).__name__}: missing field {name!r}")
                if isinstance(value, factory):
                    value = value.make()
                elif isinstance(value, (list, dict)):
                    value = value.copy()
            setattr(self, name, value)
        if values:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(values)}")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict:
        """A JSON-ready dict (nested records, lists and tuples converted)."""
        return {name: _plain(getattr(self, name)) for name in self._fields}


def _plain(value: object) -> object:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
