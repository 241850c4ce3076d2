"""``logs --since/--until`` and ``prune --filter until``: the forms docker takes, and its refusals."""

from __future__ import annotations

import time

import pytest

from composer.cli.containers import _when
from composer.errors import UsageError

NOON = 1795780800.0  # 2026-11-27T12:00:00Z


@pytest.mark.parametrize("text, expected", [
    ("1795780800", NOON), ("1795780800.5", NOON + 0.5), ("2026-11-27T12:00:00Z", NOON),
    ("2026-11-27T12:00:00", NOON), ("2026-11-27T12:00", NOON), ("2026-11-27T13:00:00+01:00", NOON),
    ("2026-11-27T12:00:00.25Z", NOON + 0.25), ("2026-11-27", NOON - 12 * 3600),
    ("2026-11-27Z", NOON - 12 * 3600), ("2026-11-27+01:00", NOON - 13 * 3600)])
def test_times_docker_takes(text, expected):
    assert _when(text, "--since") == pytest.approx(expected)


def test_a_duration_counts_back_from_now():
    assert _when("1h30m", "--since") == pytest.approx(time.time() - 5400, abs=5)


@pytest.mark.parametrize("text", ["-1", "1d", "bogus", "2026-13-01", "10x"])
def test_what_docker_refuses(text):
    with pytest.raises(UsageError, match=f'invalid value for "since": failed to parse value as time or duration: "{text}"'):
        _when(text, "--since")
