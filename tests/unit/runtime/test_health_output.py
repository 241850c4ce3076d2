"""A starting container's output brings its next healthcheck probe forward (HealthMonitor)."""

from __future__ import annotations

import pytest

from composer.engine.runtime.health import OUTPUT_SETTLE, HealthMonitor

SPEC = {"Test": ["CMD", "true"], "Interval": int(5e9), "Retries": 3, "StartPeriod": int(30e9),
        "StartInterval": int(0.2e9)}


def test_output_while_starting_probes_once_it_settles():
    monitor = HealthMonitor(SPEC, started=100.0)
    assert monitor.due() == pytest.approx(100.2)
    monitor.output_seen(100.05)
    assert monitor.due() == pytest.approx(100.05 + OUTPUT_SETTLE)
    monitor.output_seen(100.07)  # more output: the probe waits until it is quiet
    assert monitor.due() == pytest.approx(100.07 + OUTPUT_SETTLE)
    monitor.output_seen(100.19)  # never later than the regular schedule
    assert monitor.due() == pytest.approx(100.2)


def test_output_seen_by_a_probe_brings_nothing_forward():
    monitor = HealthMonitor(SPEC, started=100.0)
    monitor.output_seen(100.05)
    monitor.probe_started()
    assert not monitor.record(100.1, 0, 7, "refused")
    assert monitor.due() == pytest.approx(100.3)  # start_interval after the probe's end


def test_output_during_a_probe_probes_again_after_a_quarter_start_interval():
    monitor = HealthMonitor(SPEC, started=100.0)
    monitor.probe_started()
    monitor.output_seen(100.101)  # e.g. "ready to accept connections" while a probe runs
    monitor.record(100.11, 0, 1, "rejecting connections")
    assert monitor.due() == pytest.approx(100.16)  # 100.11 + 0.2 / 4
    monitor.probe_started()
    assert monitor.record(100.17, 0, 0, "accepting connections") and monitor.status == "healthy"


def test_no_nudge_once_healthy_or_after_the_start_period():
    monitor = HealthMonitor(SPEC, started=100.0)
    monitor.record(100.2, 0, 0, "ok")
    monitor.output_seen(100.3)
    assert monitor.due() == pytest.approx(105.2)
    late = HealthMonitor({**SPEC, "StartPeriod": int(1e9)}, started=100.0)
    late.output_seen(101.5)
    assert late.due() == pytest.approx(100.2)
    unset = HealthMonitor({**SPEC, "StartPeriod": 0}, started=100.0)  # no start period: docker's schedule only
    unset.output_seen(100.01)
    assert unset.due() == pytest.approx(105.0)
