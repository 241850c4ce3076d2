"""The compose commands end to end on the kernel: a web server, a worker waiting on a healthy
service, a one-shot job that must complete first (issue 8's stack)."""

from __future__ import annotations

import glob
import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; while :; do sleep 0.1; done"
STACK = """
services:
  job:
    image: busybox
    command: ["sh", "-c", "echo job done > /data/done"]
    volumes: [data:/data]
  db:
    image: busybox
    command: ["sh", "-c", "echo db up; {loop}"]
    healthcheck: {{test: ["CMD", "true"], interval: 200ms}}
  worker:
    image: busybox
    command: ["sh", "-c", "echo worker $$MODE; {loop}"]
    environment: {{MODE: one}}
    depends_on: {{db: {{condition: service_healthy}}}}
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80", "-h", "/data"]
    stop_signal: SIGKILL
    volumes: [data:/data]
    ports: ["{port}:80"]
    depends_on:
      db: {{condition: service_healthy}}
      job: {{condition: service_completed_successfully}}
volumes:
  data: {{}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A project directory ``app`` and a way to run composer in it."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port

    def write(self, **changes: str) -> None:
        text = STACK.format(loop=LOOP, port=self.port)
        for old, new in changes.items():
            text = text.replace(old, new)
        (self.directory / "compose.yaml").write_text(textwrap.dedent(text))

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "composer", "--progress", "plain", *args], cwd=self.directory,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "composer", "--progress", "plain", *args],
                                cwd=self.directory, capture_output=True, text=True, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def ps(self, *args: str) -> list[dict]:
        return [json.loads(line) for line in self("ps", "--format", "json", *args).stdout.splitlines()]


def bridges(root: Path) -> set[str]:
    """The bridge devices of the networks this state root holds."""
    return {json.loads(p.read_text())["bridge"] for p in (root / "networks").glob("*.json")
            if p.name != "host.json" and "bridge" in json.loads(p.read_text())}


def leftovers(root: Path, ids: list[str], bridge_names: set[str]) -> list[str]:
    """What the project could leave behind: containers, volumes, networks, mounts, cgroups, links."""
    found = [str(p) for sub in ("containers", "volumes") if (root / sub).is_dir() for p in (root / sub).iterdir()]
    found += [str(p) for p in (root / "networks").glob("*.json") if p.name != "host.json"]
    with open("/proc/mounts") as mounts:
        found += [line for line in mounts if str(root) in line or any(i[:12] in line for i in ids)]
    found += [p for i in ids for p in glob.glob(f"/sys/fs/cgroup/*/**/*{i[:12]}*", recursive=True)]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [line for line in links.splitlines() for name in bridge_names if name in line]
    return found


@pytest.fixture
def stack(tmp_path: Path, state_root: Path, busybox_image) -> Iterator[Stack]:
    directory = tmp_path / "app"
    directory.mkdir()
    project = Stack(directory, free_port())
    project.write()
    try:
        yield project
    finally:
        project("down", "-v", "-t", "1", "--remove-orphans", ok=False)


def test_stack_up_ps_logs_exec_run_down(stack: Stack, state_root: Path):
    stack("up", "-d")
    records = {r["Service"]: r for r in stack.ps("-a")}
    assert set(records) == {"job", "db", "worker", "web"}
    assert records["job"]["State"] == "exited" and records["job"]["ExitCode"] == 0
    assert records["db"]["Health"] == "healthy" and records["web"]["State"] == "running"
    assert records["web"]["Publishers"][0]["PublishedPort"] == stack.port
    assert records["web"]["Project"] == "app" and "com.docker.compose.config-hash=" in records["web"]["Labels"]
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/done", timeout=5) as response:
        assert response.read() == b"job done\n"
    logs = stack("logs", "--no-color", "db", "worker").stdout
    assert "db-1      | db up" in logs and "worker-1  | worker one" in logs
    assert stack("logs", "--no-log-prefix", "db").stdout == "db up\n"
    assert stack("exec", "-T", "web", "cat", "/data/done").stdout == "job done\n"
    assert stack("exec", "-T", "web", "sh", "-c", "exit 3", ok=False).returncode == 3
    assert stack("exec", "-T", "worker", "ping", "-c1", "-W2", "web").returncode == 0  # service names resolve
    assert stack("port", "web", "80").stdout.strip() == f"0.0.0.0:{stack.port}"
    run = stack("run", "--rm", "-T", "-e", "X=42", "job", "sh", "-c", "echo run $X")
    assert run.stdout == "run 42\n"
    assert len(stack.ps("-a")) == 4  # the one-off container is gone
    assert stack("ps", "--services").stdout.split() == ["db", "web", "worker"]
    ids = stack("ps", "-a", "-q", "--no-trunc").stdout.split()
    made = bridges(state_root)
    assert made
    stack("down", "-v", "-t", "1")
    assert stack.ps("-a") == []
    assert leftovers(state_root, ids, made) == []


def test_changed_environment_recreates_only_that_service(stack: Stack):
    stack("up", "-d", "db", "worker")
    before = {r["Service"]: r["ID"] for r in stack.ps()}
    stack.write(**{"MODE: one": "MODE: two"})
    stack("up", "-d", "db", "worker")
    after = {r["Service"]: r["ID"] for r in stack.ps()}
    assert after["db"] == before["db"] and after["worker"] != before["worker"]
    assert "worker two" in stack("logs", "worker").stdout
    unchanged = stack("up", "-d", "db", "worker")
    assert "Recreate" not in unchanged.stderr and "Created" not in unchanged.stderr


def test_scale_up_and_down(stack: Stack):
    stack("up", "-d", "--scale", "worker=3", "worker")
    assert sorted(r["Name"] for r in stack.ps() if r["Service"] == "worker") == [
        "app-worker-1", "app-worker-2", "app-worker-3"]
    stack("up", "-d", "--scale", "worker=1", "worker")
    assert [r["Name"] for r in stack.ps() if r["Service"] == "worker"] == ["app-worker-1"]


def test_interrupted_up_is_recovered_by_the_next(stack: Stack):
    process = stack.popen("up", "-d")
    time.sleep(0.8)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    stack("up", "-d")
    records = stack.ps("-a")
    assert sorted(r["Service"] for r in records) == ["db", "job", "web", "worker"]
    assert all(r["State"] == "running" for r in records if r["Service"] != "job")


def test_two_concurrent_ups_make_one_stack(stack: Stack):
    first, second = stack.popen("up", "-d"), stack.popen("up", "-d")
    for process in (first, second):
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert sorted(r["Name"] for r in stack.ps("-a")) == ["app-db-1", "app-job-1", "app-web-1", "app-worker-1"]
