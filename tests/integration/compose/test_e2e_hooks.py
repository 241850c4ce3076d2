"""Lifecycle hooks on the kernel (compose's hooks_test): ``pre_start`` runs once per service in
its own container sharing the service's volumes, before the service starts, in order; not again
on an unchanged ``up`` or a scale-up, again on ``--force-recreate``; a failing hook stops the
service, names its index and exit code and keeps its container until the next run or ``down``.
``post_start``/``pre_stop`` run inside the container."""

from __future__ import annotations

import re

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


def test_an_attached_up_prints_the_hooks_output_as_logs(project):
    """compose's hook.go: a hook's output goes to the service's log consumer, as ``web-1 ->``."""
    project.write("""
        services:
          web:
            image: busybox
            command: ["sh", "-c", "{loop}"]
            post_start: [{command: ["echo", "hello from post_start"]}]
            pre_stop: [{command: ["echo", "bye from pre_stop"]}]
          job:
            image: busybox
            command: ["sh", "-c", "sleep 1"]
        """)
    result = project("--ansi", "never", "up", "--abort-on-container-exit", "-t", "5", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.search(r"^web-1 -> +\| hello from post_start$", result.stdout, re.M), lines
    assert re.search(r"^web-1 -> +\| bye from pre_stop$", result.stdout, re.M), lines
    assert "hello from post_start" not in project("up", "-d").stdout  # detached: not shown, as compose
