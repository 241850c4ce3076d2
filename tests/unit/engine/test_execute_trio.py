"""The trio executor itself against the FakeRuntime: the loop, the one deadline of every wait,
Ctrl-C (a real SIGINT raised into trio), waits that end with the run, and lazy imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable

import pytest

from composer.engine import execute as executor
from composer.engine import labels as L
from composer.engine import opcontext
from composer.engine.api import ProjectService
from composer.engine.events import Status
from composer.engine.execute import execute, first_exit
from composer.engine.options import UpOptions
from composer.engine.plan import Plan
from composer.engine.runtime.base import ContainerSpec
from composer.engine.runtime.fake import Behaviour, FakeRuntime
from composer.errors import PlanError

HEALTHY_CHAIN = """
services:
  db: {image: busybox, healthcheck: {test: [CMD, 'true']}}
  cache: {image: busybox, healthcheck: {test: [CMD, 'true']}, depends_on: {db: {condition: service_healthy}}}
  web: {image: busybox, depends_on: {cache: {condition: service_healthy}}}
"""
HOOKED = """
services:
  web:
    image: busybox
    pre_start:
      - command: [sh, -c, "echo hook"]
"""


@pytest.fixture
def short_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits in slices of 50 ms, so abandoned waiting threads end quickly."""
    monkeypatch.setattr(opcontext, "WAIT_SLICE", 0.05)


def _eventually(condition: Callable[[], bool], limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _slow_health(fake: FakeRuntime, seconds: float) -> None:
    """Every ``wait_health`` answer of ``fake`` takes ``seconds`` more."""
    real = fake.wait_health

    def slow(container_id: str, last: Any, timeout: float) -> Any:
        time.sleep(min(seconds, timeout))
        return real(container_id, last, timeout)

    fake.wait_health = slow


@pytest.fixture
def interrupted(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the executor took a Ctrl-C (its context was interrupted)."""
    seen = threading.Event()
    real = opcontext.OpContext.interrupt

    def interrupt(self: Any) -> None:
        real(self)
        seen.set()

    monkeypatch.setattr(opcontext.OpContext, "interrupt", interrupt)
    return seen


def _create_that_signals(fake: FakeRuntime, signals: list[int], interrupted: threading.Event,
                         running: list[str], release: threading.Event) -> None:
    """``fake.create_container`` sends ``signals`` to this process while it runs (the others once
    the first was taken), then blocks until ``release``."""
    real = fake.create_container

    def create(spec: Any) -> str:
        running.append(spec.name)
        os.kill(os.getpid(), signals[0])
        interrupted.wait(10)
        for number in signals[1:]:
            os.kill(os.getpid(), number)
        release.wait(10)
        running.append("ended")
        return real(spec)

    fake.create_container = create


def test_the_plan_is_walked_by_one_trio_loop_with_events_in_order(load, fake, monkeypatch):
    """Every event (a pull's progress from its worker thread too) reaches the sink from the loop's
    thread, inside trio, one after the other."""
    import trio

    monkeypatch.setenv(executor.EXECUTOR_ENV, "trio")  # the up after the pull is begun wholly early

    seen: list[tuple[str, int, bool]] = []

    def sink(event: Any) -> None:
        try:
            trio.lowlevel.current_trio_token()
            inside = True
        except RuntimeError:
            inside = False
        seen.append((f"{event.name} {event.status.value}", threading.get_ident(), inside))

    project = load("services:\n  db: {image: postgres}\n  web: {image: busybox, depends_on: [db]}\n")
    service = ProjectService(fake, emit=sink)
    service.up(project)
    assert {ident for _, ident, _ in seen} == {threading.get_ident()} and all(inside for *_, inside in seen)
    order = [text for text, *_ in seen]
    assert "db Pulling" in order  # (named by service, as Compose)
    assert order.index("demo-db-1 Started") < order.index("demo-web-1 Starting")


def test_one_deadline_covers_every_wait(load, fake):
    """Two health waits in a row, each shorter than --wait-timeout, together longer: the second
    times out (one deadline for the run, not one per wait)."""
    fake.behaviours["db"] = Behaviour(health=("healthy",))
    fake.behaviours["cache"] = Behaviour(health=("healthy",))
    _slow_health(fake, 0.2)  # two looks per wait (starting, healthy): 0.4 s each
    with pytest.raises(PlanError, match="timed out: wait service:"):
        ProjectService(fake).up(load(HEALTHY_CHAIN), UpOptions(wait_timeout=0.6))
    assert [c.state for c in fake.list_containers({}) if c.name == "demo-web-1"] == ["created"]


def test_pre_start_hook_waits_honour_the_wait_timeout(load, fake, short_slices):
    """A pre_start hook container that never ends fails its service at --wait-timeout."""
    with pytest.raises(PlanError, match="timed out: pre-start service:web") as caught:
        ProjectService(fake).up(load(HOOKED), UpOptions(wait_timeout=0.3))
    assert "--wait-timeout" in caught.value.hint
    assert [c.state for c in fake.list_containers({}) if c.name == "demo-web-1"] == ["created"]


def test_pre_start_hooks_run_through_the_loop(load, fake):
    """The hook's runtime calls and its wait come back from prestart's thread to the loop."""
    fake.behaviours["web"] = Behaviour(exit_code=0)
    ProjectService(fake).up(load(HOOKED))
    assert fake.names() == ["demo-web-1"]  # the hook's container ran to its end and was removed
    assert [c.target for c in fake.calls_of("create")] == ["demo-web-1", "demo-web-1-pre_start-0"]


def test_first_ctrl_c_lets_the_running_call_end_and_starts_nothing(load, fake, interrupted):
    running: list[str] = []
    project = load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n")
    plan = ProjectService(fake).plan_up(project)
    release = threading.Event()
    release.set()  # the create goes on once the Ctrl-C was taken
    _create_that_signals(fake, [signal.SIGINT], interrupted, running, release)
    with pytest.raises(KeyboardInterrupt):
        execute(plan, fake)
    assert running == ["demo-db-1", "ended"]  # db's create was let finish ...
    assert fake.names() == ["demo-db-1"] and not fake.calls_of("start")  # ... nothing began after it


def test_second_ctrl_c_abandons_the_running_call(load, fake, interrupted):
    running: list[str] = []
    release = threading.Event()
    plan = ProjectService(fake).plan_up(load("services:\n  db: {image: busybox}\n"))
    _create_that_signals(fake, [signal.SIGINT, signal.SIGINT], interrupted, running, release)
    try:
        with pytest.raises(KeyboardInterrupt):
            execute(plan, fake)
        assert running == ["demo-db-1"]  # execute returned while the call still ran
    finally:
        release.set()


def test_ctrl_c_ends_a_health_wait_at_once(load, fake, monkeypatch):
    monkeypatch.setattr(opcontext, "WAIT_SLICE", 60.0)
    fake.behaviours["db"] = Behaviour(health=("starting",))  # never healthy: the third look blocks
    plan = ProjectService(fake).plan_up(load(HEALTHY_CHAIN))
    real = fake.wait_health

    def wait_health(container_id: str, last: Any, timeout: float) -> Any:
        if len(fake.calls_of("wait_health")) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return real(container_id, last, timeout)

    fake.wait_health = wait_health
    try:
        with pytest.raises(KeyboardInterrupt):
            execute(plan, fake)
        assert fake.calls_of("wait_health")[-1].end == 0.0  # abandoned while it blocked
        assert not [c for c in fake.calls_of("start") if c.target in ("demo-cache-1", "demo-web-1")]
    finally:
        fake.stop_container("demo-db-1")  # ends the abandoned wait


def test_sigterm_stops_the_run_as_ctrl_c_where_it_raises_keyboard_interrupt(load, fake, interrupted):
    running: list[str] = []
    release = threading.Event()
    release.set()
    plan = ProjectService(fake).plan_up(load("services:\n  db: {image: busybox}\n  web: {image: busybox}\n"))
    _create_that_signals(fake, [signal.SIGTERM], interrupted, running, release)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            execute(plan, fake, parallel=1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(running) == 2  # the other create, queued behind --parallel 1, never ran


def test_waits_abandoned_at_the_deadline_end_with_the_run(load, fake, short_slices):
    """Both replicas' waits time out; their threads are gone soon after."""
    fake.behaviours["db"] = Behaviour(health=("starting",))  # never healthy
    project = load(HEALTHY_CHAIN.replace("db: {image: busybox,", "db: {image: busybox, scale: 2,"))
    with pytest.raises(PlanError, match="timed out"):
        ProjectService(fake).up(project, UpOptions(wait_timeout=0.2))
    assert _eventually(lambda: all(c.end for c in fake.calls_of("wait_health")))


def test_first_exit_leaves_no_waiting_thread(fake, short_slices):
    fake.behaviours["job"] = Behaviour(exit_code=5)
    timeouts: list[float | None] = []
    real_wait = fake.wait_container

    def wait(container_id: str, timeout: float | None = None) -> int | None:
        timeouts.append(timeout)
        return real_wait(container_id, timeout)

    fake.wait_container = wait
    ids = {}
    for service in ("web", "job"):
        cid = fake.create_container(ContainerSpec(name=service, image="busybox", labels={L.SERVICE: service}))
        fake.start_container(cid)
        ids[cid] = service
    assert first_exit(fake, ids) == ("job", 5)
    assert None not in timeouts
    assert _eventually(lambda: all(c.end for c in fake.calls_of("wait")))


def test_an_empty_plan_imports_no_trio_and_a_real_one_does():
    code = """
import sys
from composer.engine.execute import execute
from composer.engine.plan import Plan
from composer.engine.runtime.fake import FakeRuntime
execute(Plan(), FakeRuntime())
print("trio" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_empty_plan_returns_an_empty_result():
    result = execute(Plan(), FakeRuntime())
    assert result.outcomes == {} and result.ids == {}


def test_a_failed_wait_reports_one_error_event_and_skips_dependents(load, fake):
    events: list[Any] = []
    fake.behaviours["db"] = Behaviour(health=("starting", "unhealthy"), output="down")
    with pytest.raises(PlanError, match="is unhealthy"):
        ProjectService(fake, emit=events.append).up(load(HEALTHY_CHAIN))
    errors = [e for e in events if e.status is Status.ERROR]
    assert len(errors) == 1 and errors[0].kind == "Service"
    assert not [c for c in fake.calls_of("start") if c.target in ("demo-cache-1", "demo-web-1")]


def test_an_os_error_in_a_wait_fails_that_operation_not_the_run(load, fake):
    """A wait's OSError (a state file gone under it ...) is a PlanError as a runtime call's is:
    the wait fails and its dependents are skipped; it does not end the run as a bug."""
    def wait_health(container_id: str, last: Any, timeout: float) -> Any:
        raise FileNotFoundError(2, "No such file or directory")

    fake.wait_health = wait_health
    with pytest.raises(PlanError, match="wait_health: .*No such file"):
        ProjectService(fake).up(load(HEALTHY_CHAIN))
    assert not [c for c in fake.calls_of("start") if c.target in ("demo-cache-1", "demo-web-1")]


@pytest.mark.parametrize("args", [["ps", "-a"], ["logs"], ["exec", "-T", "web", "true"]])
def test_commands_that_run_no_plan_never_import_trio(tmp_path, state_root, args):
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: busybox}\n")
    env = {**os.environ, "COMPOSER_ROOT": str(state_root)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "composer", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert "composer.cli.compose" in result.stderr  # the command ran
    assert not [line for line in result.stderr.splitlines() if line.endswith("| trio")]
