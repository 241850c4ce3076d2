"""``logs -f`` follows the project across a restart and a recreation (docker/compose#8925) and ends
when the project stops; ``events --json`` reports container actions as they happen (no polling)."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest

pytestmark = [pytest.mark.root]

COMPOSE = """
services:
  web:
    image: busybox
    environment: [MODE=one]
    command: ["sh", "-c", "echo hello $$MODE; {loop}"]
"""


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def watching(process) -> bool:
    """The process has its inotify descriptor (its monitor is ready)."""
    import os

    fds = f"/proc/{process.pid}/fd"
    for fd in os.listdir(fds):
        try:
            if os.readlink(f"{fds}/{fd}") == "anon_inode:inotify":
                return True
        except OSError:
            continue  # closed meanwhile
    return False


@contextmanager
def event_records(project) -> Iterator[list[dict]]:
    """``events --json`` runs (its monitor ready) during the block; the records it printed."""
    watcher = project.popen("events", "--json")
    records: list[dict] = []
    reader = threading.Thread(target=lambda: records.extend(json.loads(line) for line in watcher.stdout))
    try:
        wait_for(lambda: watching(watcher))
        reader.start()
        yield records
    finally:
        watcher.terminate()
        watcher.communicate(timeout=10)
        if reader.ident is not None:
            reader.join(timeout=10)


def test_logs_follow_survives_restart_and_recreate(project):
    project.write(COMPOSE)
    project("up", "-d")
    follower = project.popen("logs", "-f", "--no-color")
    out = io.TextIOWrapper(follower.stdout.buffer, newline="\n")  # keeps the exit lines' \r
    try:
        wait_for(lambda: watching(follower))
        seen = [out.readline()]
        project("restart", "-t", "1")
        seen.extend(out.readline() for _ in range(2))  # the exit line and the new run's first
        project.write(COMPOSE.replace("MODE=one", "MODE=two"))
        project("up", "-d")
        seen.extend(out.readline() for _ in range(2))
        project("stop", "-t", "1")
        follower.wait(timeout=30)  # ends by itself once the project stopped
        rest = out.read()
    finally:
        follower.kill()
        follower.communicate()  # reaped and its pipes closed, also when an assertion above failed
    hellos = [line for line in seen if "|" in line]
    assert hellos == ["web-1  | hello one\n", "web-1  | hello one\n", "web-1  | hello two\n"]
    exits = [line for line in seen + re.findall(r"[^\n]*\n", rest) if "|" not in line]  # compose's log printer
    assert len(exits) == 3 and all(re.fullmatch(r"\r\x1b\[Kweb-1 exited with code \d+\n", line) for line in exits), exits


def test_events_json_reports_actions(project):
    """Compose's action names: ``stop`` is kill (signal 15), die, stop; ``kill`` is kill (9), die."""
    project.write(COMPOSE)
    with event_records(project) as records:
        steps = [(("up", "-d"), "start"), (("pause",), "pause"), (("unpause",), "unpause"),
                 (("stop", "-t", "5"), "stop"), (("start",), "start"), (("kill",), "die"),
                 (("down", "-t", "1"), "destroy")]
        for command, last in steps:  # one command's events at a time: no two states seen at once
            seen = len(records)
            project(*command)
            wait_for(lambda: any(r["action"] == last for r in records[seen:]))
    assert [r["action"] for r in records] == ["create", "start", "pause", "unpause", "kill", "die", "stop",
                                              "start", "kill", "die", "destroy"]
    first = records[0]
    assert set(first) == {"time", "type", "service", "id", "action", "attributes"}
    assert first["type"] == "container" and first["service"] == "web" and len(first["id"]) == 64
    assert first["attributes"] == {"image": "busybox", "name": "proj-web-1"}
    assert [(r["attributes"].get("signal"), r["attributes"].get("exitCode")) for r in records[4:6] + records[8:10]] \
        == [("15", None), (None, "0"), ("9", None), (None, "137")]


def test_events_until_ends(project):
    project.write(COMPOSE)
    started = time.monotonic()
    assert project("events", "--until", "1s").returncode == 0
    assert time.monotonic() - started < 20


def test_attached_up_follows_a_service_restarted_by_its_policy(project):
    """compose's TestAttachRestart: every run's output and exit line, until the policy gives up."""
    project.write("""
        services:
          failing:
            image: busybox
            command: ["sh", "-c", "sleep 0.2; echo world; exit 1"]
            restart: on-failure:2
        """)
    result = project("--ansi", "never", "up", timeout=120)
    assert result.stdout.count("failing-1  | world\n") == 3
    assert result.stdout.count("failing-1 exited with code 1\n") == 3


def test_events_restart_and_since(project):
    """``restart`` ends with docker's ``start``, ``restart``; ``--since`` first replays the
    project's event log (every action since then, in order), ``--until`` ends it."""
    project.write(COMPOSE)
    project("up", "-d")
    with event_records(project) as records:
        project("restart", "-t", "1")
        wait_for(lambda: any(r["action"] == "restart" for r in records))
    actions = [r["action"] for r in records]
    assert actions[0] == "kill" and "die" in actions and actions[-2:] == ["start", "restart"], actions
    replay = project("events", "--json", "--since", "10m", "--until", "0s").stdout.splitlines()
    assert [json.loads(line)["action"] for line in replay] == ["create", "start", "kill", "die", "stop", "start",
                                                               "restart"]
    assert project("events", "--since", "0s", "--until", "0s").stdout == ""
