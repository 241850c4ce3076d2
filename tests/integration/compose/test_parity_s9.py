"""Compose parity of session 9 (docs/parity-compose.md "Session 9"), checked against Docker Compose
2.40.3 on dockerd 20.10: the start phase's dependency waits of a no-change ``up -d`` (planned and
answered from the settled record), ``start`` of a running project."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

STACK = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "touch /tmp/ready; {loop}"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 300ms}
  init:
    image: busybox
    command: ["true"]
  api:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    depends_on: {db: {condition: service_healthy}}
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    depends_on:
      init: {condition: service_completed_successfully}
      api: {condition: service_started}
"""


def shown(result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines()]


def test_a_no_change_up_waits_for_dependencies_and_restarts_the_one_shot(project):
    """As Compose: Running lines, the exited one-shot started again, db's and init's waits."""
    project.write(STACK)
    project("up", "-d")
    again = shown(project("up", "-d"))
    assert again[:3] == ["Container proj-db-1  Running", "Container proj-api-1  Running",
                         "Container proj-web-1  Running"]
    assert sorted(again[3:]) == sorted(f"Container proj-{name}  {word}" for name, word in (
        ("init-1", "Starting"), ("init-1", "Started"), ("init-1", "Waiting"), ("init-1", "Exited"),
        ("db-1", "Waiting"), ("db-1", "Healthy")))
    assert again.index("Container proj-init-1  Started") < again.index("Container proj-init-1  Waiting")
    project("rm", "-f", "init")  # everything runs: the settled record answers, with db's wait
    settled = [f"Container proj-{name}-1  {word}" for name, word in (
        ("db", "Running"), ("api", "Running"), ("web", "Running"), ("db", "Waiting"), ("db", "Healthy"))]
    project.write(STACK.replace("  init:\n    image: busybox\n    command: [\"true\"]\n", "").replace(
        "      init: {condition: service_completed_successfully}\n", ""))
    project("up", "-d")
    assert shown(project("up", "-d")) == settled
    assert shown(project("up", "-d")) == settled
    assert shown(project("start")) == ["Container proj-db-1  Waiting", "Container proj-db-1  Healthy"]
