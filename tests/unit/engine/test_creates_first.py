"""Compose 2.40's ``up`` creates every container (its convergence) before it starts any: composer
starts a container as soon as its own dependencies allow and shows the lines in Compose's order
(``CreatesFirst``)."""

from __future__ import annotations

from composer.engine.events import CreatesFirst, Event, Status
from tests.unit.engine.conftest import lines

CHAIN = """
services:
  db: {image: busybox, healthcheck: {test: ["CMD", "true"], interval: 1s}}
  api: {image: busybox, depends_on: {db: {condition: service_healthy}}}
  web: {image: busybox, depends_on: [api]}
"""


def test_creates_first_holds_the_starts_until_every_container_is_made():
    seen: list[Event] = []
    sink = CreatesFirst(seen.append, {"p-db-1", "p-web-1"})
    for event in (Event("Container", "p-db-1", Status.CREATING), Event("Container", "p-db-1", Status.CREATED),
                  Event("Container", "p-db-1", Status.STARTING), Event("Container", "p-web-1", Status.CREATING),
                  Event("Container", "p-db-1", Status.STARTED), Event("Container", "p-web-1", Status.CREATED),
                  Event("Container", "p-web-1", Status.STARTING)):
        sink(event)
    assert [f"{e.name} {e.status.value}" for e in seen] == [
        "p-db-1 Creating", "p-db-1 Created", "p-web-1 Creating", "p-web-1 Created", "p-db-1 Starting",
        "p-db-1 Started", "p-web-1 Starting"]
    failed = CreatesFirst(seen.append, {"p-x-1"})
    failed(Event("Container", "p-y-1", Status.STARTING))
    failed(Event("Container", "p-x-1", Status.ERROR, text="refused"))  # a failed create ends the hold
    assert [f"{e.name} {e.status.value}" for e in seen[-2:]] == ["p-x-1 Error", "p-y-1 Starting"]


def test_a_first_up_shows_every_creation_before_any_start(load, service, fake, events):
    service.up(load(CHAIN))
    shown = lines(events)
    assert shown[:6] == [f"demo-{name}-1 {word}" for name in ("db", "api", "web") for word in ("Creating", "Created")]
    assert shown[6:] == ["demo-db-1 Starting", "demo-db-1 Started", "demo-db-1 Waiting", "demo-db-1 Healthy",
                         "demo-api-1 Starting", "demo-api-1 Started", "demo-web-1 Starting", "demo-web-1 Started"]
