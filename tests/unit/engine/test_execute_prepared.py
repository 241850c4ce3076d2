"""Starts prepared while their conditions are awaited: a dependent's start is prepared (all of
it but the exec) while its dependency becomes healthy, then goes; given back when it never will."""

from __future__ import annotations

import pytest

from composer.engine.runtime.fake import Behaviour
from composer.errors import PlanError

HEALTHY = """
services:
  db: {image: busybox, healthcheck: {test: [CMD, 'true']}}
  web: {image: busybox, depends_on: {db: {condition: service_healthy}}}
"""


def _calls(fake) -> list[str]:
    return [f"{c.method} {c.target}" for c in fake.calls if c.method in ("prepare", "start", "abandon", "wait_health")]


def test_a_dependent_is_prepared_while_its_dependency_gets_healthy(load, service, fake):
    fake.behaviours["db"] = Behaviour(health=("starting", "starting", "healthy"))
    service.up(load(HEALTHY))
    calls = _calls(fake)
    assert calls.index("prepare demo-web-1") < max(i for i, c in enumerate(calls) if c == "wait_health demo-db-1")
    assert calls[-1] == "start demo-web-1" and "abandon demo-web-1" not in calls
    assert [c.state for c in fake.list_containers({})] == ["running", "running"]


def test_a_prepared_start_whose_condition_fails_is_given_back(load, service, fake):
    fake.behaviours["db"] = Behaviour(health=("starting", "unhealthy"))
    with pytest.raises(PlanError, match="unhealthy"):
        service.up(load(HEALTHY))
    calls = _calls(fake)
    assert "prepare demo-web-1" in calls and calls[-1] == "abandon demo-web-1"
    assert "start demo-web-1" not in calls
    assert {c.name: c.state for c in fake.list_containers({}, all=True)}["demo-web-1"] == "created"


def test_no_preparation_without_a_condition(load, service, fake):
    service.up(load("services:\n  db: {image: busybox}\n  web: {image: busybox, depends_on: [db]}\n"))
    assert not fake.calls_of("prepare")
