"""Compose 2.40's start phase (convergence.go ``startService``): every service of ``up``, ``start``,
``scale`` and ``run``'s dependencies waits for its ``depends_on`` conditions, also one it leaves
running, so a no-change ``up`` says ``db Waiting``/``db Healthy`` and starts an exited one-shot
again, then waits for its exit (``init Waiting``/``init Exited``)."""

from __future__ import annotations

import pytest

from composer.engine.options import LifecycleOptions, UpOptions
from composer.engine.runtime.fake import Behaviour
from composer.errors import PlanError
from tests.unit.engine.conftest import lines

CHAIN = """
services:
  db: {image: busybox, healthcheck: {test: ["CMD", "true"], interval: 1s}}
  api:
    image: busybox
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    depends_on: {db: {condition: service_healthy}}
  web: {image: busybox, depends_on: {api: {condition: service_healthy}}}
"""

ONE_SHOT = """
services:
  init: {image: busybox}
  web: {image: busybox, depends_on: {init: {condition: service_completed_successfully}}}
"""


def test_a_no_change_up_waits_for_the_dependencies_in_order(load, service, fake, events):
    project = load(CHAIN)
    service.up(project)
    events.clear()
    service.up(project)
    assert lines(events) == ["demo-db-1 Running", "demo-api-1 Running", "demo-web-1 Running",
                             "demo-db-1 Waiting", "demo-db-1 Healthy", "demo-api-1 Waiting", "demo-api-1 Healthy"]


def test_a_no_change_up_starts_the_one_shot_again_and_waits_for_its_exit(load, service, fake, events):
    fake.behaviours["init"] = Behaviour(exit_code=0)
    project = load(ONE_SHOT)
    service.up(project)
    events.clear()
    service.up(project)
    assert lines(events) == ["demo-web-1 Running", "demo-init-1 Starting", "demo-init-1 Started",
                             "demo-init-1 Waiting", "demo-init-1 Exited"]
    fake.behaviours["init"] = Behaviour(exit_code=3)
    with pytest.raises(PlanError) as raised:
        service.up(project)
    assert raised.value.message == 'service "init" didn\'t complete successfully: exit 3'  # Compose's %q


def test_up_wait_says_the_dependency_waits_before_its_own(load, service, fake, events):
    """The start phase's waits end before ``--wait``'s Waiting lines, as Compose's two phases."""
    fake.behaviours["init"] = Behaviour(exit_code=0)
    project = load(ONE_SHOT)
    service.up(project)
    events.clear()
    service.up(project, UpOptions(wait=True))
    shown = lines(events)
    assert shown[:5] == ["demo-web-1 Running", "demo-init-1 Starting", "demo-init-1 Started",
                         "demo-init-1 Waiting", "demo-init-1 Exited"]
    assert sorted(shown[5:]) == ["demo-init-1 Exited", "demo-init-1 Waiting", "demo-web-1 Healthy",
                                 "demo-web-1 Waiting"]


def test_start_waits_for_running_dependencies_too(load, service, fake, events):
    project = load(CHAIN)
    service.up(project)
    events.clear()
    service.start(project, LifecycleOptions(services=("web",)))
    assert lines(events) == ["demo-db-1 Waiting", "demo-db-1 Healthy", "demo-api-1 Waiting", "demo-api-1 Healthy"]
    service.stop(project, LifecycleOptions(services=("web",)))
    events.clear()
    service.start(project, LifecycleOptions(services=("web",)))
    assert lines(events)[-2:] == ["demo-web-1 Starting", "demo-web-1 Started"]
    assert lines(events).index("demo-api-1 Healthy") < lines(events).index("demo-web-1 Starting")


def test_no_wait_without_a_start_phase_or_the_dependency(load, service, fake, events):
    """``--no-start`` runs no start phase; ``--no-deps`` leaves the dependency out; a service
    scaled to 0 starts nothing, so waits for nothing."""
    project = load(CHAIN)
    service.up(project)
    for options in (UpOptions(no_start=True), UpOptions(services=("web",), no_deps=True),
                    UpOptions(scale={"web": 0, "api": 0})):
        assert "wait service:api" not in service.plan_up(project, options).text()


def test_a_settled_up_says_the_waits_of_its_healthy_dependencies():
    from composer.engine.settled import _dependency_waits

    names = [("api", "p-api-1", "healthy"), ("db", "p-db-1", "healthy"), ("db", "p-db-2", "healthy"),
             ("web", "p-web-1", None)]
    depends = {"api": {"db": "service_healthy"}, "web": {"api": "service_started", "db": "service_healthy"}}
    order = ["p-db-1", "p-db-2", "p-api-1", "p-web-1"]
    assert _dependency_waits(order, names, depends) == [
        ["p-db-1", "Waiting"], ["p-db-2", "Waiting"], ["p-db-1", "Healthy"], ["p-db-2", "Healthy"]]
    starting = [("api", "p-api-1", "healthy"), ("db", "p-db-1", "starting")]
    assert _dependency_waits(["p-db-1", "p-api-1"], starting, depends) is None  # not yet healthy: plan
    assert _dependency_waits(["p-web-1"], [("web", "p-web-1", None), ("job", "p-job-1", None)],
                             {"web": {"job": "service_completed_successfully"}}) is None  # a wait for an exit
