"""The remaining container verbs on real containers: top, stats, rename, prune, ls filters,
logs --since/--until, and `system start` bringing restart-policy containers back after a
"reboot" (supervisors killed)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.integration.lifecycle.conftest import supervisor_pid

pytestmark = pytest.mark.root


def _state(cli, name: str) -> str:
    return cli("container", "inspect", "-f", "{{.State.Status}}", name, check=True).stdout.strip()


def test_top_and_stats_read_the_container(cli):
    cli("container", "run", "-d", "--name", "busy", "-m", "64m", "busybox", "sleep", "60", check=True)
    top = cli("container", "top", "busy", check=True).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "CMD"] and "sleep 60" in top[1]
    stats = cli("container", "stats", "--no-stream", "busy", check=True).stdout.splitlines()
    assert stats[0].startswith("CONTAINER ID") and stats[1].split()[1] == "busy"
    assert "/ 64MiB" in stats[1]


def test_rename_prune_and_ls_filters(cli):
    keep = cli("container", "run", "-d", "--name", "one", "-l", "tier=web", "busybox", "sleep", "60",
               check=True).stdout.strip()
    cli("container", "run", "-d", "--name", "two", "busybox", "true", check=True)
    cli("container", "wait", "two", check=True)
    cli("container", "rename", "one", "uno", check=True)
    assert cli("container", "inspect", "-f", "{{.Name}}", keep[:12], check=True).stdout.strip() == "/uno"
    assert cli("container", "inspect", "one").returncode != 0
    named = cli("container", "ls", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").stdout
    assert named == "uno\n"
    exited = cli("container", "ls", "-a", "--filter", "status=exited", "--format", "{{.Names}}").stdout
    assert exited == "two\n"
    listed = json.loads(cli("container", "ls", "--format", "json", check=True).stdout.splitlines()[0])
    assert listed["Names"] == "uno"
    pruned = cli("container", "prune", "-f", check=True).stdout
    assert "Deleted Containers" in pruned
    assert cli("container", "ls", "-a", "--format", "{{.Names}}").stdout == "uno\n"


def test_logs_since_and_until(cli):
    cli("container", "run", "-d", "--name", "talk", "busybox", "sh", "-c", "echo early; sleep 2; echo late",
        check=True)
    cli("container", "wait", "talk", check=True)
    stamped = cli("container", "logs", "-t", "talk", check=True).stdout.splitlines()
    late_time = stamped[1].split()[0]
    assert cli("container", "logs", "--since", late_time, "talk").stdout == "late\n"
    assert cli("container", "logs", "--until", late_time[:19] + "Z", "talk").stdout == "early\n"
    assert cli("container", "logs", "--since", "1h", "talk").stdout == "early\nlate\n"
    bad = cli("container", "logs", "--since", "yesterday", "talk")
    assert bad.returncode != 0 and "--since" in bad.stderr


def test_system_start_brings_back_always_and_unless_stopped(cli, state_root):
    ids = {}
    for name, policy in (("al", "always"), ("us", "unless-stopped"), ("manual", "unless-stopped"), ("no", "no")):
        ids[name] = cli("container", "run", "-d", "--name", name, "--restart", policy, "busybox", "sleep", "60",
                        check=True).stdout.strip()
    cli("container", "stop", "-t", "0", "manual", check=True)
    for name in ("al", "us", "no"):  # a "reboot": every supervisor dies with its container
        os.kill(supervisor_pid(state_root, ids[name]), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_state(cli, n) != "exited" for n in ("al", "us", "no")) and time.monotonic() < deadline:
        time.sleep(0.1)
    started = cli("system", "start", check=True).stdout.split()
    assert sorted(started) == sorted([ids["al"], ids["us"]])
    assert [_state(cli, n) for n in ("al", "us", "manual", "no")] == ["running", "running", "exited", "exited"]
