"""Compose's lines and choices that composer follows (session 6 of issue 8): ``down``/``stop`` of
exited containers, one-off containers left by ``down``, the orphan warning's words, the order of
the progress lines (networks first, ``up --wait``'s Waiting/Healthy)."""

from __future__ import annotations

from composer.engine.events import Event, NetworksFirst, Status, WaitWords
from composer.engine.options import DownOptions, LifecycleOptions, RunOptions, UpOptions
from composer.engine.runtime.fake import Behaviour
from tests.unit.engine.conftest import lines

TWO = """
services:
  web: {image: busybox, pre_stop: [{command: ["echo", "bye"]}]}
  job: {image: busybox}
"""


def one_off(service, fake, project, name="job"):
    spec = service.prepare_run(project, RunOptions(service=name))
    cid = fake.create_container(spec)
    fake.start_container(cid)
    fake.stop_container(cid)
    return spec.name


def test_down_and_stop_stop_exited_containers_too_without_their_pre_stop_hook(load, service, fake, events):
    project = load(TWO)
    service.up(project)
    service.stop(project, LifecycleOptions(services=("web",)))
    stop = service.plan_down(project).get("stop service:web:1")
    assert "pre_stop" not in stop.params and stop.params["exited"] is True
    events.clear()
    service.stop(project)
    assert sorted(lines(events)) == ["demo-job-1 Stopped", "demo-job-1 Stopping", "demo-web-1 Stopped",
                                     "demo-web-1 Stopping"]


def test_down_leaves_one_offs_unless_remove_orphans_and_still_removes_the_network(load, service, fake):
    project = load(TWO)
    service.up(project)
    name = one_off(service, fake, project)
    plan = service.plan_down(project)
    assert name not in plan.text() and "remove network:default" in plan.text() and not plan.warnings
    service.down(project)
    assert fake.names() == [name] and fake.networks == {}
    assert f"remove container:{name}" in service.plan_down(project, DownOptions(remove_orphans=True)).text()


def test_down_keeps_networks_while_an_orphan_runs(load, service, fake):
    service.up(load(TWO))
    plan = service.plan_down(load("services:\n  web: {image: busybox}\n"))
    assert "network" not in plan.text()
    assert plan.warnings == ("Network demo_default: Resource is still in use",)


def test_orphan_warning_is_composes_and_said_once(load, service, fake, events):
    project = load(TWO)
    service.up(project)
    first, second = one_off(service, fake, project), one_off(service, fake, project)
    events.clear()
    service.up(project)
    warnings = [e.text for e in events if e.status is Status.WARNING]
    names = f"{second} {first}"  # newest first, as the daemon lists them
    assert warnings == [f"Found orphan containers ([{names}]) for this project. If you removed or renamed "
                        "this service in your compose file, you can run this command with the "
                        "--remove-orphans flag to clean it up."]


def test_networks_first_holds_container_lines_until_the_networks_are_made():
    seen: list[Event] = []
    sink = NetworksFirst(seen.append, {("Network", "p_default")})
    sink(Event("Container", "p-web-1", Status.CREATING))
    sink(Event("Network", "p_default", Status.CREATING))
    sink(Event("Container", "p-web-1", Status.CREATED))
    assert [str(e) for e in seen] == ["Network p_default  Creating"]
    sink(Event("Network", "p_default", Status.CREATED))
    sink(Event("Container", "p-web-1", Status.STARTING))
    assert [f"{e.kind} {e.status.value}" for e in seen] == [
        "Network Creating", "Network Created", "Container Creating", "Container Created", "Container Starting"]


def test_networks_first_passes_what_it_holds_when_the_run_ends():
    seen: list[Event] = []
    sink = NetworksFirst(seen.append, {("Network", "p_default")})
    sink(Event("Container", "p-web-1", Status.CREATING))
    sink.flush()
    assert [e.name for e in seen] == ["p-web-1"]


def test_networks_then_volumes_then_containers():
    """Compose 2.40 creates the networks, then the volumes: their lines in that order."""
    seen: list[Event] = []
    sink = NetworksFirst(seen.append, {("Network", "p_back"), ("Volume", "p_data")})
    for kind, name, status in (("Volume", "p_data", Status.CREATING), ("Container", "p-a-1", Status.CREATING),
                               ("Network", "p_back", Status.CREATING), ("Volume", "p_data", Status.CREATED),
                               ("Network", "p_back", Status.CREATED), ("Container", "p-a-1", Status.CREATED)):
        sink(Event(kind, name, status))
    assert [f"{e.name} {e.status.value}" for e in seen] == [
        "p_back Creating", "p_back Created", "p_data Creating", "p_data Created", "p-a-1 Creating", "p-a-1 Created"]


def test_wait_words_waiting_once_everything_started_then_healthy():
    seen: list[Event] = []
    words = WaitWords(seen.append, ["p-a-1", "p-b-1"], {"p-a-1", "p-b-1"})
    words.begin()
    for name in ("p-a-1", "p-b-1"):
        words(Event("Container", name, Status.STARTED))
    words(Event("Container", "p-b-1", Status.RUNNING, up_wait=True))
    words(Event("Container", "p-a-1", Status.HEALTHY, up_wait=True))
    assert [f"{e.name} {e.status.value}" for e in seen] == [
        "p-a-1 Started", "p-b-1 Started", "p-a-1 Waiting", "p-b-1 Waiting", "p-b-1 Healthy", "p-a-1 Healthy"]


def test_wait_words_hold_a_ready_container_until_everything_started():
    """A container ready while another still starts: its Healthy comes after the Waiting lines,
    also when the other's start fails."""
    for last in (Status.STARTED, Status.ERROR):
        seen: list[Event] = []
        words = WaitWords(seen.append, ["p-a-1", "p-b-1"], {"p-a-1", "p-b-1"})
        words.begin()
        words(Event("Container", "p-a-1", Status.STARTED))
        words(Event("Container", "p-a-1", Status.RUNNING, up_wait=True))
        words(Event("Container", "p-b-1", last))
        middle = ["p-b-1 Started", "p-a-1 Waiting", "p-b-1 Waiting"] if last is Status.STARTED else \
            ["p-a-1 Waiting", "p-b-1 Waiting", "p-b-1 Error"]  # a failure: its Waiting lines first
        assert [f"{e.name} {e.status.value}" for e in seen] == ["p-a-1 Started", *middle, "p-a-1 Healthy"]


def test_wait_words_pass_a_depends_on_wait_and_keep_a_one_shots_exited():
    """As Compose 2.40: a dependency's Waiting/Healthy while the others start come as they come
    (they were held and shown twice after); a one-shot's --wait line is Exited, after the Waiting
    lines."""
    seen: list[Event] = []
    words = WaitWords(seen.append, ["p-db-1", "p-init-1", "p-api-1"], {"p-db-1", "p-init-1", "p-api-1"})
    words.begin()
    for event in (Event("Container", "p-db-1", Status.STARTED), Event("Container", "p-init-1", Status.STARTED),
                  Event("Container", "p-db-1", Status.WAITING), Event("Container", "p-db-1", Status.HEALTHY),
                  Event("Container", "p-init-1", Status.EXITED, up_wait=True),
                  Event("Container", "p-api-1", Status.STARTED),
                  Event("Container", "p-db-1", Status.HEALTHY, up_wait=True),
                  Event("Container", "p-api-1", Status.RUNNING, up_wait=True)):
        words(event)
    assert [f"{e.name} {e.status.value}" for e in seen] == [
        "p-db-1 Started", "p-init-1 Started", "p-db-1 Waiting", "p-db-1 Healthy", "p-api-1 Started",
        "p-db-1 Waiting", "p-init-1 Waiting", "p-api-1 Waiting", "p-init-1 Exited", "p-db-1 Healthy",
        "p-api-1 Healthy"]


def test_up_wait_lines_and_network_first(load, service, fake, events):
    project = load("services:\n  web: {image: busybox}\n  hc: {image: busybox, healthcheck: {test: [CMD, 'true']}}\n")
    service.up(project, UpOptions(wait=True))
    assert [str(e).split(" ", 2)[:2] for e in events[:2]] == [["Network", "demo_default"]] * 2  # first
    assert {"demo-web-1 Waiting", "demo-hc-1 Waiting", "demo-web-1 Healthy", "demo-hc-1 Healthy"} <= set(lines(events))
    assert "Running" not in " ".join(lines(events))
    assert max(i for i, e in enumerate(events) if e.status is Status.STARTED) < \
        min(i for i, e in enumerate(events) if e.status is Status.WAITING)
    events.clear()
    service.up(project, UpOptions(wait=True))  # already running: Running, then Waiting, Healthy
    assert [e.status.value for e in events if e.name == "demo-web-1"] == ["Running", "Waiting", "Healthy"]


def test_up_wait_of_a_service_exiting_fails(load, service, fake):
    import pytest

    from composer.errors import PlanError

    fake.behaviours["quit"] = Behaviour(exit_code=4)
    with pytest.raises(PlanError) as raised:
        service.up(load("services:\n  quit: {image: busybox}\n"), UpOptions(wait=True))
    assert raised.value.exit_code == 1 and "exited (4)" in raised.value.message


def test_run_says_the_orphan_warning_once_with_or_without_dependencies(load, service, fake, events):
    project = load(TWO + "  dep: {image: busybox, depends_on: [web]}\n")
    service.up(project)
    name = one_off(service, fake, project)
    for options in (RunOptions(service="job"), RunOptions(service="dep")):
        events.clear()
        service.prepare_run(project, options)
        warnings = [e.text for e in events if e.status is Status.WARNING]
        assert len(warnings) == 1 and f"([{name}])" in warnings[0]


def test_down_v_keeps_only_the_volumes_a_staying_one_off_uses(load, service, fake):
    project = load("""
services:
  web: {image: busybox, volumes: [other:/other]}
  job: {image: busybox, volumes: [data:/data]}
volumes: {data: {}, other: {}}
""")
    service.up(project)
    one_off(service, fake, project)
    plan = service.plan_down(project, DownOptions(volumes=True))
    assert "remove volume:other" in plan.text() and "remove volume:data" not in plan.text()
    assert "remove network:default" in plan.text()
    assert plan.warnings == ("Volume demo_data: Resource is still in use",)


def test_running_lines_name_only_the_chosen_services_containers(load, service, fake, events):
    project = load(TWO)
    service.up(project)
    spec = service.prepare_run(project, RunOptions(service="job"))
    fake.start_container(fake.create_container(spec))  # a running one-off: never a "Running" line
    events.clear()
    service.up(project, UpOptions(services=("web",)))
    assert lines(events) == ["demo-web-1 Running"]
    events.clear()
    service.up(project)
    assert lines(events) == ["demo-job-1 Running", "demo-web-1 Running"]


def test_down_of_a_service_removes_the_network_unless_another_runs_on_it(load, service, fake):
    project = load(TWO)
    service.up(project)
    plan = service.plan_down(project, DownOptions(services=("web",)))
    assert "remove network" not in plan.text() and plan.warnings == ("Network demo_default: Resource is still in use",)
    service.stop(project, LifecycleOptions(services=("job",)))
    assert "remove network:default" in service.plan_down(project, DownOptions(services=("web",))).text()


def test_a_kept_pre_start_hook_container_is_no_orphan_and_down_removes_it(load, service, fake, events):
    from composer.engine.prestart import HOOK_LABEL

    project = load(TWO)
    service.up(project)
    spec = service.prepare_run(project, RunOptions(service="web"))
    hook = spec._replace(name="demo-web-1-pre_start-1", labels={**spec.labels, HOOK_LABEL: "pre_start"})
    fake.create_container(hook)
    events.clear()
    service.up(project)
    assert not [e for e in events if e.status is Status.WARNING]
    assert "remove container:demo-web-1-pre_start-1" in service.plan_down(project).text()


def test_stop_of_a_stopped_project_says_its_lines_without_the_executor(load, service, fake, events):
    project = load(TWO)
    service.up(project)
    service.stop(project)
    calls, events[:] = len(fake.calls), []
    result = service.stop(project)
    assert sorted(lines(events)) == ["demo-job-1 Stopped", "demo-job-1 Stopping", "demo-web-1 Stopped",
                                     "demo-web-1 Stopping"]
    assert len(fake.calls) == calls and not result.failures  # no runtime call: stopping them is a no-op


CHAIN = """
services:
  db: {image: busybox}
  web: {image: busybox, depends_on: [db]}
  front: {image: busybox, depends_on: [web]}
  solo: {image: busybox}
"""


def test_running_lines_follow_their_dependencies_convergence(load, service, fake, events):
    """Compose 2.40 walks the services in dependency order: a running service's line comes once
    the services it depends on are created (before anything starts); a free one's at once."""
    project = load(CHAIN)
    service.up(project)
    fake.remove_container(fake._find("demo-db-1").summary.id, force=True)
    events.clear()
    service.up(project)
    assert lines(events) == ["demo-solo-1 Running", "demo-db-1 Creating", "demo-db-1 Created",
                             "demo-web-1 Running", "demo-front-1 Running", "demo-db-1 Starting",
                             "demo-db-1 Started"]
    events.clear()
    service.up(project)  # nothing to do: dependencies first
    assert lines(events) == ["demo-db-1 Running", "demo-solo-1 Running", "demo-web-1 Running",
                             "demo-front-1 Running"]


def test_a_settled_up_shows_the_same_order():
    from composer.engine.settled import _in_up_order

    names = [("db", "p-db-1"), ("front", "p-front-1"), ("solo", "p-solo-1"), ("web", "p-web-1")]
    assert _in_up_order(names, {"web": ("db",), "front": ("web",)}) == ["p-db-1", "p-solo-1", "p-web-1", "p-front-1"]


def test_down_keeps_the_containers_of_a_service_its_profiles_disable(load, service, fake):
    """Compose 2.40 walks the enabled services and counts a disabled one's containers as no orphans:
    ``down`` (also ``--remove-orphans``) keeps them and the network they run on; only their
    exited one-offs go with --remove-orphans; ``--profile`` active, they go."""
    from composer.spec.loader import ProjectOptions, load_project

    plain = load(TWO + "  tool: {image: busybox, profiles: [debug]}\n")
    enabled = load_project(ProjectOptions(working_dir=plain.working_dir, environment={}, profiles=("debug",)))
    service.up(enabled)
    oneoff = one_off(service, fake, enabled, "tool")
    for options in (DownOptions(), DownOptions(remove_orphans=True)):
        plan = service.plan_down(plain, options)
        assert "service:tool:1" not in plan.text() and "remove network" not in plan.text()
        assert plan.warnings == ("Network demo_default: Resource is still in use",)
        assert (f"remove container:{oneoff}" in plan.text()) is options.remove_orphans  # (exited)
    assert "remove service:tool:1" in service.plan_down(enabled).text()


def test_restart_waits_only_on_dependencies_marked_restart_true(load, service, fake, events):
    """Compose 2.40's restart drops depends_on edges without ``restart: true``: no Waiting/Healthy
    lines, no wait for the dependency (its restart.go)."""
    project = load("""
services:
  db: {image: busybox, healthcheck: {test: ["CMD", "true"], interval: 1s}}
  api: {image: busybox, depends_on: {db: {condition: service_healthy}}}
""")
    service.up(project)
    events.clear()
    service.restart(project)
    assert sorted(lines(events)) == sorted(f"demo-{name}-1 {word}" for name in ("api", "db")
                                           for word in ("Restarting", "Restarted"))
