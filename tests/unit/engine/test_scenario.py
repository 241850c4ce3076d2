"""The issue's scenario end to end on the FakeRuntime: web, a worker waiting on a healthy
service, a one-shot job that must complete first; up, ps, change, scale, down -v."""

from __future__ import annotations

from composer.engine import labels as L
from composer.engine.options import DownOptions, UpOptions
from composer.engine.runtime.fake import Behaviour
from composer.engine.status import ps_record

from .conftest import lines

STACK = """
services:
  db:
    image: busybox
    healthcheck: {test: ["CMD-SHELL", "true"], interval: 1s, start_period: 5s}
  migrate:
    image: busybox
    command: ["sh", "-c", "echo migrated"]
    depends_on:
      db: {condition: service_healthy}
  worker:
    image: busybox
    environment: {QUEUE: "jobs"}
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  web:
    image: busybox
    ports: ["8080:80"]
    volumes: [static:/srv]
    depends_on: [worker]
volumes:
  static: {}
"""


def test_the_stack_lives_and_dies(load, service, fake, events):
    fake.behaviours["migrate"] = Behaviour(exit_code=0)
    fake.behaviours["db"] = Behaviour(health=("starting", "starting", "healthy"))
    project = load(STACK)

    service.up(project)
    order = lines(events)
    assert order.index("demo-db-1 Healthy") < order.index("demo-migrate-1 Starting")
    assert order.index("demo-migrate-1 Exited") < order.index("demo-worker-1 Starting")
    assert order.index("demo-worker-1 Started") < order.index("demo-web-1 Starting")
    records = {r["Service"]: r for r in map(ps_record, service.ps("demo", project=project))}
    assert sorted(records) == ["db", "web", "worker"]  # migrate exited: ps without -a hides it
    assert records["web"]["Publishers"][0]["PublishedPort"] == 8080

    changed = load(STACK.replace('QUEUE: "jobs"', 'QUEUE: "mail"'))
    before = {c.name: c.id for c in fake.list_containers({})}
    service.up(changed)
    after = {c.name: c.id for c in fake.list_containers({})}
    assert [n for n in after if after[n] != before[n]] == ["demo-worker-1"]

    service.up(changed, UpOptions(scale={"web": 3}))
    assert len(fake.list_containers({L.SERVICE: "web"})) == 3
    service.up(changed, UpOptions(scale={"web": 1}))
    assert [c.name for c in fake.list_containers({L.SERVICE: "web"})] == ["demo-web-1"]

    service.down(changed, DownOptions(volumes=True))
    assert fake.names() == [] and fake.networks == {} and fake.volumes == {}
