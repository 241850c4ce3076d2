"""The walk without a loop: a plan the head start began wholly (a down, the up of services
without conditions) is settled in the caller's thread, with the same events, failures and
Ctrl-C handling as on the trio loop, and without importing trio."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from composer.engine import execute as executor
from composer.engine.events import Status
from composer.engine.options import DownOptions
from composer.engine.runtime.fake import Behaviour, FakeRuntime
from composer.errors import PlanError

from .conftest import lines

TWO = "services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n"
HEALTHY = """
services:
  db: {image: busybox, healthcheck: {test: [CMD, 'true']}}
  web: {image: busybox, depends_on: {db: {condition: service_healthy}}}
"""


@pytest.fixture
def loop_imports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The runs the executor walked on the trio loop (one entry each)."""
    imports: list[int] = []
    real = executor._LoopWalk.run

    def counted(self: Any) -> Any:
        imports.append(1)
        return real(self)

    monkeypatch.delenv(executor.EXECUTOR_ENV, raising=False)
    monkeypatch.setattr(executor._LoopWalk, "run", counted)
    return imports


def test_up_and_down_of_services_without_conditions_need_no_loop(load, service, fake, events, loop_imports):
    project = load(TWO)
    service.up(project)
    assert [c.state for c in fake.list_containers({})] == ["running", "running"]
    assert [c.target for c in fake.calls_of("start")] == ["demo-db-1", "demo-web-1"]
    events.clear()
    service.down(project)
    shown = lines(events)
    assert shown.index("demo-web-1 Stopped") < shown.index("demo-db-1 Stopping")  # dependents first
    assert shown.index("demo-db-1 Removed") < len(shown)
    assert [line for line in lines(events, "Network")] == ["demo_default Removing", "demo_default Removed"]
    assert fake.names() == [] and not fake.networks
    assert loop_imports == []


def test_a_condition_takes_the_loop(load, service, fake, loop_imports):
    service.up(load(HEALTHY))
    assert loop_imports == [1]
    assert [c.state for c in fake.list_containers({})] == ["running", "running"]


def test_the_environment_can_ask_for_the_loop_always(load, service, fake, loop_imports, monkeypatch):
    monkeypatch.setenv(executor.EXECUTOR_ENV, "trio")
    service.up(load(TWO))
    assert loop_imports == [1]


def test_a_failed_call_skips_what_needs_it(load, service, fake, events, loop_imports):
    """db's stop fails: its removal and the network's removal never begin; web's go on."""
    project = load(TWO)
    service.up(project)
    fake.behaviours["db"] = Behaviour(fail=frozenset({"stop"}))
    fake.calls.clear()
    events.clear()
    with pytest.raises(PlanError, match="2 dependent operation"):
        service.down(project)
    assert "remove_network" not in [c.method for c in fake.calls]
    assert [c.target for c in fake.calls_of("remove")] == ["demo-web-1"]
    assert [e.name for e in events if e.status == Status.ERROR] == ["demo-db-1"]
    assert loop_imports == []


def test_the_grace_warning_counts_from_the_early_stop(load, service, fake, events, loop_imports):
    project = load(TWO)
    service.up(project)
    fake.behaviours["web"] = Behaviour(delay=0.4)
    events.clear()
    service.down(project, DownOptions(timeout=0.3))
    assert [e.text for e in events if e.status == Status.WARNING and e.name == "demo-web-1"] == [
        "ignored its stop signal for 0.3s and was killed; set stop_signal to a signal it handles, or init: true"]


def _stop_that_signals(fake: FakeRuntime, count: int, release: threading.Event,
                       release_after: float | None = None) -> None:
    """``fake.stop_container`` sends SIGINT ``count`` times while web's stop runs, then blocks
    until ``release`` (at most 60 s; ``release_after`` s after the signals, when given)."""
    real = fake.stop_container

    def stop(container_id: str, timeout: Any = None) -> Any:
        if fake.containers[container_id].summary.name == "demo-web-1":
            for _ in range(count):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            if release_after is not None:  # (timed from the signals, not from the test's start: load)
                threading.Timer(release_after, release.set).start()
            release.wait(60)
        return real(container_id, timeout)

    fake.stop_container = stop


def test_first_ctrl_c_lets_the_calls_under_way_end_and_begins_nothing_more(
        load, service, fake, events, loop_imports):
    project = load(TWO)
    service.up(project)
    release = threading.Event()
    _stop_that_signals(fake, 1, release, release_after=0.3)
    events.clear()
    with pytest.raises(KeyboardInterrupt):
        service.down(project)
    assert "demo-web-1 Stopped" in lines(events)
    assert {c.name: c.state for c in fake.list_containers({}, all=True)} == {
        "demo-web-1": "exited", "demo-db-1": "running"}
    assert loop_imports == []


def test_second_ctrl_c_abandons_the_calls_under_way(load, service, fake, loop_imports):
    project = load(TWO)
    service.up(project)
    release = threading.Event()
    _stop_that_signals(fake, 2, release)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            service.down(project)
        assert time.monotonic() - started < 30  # not the 60 s the stop would take
    finally:
        release.set()


def test_the_down_of_a_stopped_project_needs_no_loop(load, service, fake, events, loop_imports):
    project = load(TWO)
    service.up(project)
    service.stop(project)
    events.clear()
    service.down(project)
    assert sorted(lines(events)) == ["demo-db-1 Removed", "demo-db-1 Removing", "demo-db-1 Stopped",
                                     "demo-db-1 Stopping", "demo-web-1 Removed", "demo-web-1 Removing",
                                     "demo-web-1 Stopped", "demo-web-1 Stopping"]
    assert [c.method for c in fake.calls].count("stop") == 2  # by stop, none by down
    assert fake.names() == [] and loop_imports == []
