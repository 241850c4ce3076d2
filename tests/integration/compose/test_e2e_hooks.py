"""Lifecycle hooks on the kernel (compose's hooks_test): ``pre_start`` runs once per service in
its own container sharing the service's volumes, before the service starts, in order; not again
on an unchanged ``up`` or a scale-up, again on ``--force-recreate``; a failing hook stops the
service, names its index and exit code and keeps its container until the next run or ``down``.
``post_start``/``pre_stop`` run inside the container."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

HOOKED = """
services:
  web:
    image: busybox
    environment: {WHO: service}
    volumes: [data:/data]
    command: ["sh", "-c", "cat /data/log > /data/seen; {loop}"]
    pre_start:
      - command: ["sh", "-c", "echo A-$$WHO >> /data/log"]
        environment: {WHO: hook}
      - command: ["sh", "-c", "echo B >> /data/log"]
    post_start:
      - command: ["sh", "-c", "echo post > /data/post"]
    pre_stop:
      - command: ["sh", "-c", "echo pre-stop > /data/pre-stop"]
volumes:
  data:
"""


def read(project, path: str) -> str:
    return project("exec", "-T", "web", "cat", path).stdout


def test_pre_start_runs_once_before_the_service_and_again_on_recreate(project):
    project.write(HOOKED)
    project("up", "-d")
    assert read(project, "/data/seen") == "A-hook\nB\n"  # the service saw what the hooks wrote, in order
    assert read(project, "/data/post") == "post\n"
    project("up", "-d")
    project("up", "-d", "--scale", "web=2")
    assert read(project, "/data/log") == "A-hook\nB\n"  # neither unchanged up nor scale-up re-ran it
    project("up", "-d", "--force-recreate", "--scale", "web=2")
    assert read(project, "/data/log") == "A-hook\nB\nA-hook\nB\n"  # once for both replicas
    project("stop", "-t", "5")
    project("start")
    assert read(project, "/data/pre-stop") == "pre-stop\n"
    assert not [r for r in project.ps("-a") if "pre_start" in r["Name"]]  # succeeded hooks are removed


def test_failing_pre_start_stops_the_service_and_keeps_its_container(project):
    project.write("""
        services:
          web:
            image: busybox
            command: ["sh", "-c", "{loop}"]
            pre_start:
              - command: ["sh", "-c", "echo ran-0"]
              - command: ["sh", "-c", "echo broken >&2; exit 17"]
        """)
    result = project("up", "-d", ok=False)
    assert result.returncode == 1
    assert "pre_start[1] exited with code 17: broken" in result.stderr and "retained" in result.stderr
    states = {r["Name"]: r["State"] for r in project.ps("-a")}
    assert states == {"proj-web-1": "created", "proj-web-1-pre_start-1": "exited"}
    assert project("up", "-d", ok=False).returncode == 1  # the next run replaces the kept hook container
    assert sorted(r["Name"] for r in project.ps("-a")) == ["proj-web-1", "proj-web-1-pre_start-1"]
    project("down")
    assert project.ps("-a") == []
