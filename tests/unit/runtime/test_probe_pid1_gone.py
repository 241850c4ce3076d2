"""A healthcheck probe due just as PID 1 exits (before the supervisor has reaped it): no probe, no
error; the supervisor's loop reaps PID 1 next. The exec's "not running" used to end the supervisor
through its failure path, which recorded the stopped container as "created" with that error."""

from __future__ import annotations

import os
import select

from composer.engine.runtime import execute
from composer.engine.runtime.health import HealthMonitor
from composer.engine.runtime.probes import Prober
from composer.errors import ContainerStateError

SPEC = {"Test": ["CMD", "true"], "Interval": int(5e9), "StartInterval": int(0.1e9), "StartPeriod": int(30e9)}


def test_a_probe_due_as_pid1_exits_is_skipped(monkeypatch) -> None:
    def pid1_gone(container_id, pid, request, fds=None, **options):
        raise ContainerStateError(f"Container {container_id} is not running")

    monkeypatch.setattr(execute, "spawn", pid1_gone)
    prober = Prober(HealthMonitor(SPEC, started=0.0), "abc123", None, select.poll())
    before = sorted(os.listdir("/proc/self/fd"))
    prober.tick(12345)  # due long ago
    assert prober.probe is None and prober.health.status == "starting"
    assert sorted(os.listdir("/proc/self/fd")) == before  # its pipe closed
