"""examples/postgres-api end to end, the everyday flow of its README, on the kernel.

up -d --wait -> POST/GET through nginx -> ps all healthy -> logs api -> exec db psql -> edit the
api and ``up -d --build`` recreates only the api, rows kept -> down + up keeps rows -> one-off
``run --rm api`` -> down -v removes the data volume. A copy of the example in a temporary
directory, the example images imported into the module's private state root, free host ports.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.examples.conftest import REPO

pytestmark = [pytest.mark.root, pytest.mark.slow]

EXAMPLE = REPO / "examples" / "postgres-api"
VERSION_ROUTE = '''

@app.get("/version")
def version() -> dict[str, str]:
    """Added by the test: proves the rebuilt image runs the edited source."""
    return {"version": "2"}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The example's copy, and composer run in it with the test's ports."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {"WEB_PORT": str(free_port()), "API_PORT": str(free_port())}

    def __call__(self, *args: str, ok: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
        import os

        result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=self.directory, text=True,
                                capture_output=True, timeout=timeout, env={**os.environ, **self.env})
        assert not ok or result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def http(self, path: str, data: dict | None = None, port: str = "WEB_PORT") -> object:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.env[port]}{path}", data=body,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def ids(self) -> dict[str, str]:
        """service -> container id of the running containers."""
        rows = [json.loads(line) for line in self("ps", "--format", "json").stdout.splitlines()]
        return {row["Service"]: row["ID"] for row in rows}


@pytest.fixture
def stack(tmp_path: Path, example_image) -> Iterator[Stack]:
    for name in ("postgres", "python", "nginx"):
        example_image(name)  # imported once per module into its state root (COMPOSER_ROOT is set)
    directory = tmp_path / "postgres-api"
    shutil.copytree(EXAMPLE, directory)
    made = Stack(directory)
    try:
        yield made
    finally:
        made("down", "-v", "-t", "2", "--rmi", "local", "--remove-orphans", ok=False)


def watch_reloads_the_api(stack: Stack) -> None:
    """``composer watch --no-up``: an edited main.py is synced into /app and uvicorn reloads it."""
    import os
    import signal
    import time

    watcher = subprocess.Popen([sys.executable, "-m", "composer", "watch", "--no-up"], cwd=stack.directory,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, **stack.env})
    try:
        assert "Watch enabled" in watcher.stdout.readline()
        source = stack.directory / "api" / "main.py"
        source.write_text(source.read_text().replace('{"version": "2"}', '{"version": "3"}'))
        assert "Syncing service 'api'" in watcher.stdout.readline()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if stack.http("/version", port="API_PORT") == {"version": "3"}:
                    return
            except OSError:
                pass  # reloading
            time.sleep(0.3)
        pytest.fail("uvicorn did not serve the synced source")
    finally:
        os.kill(watcher.pid, signal.SIGINT)
        watcher.wait(timeout=15)


def test_everyday_flow(stack: Stack) -> None:
    stack("up", "-d", "--wait")
    created = stack.http("/items", {"name": "pen", "quantity": 3})
    assert created["name"] == "pen" and created["quantity"] == 3 and created["id"] >= 1
    assert [item["name"] for item in stack.http("/items")] == ["pen"]
    assert stack.http("/health", port="API_PORT") == {"status": "ok"}

    rows = [json.loads(line) for line in stack("ps", "--format", "json").stdout.splitlines()]
    assert sorted(row["Service"] for row in rows) == ["api", "db", "web"]
    assert all(row["State"] == "running" and row["Health"] == "healthy" for row in rows), rows

    assert "POST /items" in stack("logs", "api").stdout
    psql = stack("exec", "db", "psql", "-U", "items", "-d", "items", "-tA", "-c", "select name from items")
    assert psql.stdout.split() == ["pen"]

    before = stack.ids()
    with (stack.directory / "api" / "main.py").open("a") as source:
        source.write(VERSION_ROUTE)
    stack("up", "-d", "--build", "--wait")
    after = stack.ids()
    assert after["api"] != before["api"], "the api was not recreated"
    assert after["db"] == before["db"] and after["web"] == before["web"], "only the api may be recreated"
    assert stack.http("/version") == {"version": "2"}
    assert [item["name"] for item in stack.http("/items")] == ["pen"]

    watch_reloads_the_api(stack)

    stack("down")
    stack("up", "-d", "--wait")
    assert [item["name"] for item in stack.http("/items")] == ["pen"], "down + up lost the rows"

    count = ("import os, psycopg; print(psycopg.connect(os.environ['DATABASE_URL'])"
             ".execute('select count(*) from items').fetchone()[0])")
    oneoff = stack("run", "--rm", "api", "python3", "-c", count)
    assert oneoff.stdout.strip().splitlines()[-1] == "1"

    stack("down", "-v")
    volumes = stack("volume", "ls", "-q").stdout.split()
    assert "postgres-api_pgdata" not in volumes and not stack("ps", "-a", "-q").stdout.strip()
