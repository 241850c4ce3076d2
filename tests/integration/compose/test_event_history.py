"""``events --since`` replays the project's past (removed containers too), and every restart the
runtime makes (the ``restart`` command, ``depends_on: {restart: true}``) is one ``restart`` event."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = [pytest.mark.root]

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]


def replay(project, *args: str) -> list[dict]:
    result = project("events", "--json", *args)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_since_replays_every_action_in_order_even_of_removed_containers(project):
    project.write(f"services:\n  web: {{image: busybox, command: {json.dumps(LOOP)}}}\n")
    project("up", "-d")
    project("restart", "-t", "1")
    middle = time.time()
    time.sleep(0.05)
    project("stop", "-t", "1")
    project("down", "-t", "1")
    records = replay(project, "--since", "10m", "--until", "0s")
    assert [r["action"] for r in records] == ["create", "start", "kill", "die", "stop", "start", "restart",
                                              "kill", "die", "stop", "destroy"]
    assert {r["attributes"]["name"] for r in records} == {"proj-web-1"} and len({r["id"] for r in records}) == 1
    assert [r["attributes"].get("exitCode") for r in records if r["action"] == "die"] == ["0", "0"]
    until_middle = replay(project, "--since", "10m", "--until", str(middle))
    assert [r["action"] for r in until_middle] == ["create", "start", "kill", "die", "stop", "start", "restart"]
    assert [r["action"] for r in replay(project, "--since", str(middle), "--until", "0s")] == [
        "kill", "die", "stop", "destroy"]


def test_a_dependency_recreated_restarts_its_dependent_once(project):
    """``depends_on: {restart: true}``: recreating db (its definition changed) restarts web, which
    ``events`` reports once."""
    compose = f"""
        services:
          db: {{image: busybox, command: {json.dumps(LOOP)}, environment: [MODE=one]}}
          web:
            image: busybox
            command: {json.dumps(LOOP)}
            depends_on: {{db: {{condition: service_started, restart: true}}}}
        """
    project.write(compose)
    project("up", "-d")
    web_id = project.ps("web")[0]["ID"]
    since = time.time()
    project.write(compose.replace("MODE=one", "MODE=two"))
    project("up", "-d", "-t", "1")
    assert project.ps("web")[0]["ID"] == web_id
    web = [r["action"] for r in replay(project, "--since", str(since), "--until", "0s") if r["service"] == "web"]
    assert web == ["kill", "die", "stop", "start", "restart"], web


def test_an_out_of_memory_death_is_an_oom_then_a_die(project):
    project.write("""
        services:
          hog:
            image: busybox
            mem_limit: 16m
            memswap_limit: 16m
            command: ["sh", "-c", "x=$$(head -c 67108864 /dev/zero | tr '\\\\0' a); echo survived"]
        """)
    project("up", "-d")
    deadline = time.monotonic() + 60
    while project.ps("-a")[0]["State"] != "exited":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    records = replay(project, "--since", "10m", "--until", "0s")
    assert [r["action"] for r in records] == ["create", "start", "oom", "die"]
    assert records[-1]["attributes"]["exitCode"] == "137"
