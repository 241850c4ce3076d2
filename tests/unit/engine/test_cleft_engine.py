"""Compose parity in the engine: no stop call for an exited container, a one-off's labels."""

from __future__ import annotations

from composer.engine import labels as L
from composer.engine.options import LifecycleOptions, RunOptions
from tests.unit.engine.conftest import lines

TWO = "services:\n  web: {image: busybox}\n  job: {image: busybox}\n"


def test_stop_and_down_call_no_stop_for_an_exited_container(load, service, fake, events):
    project = load(TWO)
    service.up(project)
    service.stop(project, LifecycleOptions(services=("web",)))
    fake.calls.clear()
    events.clear()
    service.stop(project)  # a mix: web exited, job running
    assert [c.target for c in fake.calls_of("stop")] == ["demo-job-1"]
    assert sorted(lines(events)) == ["demo-job-1 Stopped", "demo-job-1 Stopping", "demo-web-1 Stopped",
                                     "demo-web-1 Stopping"]  # Compose still shows both
    service.start(project, LifecycleOptions(services=("job",)))
    fake.calls.clear()
    service.down(project)
    assert [c.target for c in fake.calls_of("stop")] == ["demo-job-1"] and fake.names() == []


def test_a_one_off_has_no_container_number_as_compose(load, service):
    spec = service.prepare_run(load(TWO), RunOptions(service="job"))
    assert L.CONTAINER_NUMBER not in spec.labels and spec.labels[L.ONEOFF] == "True"
