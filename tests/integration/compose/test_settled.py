"""A repeated ``up -d`` with nothing to change answers from the settled record, and anything an
``up`` would act on (a stopped container, a changed file, a dead supervisor, a removed network)
sends it back to planning."""

from __future__ import annotations

import json
import os
import signal

import pytest

pytestmark = [pytest.mark.root]

COMPOSE = """
services:
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    environment: [MODE=one]
"""


def up(project) -> str:
    return project("up", "-d").stderr


def test_no_change_up_is_answered_without_planning(project):
    project.write(COMPOSE)
    assert "Started" in up(project)
    assert up(project).strip() == "Container proj-web-1  Running"
    assert up(project).strip() == "Container proj-web-1  Running"
    assert list((project.directory.parent / "composer-root" / "cache" / "config").glob("*.json"))


def test_stopped_container_is_started_again(project):
    project.write(COMPOSE)
    up(project), up(project)
    project("stop", "-t", "1")
    assert "Started" in up(project)
    assert [r["State"] for r in project.ps()] == ["running"]


def test_changed_file_recreates(project):
    project.write(COMPOSE)
    up(project), up(project)
    project.write(COMPOSE.replace("MODE=one", "MODE=two"))
    assert "Recreate" in up(project)
    assert up(project).strip() == "Container proj-web-1  Running"


def test_dead_supervisor_is_noticed(project, state_root):
    project.write(COMPOSE)
    up(project), up(project)
    (state_file,) = state_root.glob("containers/*/state.json")
    supervisor = json.loads(state_file.read_text())["SupervisorPid"]
    os.kill(supervisor, signal.SIGKILL)
    assert "Started" in up(project)
    assert [r["State"] for r in project.ps()] == ["running"]


def test_removed_network_is_recreated(project):
    project.write(COMPOSE)
    up(project), up(project)
    project("down", "-t", "1")
    assert "Network proj_default  Created" in up(project)
