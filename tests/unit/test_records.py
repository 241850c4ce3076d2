"""composer.records.Record behaves as the typing.NamedTuple it stands in for."""

from __future__ import annotations

import copy
import pickle

import pytest

from composer.records import Record


class Point(Record):
    """A point."""

    x: int
    y: int = 2
    tags: tuple = ()

    def total(self) -> int:
        return self.x + self.y

    @property
    def double(self) -> int:
        return 2 * self.x


def test_a_record_is_a_tuple_with_named_fields_and_defaults():
    point = Point(1)
    assert point == (1, 2, ()) and isinstance(point, tuple) and point.x == 1 and point[1] == 2
    assert (Point._fields, Point._field_defaults) == (("x", "y", "tags"), {"y": 2, "tags": ()})
    assert Point(1, 3, ("a",)) == Point(x=1, y=3, tags=("a",)) == Point(1, tags=("a",), y=3)
    assert repr(point) == "Point(x=1, y=2, tags=())" and Point.__doc__ == "A point."
    assert point.total() == 3 and point.double == 2 and hash(point) == hash((1, 2, ()))
    assert point._replace(y=5) == Point(1, 5) and type(point._replace(y=5)) is Point
    assert point._asdict() == {"x": 1, "y": 2, "tags": ()} and Point._make([4, 5, 6]) == (4, 5, 6)
    assert not hasattr(point, "__dict__")
    match point:
        case Point(x, y):
            assert (x, y) == (1, 2)


def test_a_record_copies_and_pickles_as_itself():
    point = Point(1, tags=("a",))
    for copied in (copy.copy(point), copy.deepcopy(point), pickle.loads(pickle.dumps(point))):
        assert copied == point and type(copied) is Point


@pytest.mark.parametrize("make", [lambda: Point(), lambda: Point(1, x=2), lambda: Point(1, w=2),
                                  lambda: Point(1, 2, (), 4), lambda: Point(1)._replace(w=1),
                                  lambda: Point._make([1])])
def test_wrong_arguments_are_refused_as_namedtuple_refuses_them(make):
    with pytest.raises((TypeError, ValueError)):
        make()


def test_a_field_without_a_default_after_one_with_a_default_is_refused():
    with pytest.raises(TypeError, match="a field without a default follows one with a default"):
        class Bad(Record):
            a: int = 1
            b: int
