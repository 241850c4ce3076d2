"""The real-time budget (cgroups v1 ``cpu.rt_runtime_us``) composer's parent cgroup is raised to
for a container's ``--cpu-rt-runtime`` is given back when the container's cgroup goes: lowered to
what the remaining children need, never below it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from composer.engine.runtime.cgroups import CGROUP_ROOT, PARENT, detect_setup, supports_realtime

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(detect_setup() == "unified" or not supports_realtime(),
                                 reason="needs cgroup v1 real-time group scheduling")]
CPU_PARENT = Path(CGROUP_ROOT, "cpu", PARENT)
SHIFT = 20  # the kernel's fixed-point shares: (runtime << 20) // period


def _budget(group: Path) -> tuple[int, int]:
    """(period, runtime) of a cgroup."""
    return int((group / "cpu.rt_period_us").read_text()), int((group / "cpu.rt_runtime_us").read_text())


def _least_runtime_for_children() -> int:
    """The parent's least runtime whose share covers its children's."""
    period, _ = _budget(CPU_PARENT)
    shares = 0
    for child in CPU_PARENT.iterdir():
        try:
            child_period, child_runtime = _budget(child)
        except (NotADirectoryError, FileNotFoundError):
            continue
        shares += (child_runtime << SHIFT) // child_period if child_runtime > 0 else 0
    return -(-(shares * period) >> SHIFT)


def test_the_budget_raised_for_a_container_goes_back_at_its_removal(cli):
    cli("container", "run", "-d", "--name", "rt", "--network", "none", "--cpu-rt-period", "1000000",
        "--cpu-rt-runtime", "40000", "busybox", "sleep", "60", check=True)
    period, raised = _budget(CPU_PARENT)
    assert (raised << SHIFT) // period >= (40_000 << SHIFT) // 1_000_000
    cli("container", "rm", "-f", "rt", check=True)
    deadline = time.monotonic() + 10  # (containers of other tests may start and stop meanwhile)
    while _budget(CPU_PARENT)[1] != _least_runtime_for_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _budget(CPU_PARENT)[1] == _least_runtime_for_children() < raised
