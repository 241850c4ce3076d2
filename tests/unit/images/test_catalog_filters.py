"""``image ls --filter`` pieces that need no store: Go's path.Match and docker's until= values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from composer.engine.images.catalog import _path_pattern, until_instant
from composer.errors import FilterError


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("bb", "bb", True), ("bb:*", "bb:1", True), ("*", "team/bb", False), ("*/bb", "team/bb", True),
    ("b?", "bb", True), ("b[a-c]:1", "bb:1", True), ("a.b", "axb", False), ("b", "bb", False),
])
def test_reference_patterns_are_gos_path_match(pattern: str, text: str, matches: bool) -> None:
    assert bool(_path_pattern(pattern).match(text)) is matches


def test_until_takes_go_durations_rfc3339_and_unix_seconds() -> None:
    now = datetime.now(timezone.utc)
    assert abs(until_instant("1h30m") - (now - timedelta(minutes=90))) < timedelta(seconds=5)
    assert until_instant("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert until_instant("0") == datetime(1970, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(FilterError, match='^failed to parse value as time or duration: "soon"$'):
        until_instant("soon")  # dockerd's words
