"""``Record``: ``typing.NamedTuple`` without its start-up cost.

Every compose command defines a few dozen immutable records (the runtime protocol's specs and
summaries, the command options, the project model) at import time. ``typing.NamedTuple`` checks
each annotation, and with ``from __future__ import annotations`` that compiles every one of them
into a ``ForwardRef``: about three times the cost of the ``collections.namedtuple`` underneath.
``Record`` makes the same kind of class from the same class body (fields from the annotations,
in order; defaults; docstring, methods and properties kept), leaves the annotations as text and
builds the tuple class itself rather than through ``collections.namedtuple``.
Type checkers see ``typing.NamedTuple`` itself.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself stays off the hot path
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    from _collections import _tuplegetter  # the C accessor collections.namedtuple uses

    _tuple_new = tuple.__new__

    def _make_new(name: str, fields: tuple[str, ...], defaults: dict[str, object]):
        """The ``__new__`` of a record: positional values, then keywords, then the defaults."""
        count = len(fields)

        def __new__(cls, *args, **kwargs):
            if not kwargs and len(args) == count:
                return _tuple_new(cls, args)
            if len(args) > count:
                raise TypeError(f"{name}() takes {count} positional arguments but {len(args)} were given")
            values = list(args)
            for field in fields[len(args):]:
                if field in kwargs:
                    values.append(kwargs.pop(field))
                elif field in defaults:
                    values.append(defaults[field])
                else:
                    raise TypeError(f"{name}() missing required argument: {field!r}")
            if kwargs:
                unexpected = next(iter(kwargs))
                if unexpected in fields:
                    raise TypeError(f"{name}() got multiple values for argument {unexpected!r}")
                raise TypeError(f"{name}() got an unexpected keyword argument {unexpected!r}")
            return _tuple_new(cls, values)

        __new__.__qualname__ = f"{name}.__new__"
        return __new__

    def _replace(self, **changes):
        """A copy with ``changes`` (as namedtuple's ``_replace``)."""
        values = [changes.pop(field, value) for field, value in zip(self._fields, self)]
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return _tuple_new(type(self), values)

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def _repr(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={v!r}' for f, v in zip(self._fields, self))})"

    def _getnewargs(self) -> tuple:
        return tuple(self)

    @classmethod
    def _make(cls, iterable):
        values = tuple(iterable)
        if len(values) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(values)}")
        return _tuple_new(cls, values)

    class _RecordType(type):
        """Turns a ``class X(Record)`` body into a tuple class with what ``collections.namedtuple``
        gives (``_fields``, ``_field_defaults``, ``_replace``, ``_asdict``, ``_make``, the repr):
        made directly, without the source namedtuple compiles for each class (0.18 ms apiece,
        and a compose command defines a few dozen)."""

        def __new__(mcs, name: str, bases: tuple, namespace: dict):
            if not bases:  # Record itself
                return super().__new__(mcs, name, bases, namespace)
            annotations = namespace.get("__annotations__", {})
            fields = tuple(annotations)
            defaults = {field: namespace[field] for field in fields if field in namespace}
            if fields[len(fields) - len(defaults):] != tuple(defaults):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            for field in fields:
                if field.startswith("_") or not field.isidentifier():
                    raise ValueError(f"{name}: invalid field name {field!r}")
            body = {"__slots__": (), "__module__": namespace.get("__module__"), "__qualname__":
                    namespace.get("__qualname__", name), "__doc__": namespace.get("__doc__") or f"{name}{fields}",
                    "_fields": fields, "_field_defaults": defaults, "__match_args__": fields,
                    "__new__": _make_new(name, fields, defaults), "_replace": _replace, "_asdict": _asdict,
                    "_make": _make, "__repr__": _repr, "__getnewargs__": _getnewargs}
            body.update((field, _tuplegetter(index, f"Alias for field number {index}"))
                        for index, field in enumerate(fields))
            for key, value in namespace.items():
                if key not in annotations and key not in ("__module__", "__annotations__", "__qualname__", "__doc__"):
                    body[key] = value
            record = type.__new__(type, name, (tuple,), body)
            record.__annotations__ = annotations
            return record

    class Record(metaclass=_RecordType):
        """Base of a record class (as ``typing.NamedTuple``): ``class Point(Record): x: int``."""
