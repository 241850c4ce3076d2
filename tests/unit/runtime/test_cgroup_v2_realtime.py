"""cgroup v2 has no real-time scheduler groups: ``cpu_rt_runtime``/``cpu_rt_period`` (and
``--cpu-rt-*``) are refused in docker's words at create and update, and by the planner on such a
host, never silently dropped (on plain files)."""

from __future__ import annotations

import os

import pytest

from composer.engine.fieldcheck import refuse
from composer.engine.runtime.cgroups import manager_for
from composer.engine.runtime.config import Resources
from composer.errors import CgroupError, PlanError

WORDS = "kernel does not support CPU real-time scheduler"


def _v2(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    os.makedirs(tmp_path / "composer")
    (tmp_path / "composer/cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    return manager_for("abc", str(tmp_path)), tmp_path / "composer/abc"


@pytest.mark.parametrize("resources", [Resources(cpu_rt_runtime=950), Resources(cpu_rt_period=1000)])
def test_v2_create_refuses_realtime_before_making_anything(tmp_path, resources):
    manager, group = _v2(tmp_path)
    with pytest.raises(CgroupError, match=WORDS):
        manager.create(resources, privileged=True)
    assert not group.exists()


def test_v2_update_refuses_realtime_and_takes_the_rest(tmp_path):
    manager, group = _v2(tmp_path)
    manager.create(Resources(), privileged=True)
    with pytest.raises(CgroupError, match=WORDS):
        manager.update(Resources(cpu_rt_runtime=950), frozenset({"cpu_rt_runtime"}))
    manager.update(Resources(pids_limit=10), frozenset({"pids_limit"}))
    assert (group / "pids.max").read_text() == "10"


def test_the_planner_refuses_realtime_where_the_host_has_none(monkeypatch):
    import composer.engine.runtime.cgroups as cgroups

    monkeypatch.setattr(cgroups, "supports_realtime", lambda *args: False)
    with pytest.raises(PlanError, match=WORDS) as caught:
        refuse({"image": "busybox", "cpu_rt_runtime": "400ms"}, "web")
    assert caught.value.location.path == "services.web.cpu_rt_runtime"
    monkeypatch.setattr(cgroups, "supports_realtime", lambda *args: True)
    refuse({"image": "busybox", "cpu_rt_runtime": "400ms", "cpu_rt_period": "1400us"}, "web")  # v1 with RT
