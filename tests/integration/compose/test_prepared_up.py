"""A dependent's start prepared while its dependency becomes healthy, on the real runtime: it runs
once the condition holds; when the condition fails, it is left created with nothing held."""

from __future__ import annotations

import glob
import json

import pytest

pytestmark = pytest.mark.root

DEPENDENT = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep {delay}; touch /ready; {loop}"]
    healthcheck: {{test: ["CMD", "{probe}"], interval: 1s, start_interval: 100ms, start_period: {period}, retries: 1}}
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    ports: ["127.0.0.1::80"]
    depends_on: {{db: {{condition: service_healthy}}}}
"""


def _write(project, delay: float, probe: str, period: str = "30s") -> None:
    project.write(DEPENDENT.replace("{delay}", str(delay)).replace("{probe}", probe).replace("{period}", period)
                  .replace("{{", "{").replace("}}", "}"))


def _state(project, service: str) -> dict:
    found = [json.loads(line) for line in project("ps", "-a", "--format", "json", service).stdout.splitlines()]
    return found[0]


def test_a_dependent_runs_once_its_dependency_is_healthy(project):
    _write(project, 1, "true")
    project("up", "-d")
    web = _state(project, "web")
    assert web["State"] == "running"
    assert project("exec", "-T", "web", "true").returncode == 0
    assert project("port", "web", "80").stdout.strip().startswith("127.0.0.1:")


def test_a_dependent_whose_dependency_fails_is_left_created_with_nothing_held(project, state_root):
    _write(project, 0, "false", "1s")  # never healthy: unhealthy at the first failure after its start period
    failed = project("up", "-d", ok=False, timeout=90)
    assert failed.returncode != 0 and "unhealthy" in failed.stderr
    web = _state(project, "web")
    assert web["State"] == "created"
    state_file = next((state_root / "containers").glob(f"{web['ID']}*/state.json"))
    state = json.loads(state_file.read_text())
    assert not state.get("SupervisorPid") and not state.get("Prepared")
    assert glob.glob(f"/sys/fs/cgroup/*/composer/{web['ID']}*") == []
    refused = project("start", "web", ok=False)  # as Compose: start waits for db's health again
    assert refused.returncode == 1 and "dependency failed to start: container proj-db-1 is unhealthy" in refused.stderr
    assert project("container", "start", web["ID"]).returncode == 0  # the start it was kept from works afterwards
    assert _state(project, "web")["State"] == "running"
