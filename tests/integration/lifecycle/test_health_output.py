"""A starting container's output brings its next healthcheck probe forward: a service that logs
"ready" is probed once its output settles, not a whole start_interval later."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.root

HEALTH = ("--health-cmd", "test -f /tmp/ready", "--health-start-period", "60s", "--health-start-interval", "5s",
          "--health-interval", "30s", "--health-retries", "3")


def _health(cli, name: str) -> dict:
    return json.loads(cli("container", "inspect", name, check=True).stdout)[0]["State"]["Health"]


def _wait_healthy(cli, name: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while (health := _health(cli, name))["Status"] != "healthy" and time.monotonic() < deadline:
        time.sleep(0.1)
    return health


def test_ready_output_is_probed_at_once(cli):
    cli("container", "run", "-d", "--name", "says", *HEALTH, "busybox", "sh", "-c",
        "sleep 0.3; touch /tmp/ready; echo ready; sleep 60", check=True)
    health = _wait_healthy(cli, "says", 3.0)  # the regular schedule's first probe: 5 s after the start
    assert health["Status"] == "healthy" and health["FailingStreak"] == 0
    assert [probe["ExitCode"] for probe in health["Log"]] == [0]


def test_a_quiet_start_keeps_the_start_interval(cli):
    cli("container", "run", "-d", "--name", "quiet", *HEALTH, "busybox", "sh", "-c",
        "sleep 0.3; touch /tmp/ready; sleep 60", check=True)
    time.sleep(2.0)
    health = _health(cli, "quiet")
    assert health["Status"] == "starting" and health["Log"] == []
