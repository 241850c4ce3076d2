"""``describe.epoch``: our RFC 3339 stamps to seconds, without strptime on the start-up path."""

from __future__ import annotations

import calendar
import subprocess
import sys
import time

import pytest

from composer.engine.runtime.describe import epoch


@pytest.mark.parametrize("stamp", ["2026-11-23T20:13:45.123456789Z", "1970-01-01T00:00:00Z",
                                   "2024-02-29T23:59:59.5Z", "2026-1-2T3:4:5Z", "0001-01-01T00:00:00Z"])
def test_epoch_is_strptimes(stamp: str):
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    expected = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{fraction or 0}")
    assert epoch(stamp) == expected
    assert epoch("") == 0.0


def test_epoch_refuses_what_is_no_time():
    for text in ("garbage", "2026-13-01T00:00:00Z"):
        with pytest.raises(ValueError):
            epoch(text)


def test_epoch_imports_no_strptime():
    script = ("import sys; from composer.engine.runtime.describe import epoch; epoch('2026-11-23T20:13:45.5Z');"
              "print('_strptime' in sys.modules, 'calendar' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "False"]


def test_composer_s_own_stamps_by_arithmetic_agree_with_the_calendar():
    """The form composer writes is read without datetime; it agrees with calendar.timegm from
    year 1 on, leap days included, and an impossible day is still refused."""
    import calendar
    import random
    import time

    import pytest

    from composer.engine.runtime.describe import epoch

    rng = random.Random(8)
    for _ in range(2000):
        moment = rng.randint(-62_135_596_800, 4_000_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)).rjust(19, "0") + ".5Z"
        assert epoch(stamp) == calendar.timegm(time.gmtime(moment)) + 0.5, stamp
    assert epoch("2024-02-29T00:00:00Z") == 1709164800.0
    with pytest.raises(ValueError):
        epoch("2026-02-30T00:00:00Z")
