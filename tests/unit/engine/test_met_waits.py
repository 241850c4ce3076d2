"""A wait whose condition holds already (a healthy dependency left running) is planned as met:
its handler says ``Waiting``/``Healthy`` at once and the head start covers it, so a no-change
``up`` of a stack with healthchecks walks its plan without importing trio."""

from __future__ import annotations

import sys

from composer.engine.headstart import HeadStart
from composer.engine.options import UpOptions
from tests.unit.engine.conftest import lines
from tests.unit.engine.test_dependency_waits import CHAIN, ONE_SHOT
from composer.engine.runtime.fake import Behaviour


def _waits(plan) -> dict[str, dict]:
    return {op.resource: op.params.get("met") for op in plan if op.kind == "wait"}


def _covered(plan, runtime) -> bool:
    head = HeadStart()
    head.begin(plan, runtime)
    return head.covers(plan)


def test_healthy_dependencies_left_running_are_met_and_need_no_loop(load, service, fake, events, monkeypatch):
    project = load(CHAIN)
    service.up(project)
    plan = service.plan_up(project)
    assert _waits(plan) == {"service:db:healthy": {"demo-db-1": "Healthy"},
                            "service:api:healthy": {"demo-api-1": "Healthy"}}
    assert _covered(plan, fake)
    events.clear()
    monkeypatch.setitem(sys.modules, "trio", None)  # an import of trio fails: the walk needs none
    service.up(project)
    assert lines(events)[-4:] == ["demo-db-1 Waiting", "demo-db-1 Healthy", "demo-api-1 Waiting", "demo-api-1 Healthy"]


def test_a_wait_on_a_dependency_being_changed_is_not_met(load, service, fake):
    project = load(CHAIN)
    service.up(project)
    plan = service.plan_up(project, UpOptions(recreate="force"))
    assert not any(_waits(plan).values())  # db is recreated: its health is to come
    fake.behaviours["init"] = Behaviour(exit_code=0)
    one_shot = load(ONE_SHOT)
    service.up(one_shot)
    assert _waits(service.plan_up(one_shot)) == {"service:init:completed": {}}  # started again: its exit is to come


def test_up_wait_of_a_settled_project_is_met(load, service, fake):
    project = load(CHAIN)
    service.up(project)
    plan = service.plan_up(project, UpOptions(wait=True))
    assert _waits(plan)["service:web:ready"] == {"demo-web-1": "Running"}  # no healthcheck: running is ready
    assert _waits(plan)["service:db:ready"] == {"demo-db-1": "Healthy"}
