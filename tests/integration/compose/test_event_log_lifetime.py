"""When a project's event log goes (``composer.engine.journal``): ``down`` keeps it (dockerd still
shows a removed project's events after ``down`` + ``up``), ``down -v`` that leaves no container
removes it, and ``system prune`` removes the logs of projects without containers."""

from __future__ import annotations

import os
import time

import pytest

from tests.integration.compose.conftest import WEB

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_down_keeps_the_log_and_down_v_removes_it(project, state_root):
    log = state_root / "events" / f"{project.name}.jsonl"
    project.write(WEB)
    project("up", "-d")
    project("down", "-t", "1")
    project("up", "-d")
    replay = project("events", "--since", "0", "--until", str(int(time.time()) + 1)).stdout
    assert replay.count(" container destroy ") == 1 and replay.count(" container create ") == 2
    project("down", "-v", "web", "-t", "1")  # a service: what is left decides (nothing here)
    assert not log.exists()


def test_system_prune_removes_the_logs_of_projects_without_containers(project, state_root):
    events = state_root / "events"
    project.write(WEB)
    project("create")
    events.joinpath("gone.jsonl.1").write_text('{"time": 1, "id": "x", "after": null}\n')
    coming = '{"time": 1, "id": "y", "before": null, "after": {"Status": "created"}}\n'
    events.joinpath("coming.jsonl").write_text(coming)  # a project being created meanwhile keeps it
    events.joinpath("empty.jsonl").write_text("")
    project("system", "prune", "-f")  # removes the created container, then its project's log
    assert sorted(os.listdir(events)) == ["coming.jsonl", "objects.log"]  # (the images', networks', volumes')
