"""``Record``: ``typing.NamedTuple`` without its start-up cost.

Every compose command defines a few dozen immutable records (the runtime protocol's specs and
summaries, the command options, the project model) at import time. ``typing.NamedTuple`` checks
each annotation, and with ``from __future__ import annotations`` that compiles every one of them
into a ``ForwardRef``: about three times the cost of the ``collections.namedtuple`` underneath.
``Record`` makes the same class from the same class body (fields from the annotations, in
order; defaults; docstring, methods and properties kept) and leaves the annotations as text.
Type checkers see ``typing.NamedTuple`` itself.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing itself stays off the hot path
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    class _RecordType(type):
        """Turns a ``class X(Record)`` body into a ``collections.namedtuple`` class."""

        def __new__(mcs, name: str, bases: tuple, namespace: dict):
            if not bases:  # Record itself
                return super().__new__(mcs, name, bases, namespace)
            annotations = namespace.get("__annotations__", {})
            fields = list(annotations)
            defaults = [namespace[field] for field in fields if field in namespace]
            if fields[len(fields) - len(defaults):] != [field for field in fields if field in namespace]:
                raise TypeError(f"{name}: a field without a default follows one with a default")
            record = namedtuple(name, fields, defaults=defaults, module=namespace.get("__module__"))
            for key, value in namespace.items():
                if key not in annotations and key not in ("__module__", "__annotations__"):
                    setattr(record, key, value)
            record.__annotations__ = annotations
            return record

    class Record(metaclass=_RecordType):
        """Base of a record class (as ``typing.NamedTuple``): ``class Point(Record): x: int``."""
