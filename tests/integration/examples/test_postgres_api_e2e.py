"""examples/postgres-api end to end, the everyday flow of its README, on the kernel.

up -d --wait -> POST/GET through nginx -> ps all healthy -> logs api -> exec db psql -> edit the
api and ``up -d --build`` recreates only the api, rows kept -> down + up keeps rows -> one-off
``run --rm api`` -> down -v removes the data volume. A copy of the example in a temporary
directory, the example images imported into the module's private state root, free host ports.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys

import pytest

from tests.integration.examples.conftest import ExampleProject

pytestmark = [pytest.mark.root, pytest.mark.slow]

VERSION_ROUTE = '''

@app.get("/version")
def version() -> dict[str, str]:
    """Added by the test: proves the rebuilt image runs the edited source."""
    return {"version": "2"}
'''


@pytest.fixture
def stack(example_project) -> ExampleProject:
    return example_project("postgres-api", ("postgres", "python", "nginx"), ("WEB_PORT", "API_PORT"))


def http(stack: ExampleProject, path: str, data: dict | None = None, port: str = "WEB_PORT") -> object:
    return json.loads(stack.get(port, path, json.dumps(data).encode() if data is not None else None))


def ids(stack: ExampleProject) -> dict[str, str]:
    """service -> container id of the running containers."""
    rows = [json.loads(line) for line in stack("ps", "--format", "json").stdout.splitlines()]
    return {row["Service"]: row["ID"] for row in rows}


def watch_restarts_the_api(stack: ExampleProject) -> None:
    """``composer watch --no-up``: an edited main.py is synced into /app and the api restarted
    (the example's ``sync+restart`` rule)."""
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
        assert watcher.stdout.readline() == 'Syncing service "api" after 1 changes were detected\n'
        assert watcher.stdout.readline() == 'service(s) ["api"] restarted\n'
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http(stack, "/version", port="API_PORT") == {"version": "3"}:
                    return
            except OSError:
                pass  # restarting
            time.sleep(0.3)
        pytest.fail("the restarted api did not serve the synced source")
    finally:
        os.kill(watcher.pid, signal.SIGINT)
        watcher.wait(timeout=15)


def follow_logs_sees_a_request(stack: ExampleProject) -> None:
    """``composer logs -f api``: a request made while following shows up as it happens."""
    import os
    import signal

    follower = subprocess.Popen([sys.executable, "-m", "composer", "logs", "-f", "--tail", "0", "api"],
                                cwd=stack.directory, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env={**os.environ, **stack.env})
    try:
        for _ in range(50):  # until the follower is attached: its requests' lines arrive
            http(stack, "/items?follow=1", port="API_PORT")
            ready, _, _ = select.select([follower.stdout], [], [], 0.2)
            if ready:
                break
        lines = [follower.stdout.readline()]
        while "GET /items?follow=1" not in lines[-1] and len(lines) < 100:  # healthchecks log too
            lines.append(follower.stdout.readline())
        assert lines[-1].startswith("api-1  | ") and "GET /items?follow=1" in lines[-1], lines
    finally:
        os.kill(follower.pid, signal.SIGINT)
        follower.wait(timeout=15)


def test_everyday_flow(stack: ExampleProject) -> None:
    stack("up", "-d", "--wait")
    created = http(stack, "/items", {"name": "pen", "quantity": 3})
    assert created["name"] == "pen" and created["quantity"] == 3 and created["id"] >= 1
    assert [item["name"] for item in http(stack, "/items")] == ["pen"]
    assert http(stack, "/health", port="API_PORT") == {"status": "ok"}

    rows = [json.loads(line) for line in stack("ps", "--format", "json").stdout.splitlines()]
    assert sorted(row["Service"] for row in rows) == ["api", "db", "web"]
    assert all(row["State"] == "running" and row["Health"] == "healthy" for row in rows), rows

    assert "POST /items" in stack("logs", "api").stdout
    follow_logs_sees_a_request(stack)
    psql = stack("exec", "db", "psql", "-U", "items", "-d", "items", "-tA", "-c", "select name from items")
    assert psql.stdout.split() == ["pen"]

    before = ids(stack)
    with (stack.directory / "api" / "main.py").open("a") as source:
        source.write(VERSION_ROUTE)
    stack("up", "-d", "--build", "--wait")
    after = ids(stack)
    assert after["api"] != before["api"], "the api was not recreated"
    assert after["db"] == before["db"] and after["web"] == before["web"], "only the api may be recreated"
    assert http(stack, "/version") == {"version": "2"}
    assert [item["name"] for item in http(stack, "/items")] == ["pen"]

    watch_restarts_the_api(stack)

    stack("stop", "api")  # serve.py ends the api without Python's teardown, with uvicorn's status
    assert json.loads(stack("container", "inspect", after["api"]).stdout)[0]["State"]["ExitCode"] == 0
    stack("down")
    stack.env["LOG_LEVEL"] = "warning"  # .env's setting reaches uvicorn: no INFO lines
    stack("up", "-d", "--wait")
    assert [item["name"] for item in http(stack, "/items")] == ["pen"], "down + up lost the rows"
    assert "Uvicorn running on" not in stack("logs", "api").stdout

    count = ("import os, psycopg; print(psycopg.connect(os.environ['DATABASE_URL'])"
             ".execute('select count(*) from items').fetchone()[0])")
    oneoff = stack("run", "--rm", "api", "python3", "-c", count)
    assert oneoff.stdout.strip().splitlines()[-1] == "1"

    stack("down", "-v")
    volumes = stack("volume", "ls", "-q").stdout.split()
    assert "postgres-api_pgdata" not in volumes and not stack("ps", "-a", "-q").stdout.strip()
