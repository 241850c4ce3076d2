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


def test_what_an_up_would_act_on_sends_it_back_to_planning(project, state_root):
    project.write(COMPOSE)
    up(project), up(project)
    project("stop", "-t", "1")  # a stopped container is started again
    assert "Started" in up(project)
    assert [r["State"] for r in project.ps()] == ["running"]
    up(project)
    project.write(COMPOSE.replace("MODE=one", "MODE=two"))  # a changed file recreates
    assert "Recreate" in up(project)
    assert up(project).strip() == "Container proj-web-1  Running"
    (state_file,) = state_root.glob("containers/*/state.json")
    os.kill(json.loads(state_file.read_text())["SupervisorPid"], signal.SIGKILL)  # a dead supervisor
    assert "Started" in up(project)
    assert [r["State"] for r in project.ps()] == ["running"]
    up(project)
    project("down", "-t", "1")  # a removed network
    assert "Network proj_default  Created" in up(project)
