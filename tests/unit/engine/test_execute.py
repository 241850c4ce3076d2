"""The executor against the FakeRuntime: conditions, failures, concurrency, recreation."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from composer.engine import labels as L
from composer.engine.api import ProjectService
from composer.engine.events import Status
from composer.engine.lock import project_lock
from composer.engine.options import DownOptions, LifecycleOptions, PsOptions, UpOptions
from composer.engine.runtime.fake import Behaviour
from composer.errors import ImageNotFound, PlanError

from .conftest import lines

CONDITIONS = """
services:
  job:
    image: busybox
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  web:
    image: busybox
    depends_on:
      db: {condition: service_healthy}
      job: {condition: service_completed_successfully}
"""


def _index(events, text):
    return lines(events).index(text)


def test_service_healthy_and_completed_gate_the_dependent(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    service.up(load(CONDITIONS))
    assert _index(events, "demo-db-1 Healthy") < _index(events, "demo-web-1 Starting")
    assert _index(events, "demo-job-1 Exited") < _index(events, "demo-web-1 Starting")
    assert "demo-db-1 Waiting" in lines(events)
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "running"


def test_health_wait_blocks_on_events_not_polling(load, service, fake):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    fake.behaviours["db"] = Behaviour(health=("starting", "starting", "healthy"))
    service.up(load(CONDITIONS))
    # one call per transition (and the initial look), never a poll loop
    assert len(fake.calls_of("wait_health")) == 4


def test_unhealthy_dependency_stops_dependents_with_its_last_output(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    fake.behaviours["db"] = Behaviour(health=("starting", "unhealthy"), output="connection refused\n")
    with pytest.raises(PlanError) as caught:
        service.up(load(CONDITIONS))
    assert "container demo-db-1 is unhealthy" in caught.value.message
    assert caught.value.hint == "last healthcheck output: connection refused"
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "created"  # as Compose leaves it
    assert "demo-job-1" in fake.names()  # the rest settles


def test_failed_one_shot_dependency(load, service, fake):
    fake.behaviours["job"] = Behaviour(exit_code=3)
    with pytest.raises(PlanError, match='service "job" didn\'t complete successfully: exit 3'):
        service.up(load(CONDITIONS))
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "created"


def test_optional_dependency_failure_is_a_warning(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=3)
    text = CONDITIONS.replace("service_completed_successfully}", "service_completed_successfully, required: false}")
    service.up(load(text))
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "running"
    assert any(e.status is Status.WARNING and e.text.startswith('optional dependency "job" failed to start')
               for e in events)


def test_dependency_without_healthcheck_is_explained(load, service, fake):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    with pytest.raises(PlanError, match="has no healthcheck configured") as caught:
        service.up(load(CONDITIONS.replace('    healthcheck: {test: ["CMD", "true"], interval: 1s}\n', "")))
    assert "condition: service_started" in caught.value.hint


def test_failure_skips_dependents_and_lets_independent_services_finish(load, service, fake):
    fake.behaviours["db"] = Behaviour(fail=frozenset({"start"}))
    text = """
services:
  db: {image: busybox}
  web: {image: busybox, depends_on: [db]}
  other: {image: busybox}
"""
    with pytest.raises(PlanError) as caught:
        service.up(load(text))
    assert "start service:db:1: start demo-db-1: simulated failure" in caught.value.message
    assert "1 dependent operation(s) not done" in caught.value.message
    assert caught.value.exit_code == 125
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "created"
    assert fake.list_containers({L.SERVICE: "other"})[0].state == "running"
    fake.behaviours.pop("db")
    service.up(load(text))  # the next up reconciles what is left
    assert {c.state for c in fake.list_containers({})} == {"running"}


def test_independent_services_run_in_parallel(load, service, fake):
    text = "services:\n" + "".join(f"  s{i}: {{image: busybox}}\n" for i in range(6))
    for i in range(6):
        fake.behaviours[f"s{i}"] = Behaviour(delay=0.2)
    service.up(load(text))
    creates = fake.calls_of("create")
    assert max(c.start for c in creates) < min(c.end for c in creates)  # all six overlap


def test_parallel_bounds_concurrency(load, service, fake):
    text = "services:\n" + "".join(f"  s{i}: {{image: busybox}}\n" for i in range(4))
    for i in range(4):
        fake.behaviours[f"s{i}"] = Behaviour(delay=0.05)
    service.up(load(text), UpOptions(parallel=1))
    calls = sorted(fake.calls_of("create") + fake.calls_of("start"), key=lambda c: c.start)
    assert all(a.end <= b.start for a, b in zip(calls, calls[1:]))


def test_dependents_wait_for_their_dependency_to_start(load, service, fake):
    fake.behaviours["db"] = Behaviour(delay=0.05)
    service.up(load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n"))
    db_start = next(c for c in fake.calls_of("start") if c.target == "demo-db-1")
    web_start = next(c for c in fake.calls_of("start") if c.target == "demo-web-1")
    assert db_start.end <= web_start.start


def test_recreate_replaces_the_container_under_the_same_name(load, service, fake, events):
    project = load("services:\n  web: {image: busybox, environment: {A: '1'}}\n")
    service.up(project)
    old = fake.list_containers({})[0]
    service.up(load("services:\n  web: {image: busybox, environment: {A: '2'}}\n"))
    new = fake.list_containers({})[0]
    assert new.name == old.name == "demo-web-1" and new.id != old.id
    assert new.labels[L.CONFIG_HASH] != old.labels[L.CONFIG_HASH]
    assert new.labels[L.REPLACE] == old.id
    assert "demo-web-1 Recreated" in lines(events)


def test_missing_image_is_pulled_or_reported(load, service, fake, events):
    project = load("services:\n  web: {image: alpine}\n")
    service.up(project)
    assert "web Pulled" in lines(events, "")  # named by service, as Compose
    assert fake.list_containers({})[0].labels[L.IMAGE] == fake.images["alpine"]
    fake.pullable = False
    with pytest.raises(ImageNotFound, match="pull access denied"):
        ProjectService(fake).up(load("services:\n  web: {image: nothere}\n"))


def test_down_takes_everything_away(load, service, fake, events):
    project = load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db], "
                   "volumes: [data:/d]}\nvolumes: {data: {}}\n")
    service.up(project)
    service.down(project, DownOptions(volumes=True))
    assert fake.names() == [] and fake.networks == {} and fake.volumes == {}
    assert _index(events, "demo-web-1 Stopped") < _index(events, "demo-db-1 Stopping")


def test_lifecycle_commands(load, service, fake):
    project = load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n")
    service.up(project)
    service.pause(project)
    assert {c.state for c in fake.list_containers({})} == {"paused"}
    service.unpause(project)
    service.stop(project, LifecycleOptions(services=("db",)))
    assert [c.name for c in service.ps("demo")] == ["demo-web-1"]
    assert [c.name for c in service.ps("demo", __import__("composer.engine.options", fromlist=["x"]).PsOptions(all=True))] == \
        ["demo-db-1", "demo-web-1"]
    service.start(project, LifecycleOptions(services=("web",)))
    assert {c.state for c in fake.list_containers({})} == {"running"}
    service.kill(project)
    assert {c.exit_code for c in fake.list_containers({})} == {137}
    service.rm(project)
    assert fake.names() == []


def test_project_lock_excludes_a_second_command(state_root: Path):
    with project_lock("demo"):
        with pytest.raises(PlanError, match="busy"):
            with project_lock("demo", timeout=0.1):
                pass
    held, released = threading.Event(), threading.Event()

    def holder() -> None:
        with project_lock("demo"):
            held.set()
            released.wait(2)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(2)
    try:
        with pytest.raises(PlanError):
            with project_lock("demo", timeout=0.1):
                pass
    finally:
        released.set()
        thread.join()
    with project_lock("demo", timeout=1):
        assert (state_root / "projects" / "demo.lock").exists()


def test_up_wait_waits_for_health_and_accepts_finished_one_shots(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    project = load(CONDITIONS)
    service.up(project, UpOptions(wait=True))
    assert "demo-web-1 Healthy" in lines(events) and "demo-db-1 Healthy" in lines(events)
    # as Compose's start phase, web (running) waits for its dependencies all the same
    assert service.plan_up(project, UpOptions(wait=True)).text() == """\
start service:job:1 (container exited)
wait service:db:healthy (service_healthy)
wait service:db:ready (--wait)
wait service:job:completed (service_completed_successfully) <- start service:job:1
wait service:job:ready (--wait) <- start service:job:1
wait service:web:ready (--wait) <- wait service:db:healthy, wait service:job:completed"""


def test_up_wait_fails_fast_on_an_exited_container(load, service, fake):
    fake.behaviours["web"] = Behaviour(exit_code=2)
    with pytest.raises(PlanError, match="container demo-web-1 exited \\(2\\)"):
        service.up(load("services:\n  web: {image: busybox}\n"), UpOptions(wait=True, wait_timeout=5))


def test_prepare_run_starts_dependencies_and_returns_a_one_off_spec(load, service, fake):
    from composer.engine.options import RunOptions

    project = load("""
services:
  db: {image: busybox}
  app:
    image: alpine
    command: [serve]
    ports: ["8080:80"]
    restart: always
    environment: {A: "1"}
    depends_on: [db]
""")
    spec = service.prepare_run(project, RunOptions(service="app", command=("sh",), environment={"B": "2"},
                                                   remove=True))
    assert fake.names() == ["demo-db-1"] and "alpine" in fake.images
    assert spec.name.startswith("demo-app-run-") and len(spec.name) == len("demo-app-run-") + 12
    assert spec.labels[L.ONEOFF] == "True" and len(spec.labels[L.SLUG]) == 64
    assert spec.command == ("sh",) and spec.env == ("A=1", "B=2") and spec.ports == ()
    assert spec.restart.name == "no" and spec.auto_remove
    assert spec.endpoints[0].aliases == (spec.name,)
    fake.create_container(spec)
    assert service.plan_up(project).text() == """\
create service:app:1 (no container)
start service:app:1 (created) <- create service:app:1"""  # one-offs are not replicas


def test_start_without_containers_is_explained(load, service):
    with pytest.raises(PlanError, match="has no container to start"):
        service.start(load("services:\n  web: {image: busybox}\n"))


def test_pull_and_pull_never(load, service, fake, events):
    project = load("services:\n  web: {image: alpine}\n  built: {build: .}\n")
    service.pull(project)
    assert [e.name for e in events if e.status is Status.PULLED] == ["web"]
    with pytest.raises(ImageNotFound, match="pull policy is never"):
        service.up(load("services:\n  web: {image: missing}\n"), UpOptions(pull="never"))


def test_wait_returns_exit_codes(load, service, fake):
    fake.behaviours["job"] = Behaviour(exit_code=4)
    project = load("services:\n  job: {image: busybox}\n")
    service.up(project)
    assert list(service.wait(project)) == [(fake._find("demo-job-1").summary.id, 4)]


def test_no_change_up_reports_running_and_never_imports_trio(tmp_path, state_root):
    import subprocess
    import sys

    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: busybox}\n")
    script = f"""
import sys
from composer.spec.loader import load_project, ProjectOptions
from composer.engine.api import ProjectService
from composer.engine.runtime.fake import FakeRuntime
from composer.engine import labels as L
from composer.engine.runtime.base import ContainerSummary
project = load_project(ProjectOptions(working_dir={str(tmp_path)!r}, environment={{}}))
runtime = FakeRuntime(images={{"busybox": "sha256:b"}})
plan = ProjectService(runtime).plan_up(project)
spec = plan.get("create service:web:1").params["spec"]
runtime.ensure_network(plan.get("create network:default").params["spec"])
runtime.start_container(runtime.create_container(spec))
events = []
ProjectService(runtime, emit=events.append).up(project)
print("trio" in sys.modules, [str(e) for e in events])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"False ['Container {tmp_path.name}-web-1  Running']"


def test_project_lock_refuses_path_like_names(state_root: Path):
    for name in ("../escape", "", "UPPER", "a/b"):
        with pytest.raises(PlanError, match="invalid project name"):
            with project_lock(name):
                pass
    assert not (state_root.parent / "escape.lock").exists()


HOOKS = """
services:
  web:
    image: busybox
    post_start:
      - command: ["sh", "-c", "echo started"]
        user: root
    pre_stop:
      - command: echo bye
"""


def test_lifecycle_hooks_run_after_start_and_before_stop(load, service, fake):
    project = load(HOOKS)
    service.up(project)
    assert fake.execs == [("demo-web-1", ("sh", "-c", "echo started"))]
    service.down(project)
    assert fake.execs[-1] == ("demo-web-1", ("echo", "bye"))
    stop = next(c for c in fake.calls if c.method == "stop")
    pre_stop = [c for c in fake.calls if c.method == "exec_container"][-1]
    assert pre_stop.end <= stop.start


def test_failing_post_start_hook_fails_the_service(load, service, fake):
    fake.behaviours["web"] = Behaviour(fail=frozenset({"exec"}))
    with pytest.raises(PlanError, match="post_start hook 'sh -c echo started' of demo-web-1 exited with 1") as caught:
        service.up(load(HOOKS))
    assert caught.value.hint == "hook failed"


def test_container_ignoring_its_stop_signal_is_named(load, service, fake, events):
    project = load("services:\n  stubborn: {image: busybox}\n")
    service.up(project)
    fake.behaviours["stubborn"] = Behaviour(delay=0.15)
    service.stop(project, LifecycleOptions(timeout=0.1))
    [warning] = [e for e in events if e.status is Status.WARNING]
    assert warning.name == "demo-stubborn-1" and "stop_signal" in warning.text and "init: true" in warning.text


def test_scale_with_and_without_deps(load, service, fake):
    """Compose's e2e intent: scaling a service resets its dependencies to their own scale."""
    project = load("services:\n  db: {image: busybox}\n  back: {image: busybox, depends_on: [db]}\n")
    service.up(project, UpOptions(scale={"db": 2}))
    service.scale(project, {"back": 2}, no_deps=True)
    assert fake.names() == ["demo-back-1", "demo-back-2", "demo-db-1", "demo-db-2"]
    service.scale(project, {"back": 2})
    assert fake.names() == ["demo-back-1", "demo-back-2", "demo-db-1"]
    service.scale(project, {"back": 0})
    assert fake.names() == ["demo-db-1"]


def test_lifecycle_commands_leave_one_off_containers_alone(load, service, fake):
    """Compose's e2e intent: stop/start/restart act on service containers, not on `run` ones."""
    from composer.engine.options import RunOptions

    project = load("services:\n  foo: {image: busybox}\n  bar: {image: busybox, depends_on: [foo]}\n")
    service.up(project)
    spec = service.prepare_run(project, RunOptions(service="bar", command=("sleep", "infinity")))
    fake.start_container(fake.create_container(spec))
    service.stop(project)
    service.restart(project)
    assert fake.list_containers({L.ONEOFF: "True"})[0].state == "running"
    assert not [c for c in fake.calls if c.target == spec.name and c.method in ("stop", "start")][1:]
    assert [c.name for c in service.ps("demo", PsOptions(all=True))] == ["demo-bar-1", spec.name, "demo-foo-1"]
    service.down(project, DownOptions(remove_orphans=True))
    assert fake.names() == []


def test_two_concurrent_ups_never_duplicate(load, fake, state_root: Path):
    project = load("services:\n" + "".join(f"  s{i}: {{image: busybox}}\n" for i in range(4)))
    for i in range(4):
        fake.behaviours[f"s{i}"] = Behaviour(delay=0.03)
    errors: list[BaseException] = []

    def up() -> None:
        try:
            ProjectService(fake, lock_timeout=10).up(project)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert fake.names() == ["demo-s0-1", "demo-s1-1", "demo-s2-1", "demo-s3-1"]
    assert len(fake.calls_of("create")) == 4


def test_a_runtime_bug_surfaces_as_itself_not_as_an_exception_group(load, service, fake):
    def broken(spec):
        raise RuntimeError("adapter bug")

    fake.create_container = broken
    with pytest.raises(RuntimeError, match="adapter bug"):
        service.up(load("services:\n  web: {image: busybox}\n"))


def test_interrupted_up_releases_the_lock_and_the_next_up_finishes(load, service, fake):
    project = load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n")
    real_start = fake.start_container

    def interrupted(container_id):
        raise KeyboardInterrupt

    fake.start_container = interrupted
    with pytest.raises(KeyboardInterrupt):
        service.up(project)
    fake.start_container = real_start
    service.up(project)  # the lock is free and the half-done state is reconciled
    assert {c.state for c in fake.list_containers({})} == {"running"} and len(fake.names()) == 2


def test_wait_first_exit(load, service, fake):
    fake.behaviours["job"] = Behaviour(exit_code=5)
    project = load("services:\n  web: {image: busybox}\n  job: {image: busybox}\n")
    service.up(project)
    assert service.wait_first_exit(project) == ("demo-job-1", 5)
    service.stop(project)
    with pytest.raises(PlanError, match="no container to wait for"):
        service.wait_first_exit(project)


def test_wait_first_exit_counts_an_exit_the_caller_did_not_see(load, service, fake):
    """An exit between the caller's look (``seen``) and the wait is the first exit, not a hang."""
    fake.behaviours["job"] = Behaviour(exit_code=5)
    project = load("services:\n  web: {image: busybox}\n  job: {image: busybox}\n")
    service.up(project)
    service.wait_first_exit(project)  # (the job has ended)
    assert service.wait_first_exit(project, seen=frozenset()) == ("demo-job-1", 5)
    service.stop(project)
    assert service.wait_first_exit(project, seen=frozenset({"demo-job-1"}))[0] == "demo-web-1"


def test_conditions_on_existing_and_scaled_down_dependencies(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=0)
    service.up(load(CONDITIONS), UpOptions(scale={"db": 2}))
    changed = load(CONDITIONS.replace("image: busybox\n    depends_on", "image: busybox\n    environment: [B=1]\n"
                                      "    depends_on"))
    events.clear()
    service.up(changed, UpOptions(scale={"db": 1}))  # waits on db-1 as it is; db-2 goes away first
    assert "demo-db-1 Healthy" in lines(events) and "demo-web-1 Recreated" in lines(events)
    assert [c.name for c in fake.list_containers({L.SERVICE: "db"})] == ["demo-db-1"]


RESTART = """
services:
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  api:
    image: busybox
    depends_on:
      db: {condition: service_healthy, restart: true}
"""


def test_recreating_a_dependency_restarts_dependents_with_restart_true(load, service, fake, events):
    service.up(load(RESTART))
    api = fake.list_containers({L.SERVICE: "api"})[0]
    events.clear()
    service.up(load(RESTART.replace("interval: 1s", "interval: 2s")))
    order = lines(events)
    assert order.index("demo-db-1 Healthy") < order.index("demo-api-1 Restarting") < order.index("demo-api-1 Restarted")
    assert fake.list_containers({L.SERVICE: "api"})[0].id == api.id  # restarted, not recreated


def test_start_and_restart_honour_conditions(load, service, fake, events):
    project = load(RESTART)
    service.up(project)
    service.stop(project)
    events.clear()
    service.start(project, LifecycleOptions(services=("api",)))  # starts db too, waits for health
    order = lines(events)
    assert order.index("demo-db-1 Started") < order.index("demo-db-1 Healthy") < order.index("demo-api-1 Starting")
    events.clear()
    service.restart(project)
    order = lines(events)
    assert order.index("demo-db-1 Restarted") < order.index("demo-api-1 Restarting")


def test_down_rmi_removes_images_and_tolerates_missing_ones(load, service, fake, events):
    project = load("services:\n  web: {image: busybox}\n  app: {build: .}\n")
    fake.images["demo-app"] = "sha256:" + "a" * 64
    service.up(project)
    del fake.images["demo-app"]
    service.down(project, DownOptions(rmi="all"))
    assert "busybox" not in fake.images
    assert any(e.kind == "Image" and e.status is Status.WARNING and e.name == "demo-app" for e in events)


def test_build_needs_a_builder_and_uses_it(load, fake, events, state_root: Path):
    from composer.errors import BuildError

    project = load("services:\n  app: {build: .}\n")
    with pytest.raises(BuildError, match="needs its image 'demo-app' built"):
        ProjectService(fake).up(project)
    built = []

    def builder(service_name: str, reference: str) -> str:
        built.append((service_name, reference))
        fake.images[reference] = "sha256:" + "c" * 64
        return fake.images[reference]

    ProjectService(fake, emit=events.append, builder=builder).up(project)
    assert built == [("app", "demo-app")] and "demo-app Built" in lines(events, "Image")
    assert fake.list_containers({})[0].labels[L.IMAGE] == "sha256:" + "c" * 64


def test_recreate_keeps_anonymous_volumes_unless_renewed(load, service, fake):
    text = "services:\n  db: {image: busybox, volumes: [/var/lib/data], environment: {V: '%s'}}\n"

    def anonymous() -> str:
        [container] = fake.list_containers({})
        return fake.inspect_container(container.id)["Mounts"][0]["Name"]

    service.up(load(text % 1))
    first = anonymous()
    service.up(load(text % 2))
    assert anonymous() == first
    service.up(load(text % 2), UpOptions(renew_anon_volumes=True))
    assert anonymous() != first


def test_every_failure_is_one_error_event(load, service, fake, events):
    fake.behaviours["job"] = Behaviour(exit_code=1)
    fake.behaviours["db"] = Behaviour(fail=frozenset({"start"}))
    with pytest.raises(PlanError):
        service.up(load(CONDITIONS))
    errors = sorted((e.kind, e.name) for e in events if e.status is Status.ERROR)
    assert errors == [("Container", "demo-db-1"), ("Service", "job")]


def test_finished_one_off_containers_are_orphans(load, service, fake, events):
    """Compose's e2e intent: a finished `run` container is cleaned up by up --remove-orphans."""
    from composer.engine.options import RunOptions

    project = load("services:\n  test: {image: busybox}\n")
    spec = service.prepare_run(project, RunOptions(service="test"))
    cid = fake.create_container(spec)
    fake.start_container(cid)
    assert service.ps("demo") == []  # as Compose: ps leaves one-offs out, ps -a lists them
    assert [c.name for c in service.ps("demo", PsOptions(all=True))] == [spec.name]
    service.up(project)
    assert spec.name in fake.names()  # still running: not an orphan
    fake.stop_container(cid)
    events.clear()
    service.up(project)
    assert any(spec.name in e.text for e in events if e.status is Status.WARNING)
    service.up(project, UpOptions(remove_orphans=True))
    assert fake.names() == ["demo-test-1"]


def test_restarting_a_service_restarts_its_restart_true_dependents(load, service, fake, events):
    project = load(RESTART + "  other: {image: busybox, depends_on: [db]}\n")
    service.up(project)
    events.clear()
    service.restart(project, LifecycleOptions(services=("db",)))
    restarted = [e.name for e in events if e.status is Status.RESTARTED]
    assert restarted == ["demo-db-1", "demo-api-1"]  # not other: its edge has no restart: true
    events.clear()
    service.restart(project, LifecycleOptions(services=("db",), no_deps=True))
    assert [e.name for e in events if e.status is Status.RESTARTED] == ["demo-db-1"]


def test_pull_always_and_build_policies_act_once_per_up(load, fake, events, state_root: Path):
    builds = []

    def builder(service_name: str, reference: str) -> str:
        builds.append(reference)
        fake.images[reference] = "sha256:" + "d" * 64
        return fake.images[reference]

    project = load("services:\n  web: {image: busybox, pull_policy: always}\n  app: {build: ., pull_policy: build}\n")
    ProjectService(fake, builder=builder).up(project)
    assert builds == ["demo-app"] and len(fake.calls_of("pull")) == 1


def test_wait_timeout_fails_a_dependency_that_never_turns_healthy(load, service, fake):
    fake.behaviours["db"] = Behaviour(health=("starting",) * 1000)
    fake.wait_health = _slow(fake.wait_health)
    project = load("services:\n  db: {image: busybox, healthcheck: {test: [CMD, 'true']}}\n"
                   "  web: {image: busybox, depends_on: {db: {condition: service_healthy}}}\n")
    with pytest.raises(PlanError, match="timed out: wait service:db:healthy") as caught:
        service.up(project, UpOptions(wait_timeout=0.3))
    assert "--wait-timeout" in caught.value.hint
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "created"


def _slow(wait_health):
    """A wait_health whose every answer takes a while (the fake's health script never ends)."""
    import time

    def slow(container_id, last, timeout):
        time.sleep(min(0.05, timeout))
        return wait_health(container_id, last, timeout)

    return slow


def test_ctrl_c_in_the_scheduler_starts_nothing_more_and_lets_running_calls_end(load, fake, state_root):
    import os
    import signal
    import time

    from composer.engine.execute import execute

    project = load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n")
    fake.behaviours["db"] = Behaviour(delay=0.3)
    plan = ProjectService(fake).plan_up(project)
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C while db is being created
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        execute(plan, fake)
    assert time.monotonic() - started >= 0.25  # db's create was let finish ...
    assert [c.target for c in fake.calls_of("create")] == ["demo-db-1"]  # ... web never began
    assert not fake.calls_of("start")


@pytest.mark.parametrize("text, loops", [
    ("services:\n  web: {image: busybox}\n  db: {image: busybox}\n", "[]"),  # begun wholly early
    ("services:\n  web: {image: busybox, depends_on: {db: {condition: service_healthy}}}\n"
     "  db: {image: busybox, healthcheck: {test: [CMD, 'true']}}\n", "['trio']"),
])
def test_a_plan_runs_on_trio_and_no_other_loop_or_on_none(tmp_path, state_root, text, loops):
    import subprocess
    import sys

    (tmp_path / "compose.yaml").write_text(text)
    code = f"""
import sys
from composer.spec.loader import load_project, ProjectOptions
from composer.engine.api import ProjectService
from composer.engine.runtime.fake import FakeRuntime
project = load_project(ProjectOptions(working_dir={str(tmp_path)!r}, environment={{}}))
fake = FakeRuntime(images={{"busybox": "sha256:" + "b" * 64}})
ProjectService(fake).up(project)
ProjectService(fake).down(project)
print(sorted(m for m in ("trio", "anyio", "asyncio") if m in sys.modules), len(fake.calls_of("start")))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[0] == f"{loops} 2"


def test_a_container_whose_start_failed_after_it_was_reported_is_not_waited_for(monkeypatch):
    """The kernel runtime may record a failure after PID 1 ran (state "created" with an Error):
    a health wait on it ends at once instead of waiting for a change that never comes."""
    from types import SimpleNamespace

    from composer.engine.runtime import adapter

    inspected = {"State": {"Status": "created", "ExitCode": 0, "Error": "no such file: /proc/9/ns/ipc"}}
    monkeypatch.setattr(adapter, "_containers", lambda: SimpleNamespace(inspect=lambda cid: inspected))
    status = adapter.LinuxRuntime().wait_health("c1", None, 1.0)
    assert (status.state, status.exit_code, status.output) == ("exited", 128, "no such file: /proc/9/ns/ipc")


def test_ctrl_c_makes_no_call_that_was_waiting_for_its_parallel_turn(load, fake, state_root):
    import os
    import signal

    from composer.engine.execute import execute

    project = load("services:\n  a: {image: busybox}\n  b: {image: busybox}\n  c: {image: busybox}\n")
    for name in "abc":
        fake.behaviours[name] = Behaviour(delay=0.3)
    plan = ProjectService(fake).plan_up(project)
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C while one create runs
    with pytest.raises(KeyboardInterrupt):
        execute(plan, fake, parallel=1)
    assert len(fake.calls_of("create")) == 1  # the two queued behind --parallel 1 never began


def test_create_warnings_are_warning_lines_of_the_service(load, service, fake, events):
    """Compose shows each of ContainerCreate's warnings as a Warning event of the container."""
    fake.behaviours["web"] = Behaviour(warnings=("Your kernel does not support Block I/O weight or the cgroup "
                                                 "is not mounted. Weight discarded.",))
    service.up(load("services:\n  web: {image: busybox}\n  db: {image: busybox}\n"))
    warned = [(e.name, e.text) for e in events if e.status is Status.WARNING]
    assert warned == [("demo-web-1", fake.behaviours["web"].warnings[0])]
    assert fake.list_containers({L.SERVICE: "web"})[0].state == "running"
