"""Go's durations, read and printed in one place (composer/units.py) for the compose file, the
builder, the CLI's flags and the supervisor's probe messages."""

import pytest

from composer.units import DAYS_WEEKS_NS, duration_ns, format_duration, go_duration


def test_durations_read_as_go_reads_them() -> None:
    assert duration_ns("1h2m3.5s") == 3723_500_000_000
    assert duration_ns("0") == 0 and duration_ns("-1.5s") == -1_500_000_000 and duration_ns(".5ms") == 500_000
    assert duration_ns("1.s") == 10**9 and duration_ns("1us") == duration_ns("1µs") == 1000
    assert duration_ns("2d", DAYS_WEEKS_NS) == 2 * 86400 * 10**9
    for bad in ("5", "", "-", "1d", ".s", "1..2s", "1s2", "1e3s", "9" * 400 + "h", "--1s"):
        with pytest.raises(ValueError):
            duration_ns(bad)
    assert go_duration("1m30s") == 90.0 and go_duration("500ms") == 0.5
    with pytest.raises(ValueError):
        go_duration("-1s")  # (a flag's duration has no sign)


def test_durations_printed_as_go_prints_them() -> None:
    assert format_duration(90 * 10**9) == "1m30s" and format_duration(0) == "0s"
    assert format_duration(1500 * 10**6) == "1.5s" and format_duration(3600 * 10**9) == "1h0m0s"
    assert format_duration(300 * 10**6) == "300ms" and format_duration(-2 * 10**9) == "-2s"
    assert format_duration(5400_500_000_000) == "1h30m0.5s" and format_duration(1500) == "1.5µs"
