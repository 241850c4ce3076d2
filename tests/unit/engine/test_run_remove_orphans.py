"""``run --remove-orphans``: as Compose, the project's orphans (containers of services the file no
longer has) are stopped and removed first, with their progress lines, with or without dependencies."""

from __future__ import annotations

import pytest

from composer.engine.events import Status
from composer.engine.options import RunOptions
from tests.unit.engine.conftest import lines

OLD = """
services:
  old: {image: busybox}
  web: {image: busybox}
"""
NEW = """
services:
  web: {image: busybox}
  job: {image: busybox}
  dep: {image: busybox, depends_on: [web]}
"""


@pytest.mark.parametrize("run_service", ["job", "dep"])
def test_run_remove_orphans_stops_and_removes_them_first(load, service, fake, events, run_service):
    service.up(load(OLD))
    project = load(NEW)
    events.clear()
    service.prepare_run(project, RunOptions(service=run_service, remove_orphans=True))
    said = lines(events)
    assert [line for line in said if line.startswith("demo-old-1")] == [
        "demo-old-1 Stopping", "demo-old-1 Stopped", "demo-old-1 Removing", "demo-old-1 Removed"]
    assert not [e for e in events if e.status is Status.WARNING]
    assert [c.name for c in fake.list_containers({}, all=True) if c.name == "demo-old-1"] == []


def test_run_without_the_flag_keeps_the_orphan_and_warns(load, service, fake, events):
    service.up(load(OLD))
    events.clear()
    service.prepare_run(load(NEW), RunOptions(service="job"))
    assert [e.text for e in events if e.status is Status.WARNING][0].startswith("Found orphan containers ([demo-old-1])")
    assert "demo-old-1" in [c.name for c in fake.list_containers({}, all=True)]
