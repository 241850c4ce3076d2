"""Compose parity checked against Docker Compose 2.40.3 on dockerd (session 6, cleft): ``stats``'
ids and one-offs, IPv6 port bindings in ``ps``, progress lines of ``down`` and ``up --wait``."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = [pytest.mark.root]

PORTS = """
services:
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    ports: ["18480:80", "[::1]:18481:81", "127.0.0.1:18482:82"]
"""


def test_ps_ports_and_stats_ids_as_compose(project):
    project.write(PORTS)
    project("up", "-d")
    web = project.ps()[0]
    assert web["Ports"] == "0.0.0.0:18480->80/tcp, [::1]:18481->81/tcp, 127.0.0.1:18482->82/tcp"
    assert [p["URL"] for p in web["Publishers"]] == ["0.0.0.0", "::1", "127.0.0.1"]
    one_off = project("run", "-d", "web", "sleep", "30").stdout.strip()
    rows = [json.loads(line) for line in project("stats", "--no-stream", "--format", "json").stdout.splitlines()]
    assert [len(row["Container"]) for row in rows] == [64, 64]  # full ids, as Compose
    assert rows[0]["Container"].startswith(web["ID"]) and rows[1]["Container"] == one_off  # one-offs too
    assert all(row["ID"] == row["Container"][:12] for row in rows)
    untruncated = json.loads(project("stats", "--no-stream", "--no-trunc", "--format", "json").stdout.splitlines()[0])
    assert len(untruncated["ID"]) == 64


WAIT = """
services:
  bad:
    image: busybox
    command: ["sh", "-c", "exit 3"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  ok:
    image: busybox
    command: ["sh", "-c", "{loop}"]
"""


def test_wait_failure_and_network_in_use_are_progress_lines(project):
    project.write(WAIT)
    waited = project("up", "-d", "--wait", ok=False)
    assert waited.returncode == 1 and "Service bad" not in waited.stderr
    assert waited.stderr.splitlines()[-1].startswith("error: container proj-bad-1 exited (3)")
    project("up", "-d", "ok")
    one_off = project.popen("run", "ok", "sleep", "30")
    try:
        for _ in range(200):  # until the one-off runs (it holds the network)
            if "proj-ok-run-" in project("container", "ls").stdout:
                break
            time.sleep(0.1)
        down = project("down", "-t", "0").stderr.splitlines()
    finally:
        one_off.kill()
        one_off.wait()
    assert "level=warning" not in "\n".join(down)
    assert down[-2:] == [" Network proj_default  Removing", " Network proj_default  Resource is still in use"]
