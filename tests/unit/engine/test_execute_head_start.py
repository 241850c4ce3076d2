"""The executor's head start: the calls that can begin at once run while trio is imported."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

from composer.engine import execute as executor
from composer.engine.options import DownOptions
from composer.engine.events import Status
from composer.engine.runtime.fake import Behaviour, FakeRuntime
from composer.errors import ContainerNotFound, PlanError

from .conftest import lines

TWO = "services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n"


@pytest.fixture(autouse=True)
def on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Here every plan is walked on the trio loop (a plan begun wholly early skips it otherwise:
    test_execute_direct.py)."""
    monkeypatch.setenv(executor.EXECUTOR_ENV, "trio")


@pytest.fixture
def importing(monkeypatch: pytest.MonkeyPatch, fake: FakeRuntime) -> Callable[[Callable[[], bool]], list[str]]:
    """``importing(ready)``: trio's import lasts until ``ready()`` (at most 10 s); the list
    returned gets the fake runtime's methods called by then."""

    def arrange(ready: Callable[[], bool]) -> list[str]:
        seen: list[str] = []
        calls: list[int] = []
        real = executor.import_trio

        def slow_import() -> Any:
            if calls:  # the loop's own import_trio(): the module, at once
                return real()
            calls.append(1)
            deadline = time.monotonic() + 10
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.005)
            seen.extend(call.method for call in fake.calls)
            return real()

        monkeypatch.setattr(executor, "import_trio", slow_import)
        return seen

    return arrange


def test_down_is_done_while_trio_is_imported(load, service, fake, events, importing):
    """Stops (dependents first), removals and the network's removal need nothing the loop makes."""
    project = load(TWO)
    service.up(project)
    fake.calls.clear()
    events.clear()
    seen = importing(lambda: bool(fake.calls_of("remove_network")))
    service.down(project)
    assert seen == ["stop", "remove", "stop", "remove", "remove_network"]
    assert [c.target for c in fake.calls_of("stop")] == ["demo-web-1", "demo-db-1"]
    shown = lines(events)  # from the loop, in the plan's order
    assert sorted(shown) == ["demo-db-1 Removed", "demo-db-1 Removing", "demo-db-1 Stopped", "demo-db-1 Stopping",
                             "demo-web-1 Removed", "demo-web-1 Removing", "demo-web-1 Stopped", "demo-web-1 Stopping"]
    assert shown.index("demo-web-1 Stopped") < shown.index("demo-db-1 Stopping")
    assert fake.names() == [] and not fake.networks


def test_up_makes_the_network_and_starts_a_container_while_trio_is_imported(load, service, fake, importing):
    seen = importing(lambda: len(fake.calls_of("create")) == 2 and len(fake.calls_of("start")) == 2)
    service.up(load(TWO))
    assert sorted(seen) == ["create", "create", "ensure_network", "start", "start"]  # web's start after db's
    assert [c.target for c in fake.calls_of("start")] == ["demo-db-1", "demo-web-1"]
    assert [c.state for c in fake.list_containers({})] == ["running", "running"]


def test_a_failed_early_call_leaves_what_follows_to_the_loop(load, service, fake, importing):
    """The removal of a container gone meanwhile fails early; the loop removes the network."""
    project = load(TWO)
    service.up(project)
    real, failed = fake.remove_container, threading.Event()

    def remove(container_id: str, **options: Any) -> None:
        if fake.containers[container_id].summary.name == "demo-db-1":
            failed.set()
            raise ContainerNotFound("gone meanwhile")
        real(container_id, **options)

    fake.remove_container = remove
    seen = importing(failed.is_set)
    service.down(project)
    assert "remove_network" not in seen and not fake.networks


def test_a_parallel_bound_means_no_head_start(load, service, fake, importing):
    project = load(TWO)
    service.up(project)
    fake.calls.clear()
    seen = importing(lambda: True)
    service.down(project, DownOptions(parallel=1))
    assert seen == [] and fake.names() == []


def test_a_stop_begun_early_that_lasts_its_grace_is_still_warned_about(load, service, fake, events, importing):
    """The grace is counted from the stop's beginning (early), not from the loop's turn."""
    project = load("services:\n  web: {image: busybox}\n")
    service.up(project)
    fake.behaviours["web"] = Behaviour(delay=0.4)
    events.clear()
    importing(lambda: bool(fake.calls_of("stop")) and time.monotonic() - fake.calls_of("stop")[0].start > 0.2)
    service.down(project, DownOptions(timeout=0.3))
    assert [e.text for e in events if e.status == Status.WARNING and e.name == "demo-web-1"] == [
        "ignored its stop signal for 0.3s and was killed; set stop_signal to a signal it handles, or init: true"]


def test_ctrl_c_while_trio_is_imported_lets_the_early_calls_end_and_begins_nothing_more(
        load, service, fake, events, importing):
    """The stop under way ends (and is shown); the stop that waited for it never begins."""
    import os
    import signal

    project = load(TWO)
    service.up(project)
    fake.behaviours["web"] = Behaviour(delay=0.3)
    events.clear()
    sent: list[int] = []

    def interrupt_once_web_stops() -> bool:
        if fake.calls_of("stop") and not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # held until the loop runs
        return bool(sent)

    importing(interrupt_once_web_stops)
    with pytest.raises(KeyboardInterrupt):
        service.down(project)
    assert [c.target for c in fake.calls_of("stop")] == ["demo-web-1"]
    assert "demo-web-1 Stopped" in lines(events)
    assert {c.name: c.state for c in fake.list_containers({}, all=True)} == {
        "demo-web-1": "exited", "demo-db-1": "running"}


def test_what_follows_a_call_not_begun_early_is_not_begun_either(load, service, fake, importing):
    """db's stop fails, so its removal never begins, nor the network's removal after it."""
    project = load(TWO)
    service.up(project)
    fake.behaviours["db"] = Behaviour(fail=frozenset({"stop"}))
    fake.calls.clear()

    def settled() -> bool:
        stops = [c for c in fake.calls_of("stop") if c.target == "demo-db-1" and c.end]
        return bool(stops) and time.monotonic() - stops[0].end > 0.2

    seen = importing(settled)
    with pytest.raises(PlanError, match="2 dependent operation"):
        service.down(project)
    assert "remove_network" not in seen and "remove_network" not in [c.method for c in fake.calls]


def test_a_run_that_starts_containers_prepares_them_first_from_its_own_thread(load, service, fake, monkeypatch):
    """The runtime's prepare_starts (the zygote forked) runs before any early call, in the
    caller's thread; a run that starts nothing (down) does not call it."""
    prepared: list[tuple[int, bool, int]] = []

    def prepare() -> None:
        early = [t for t in threading.enumerate() if t.name.startswith("composer-early-")]
        prepared.append((len(fake.calls), threading.current_thread() is threading.main_thread(), len(early)))

    monkeypatch.setattr(fake, "prepare_starts", prepare, raising=False)
    project = load(TWO)
    service.up(project)
    assert prepared == [(0, True, 0)]
    service.down(project)
    assert len(prepared) == 1


def test_early_threads_are_daemons_a_second_ctrl_c_does_not_wait_for() -> None:
    from composer.engine.headstart import Early

    release = threading.Event()
    early = Early("stop_container", lambda: release.wait(10), [], threading.Event(), threading.Event())
    try:
        assert early._thread.daemon and early.began()
    finally:
        release.set()
    assert early.result() is True
