"""The examples' base images under composer's runtime (foreground ``container run --rm``).

Each test imports one image (rootfs built with mmdebstrap once per machine, cached under
/var/cache/composer-examples) into the module's private store, once, and runs it as root on the kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.examples.conftest import REPO

pytestmark = [pytest.mark.root, pytest.mark.slow]

SEED = """CREATE TABLE seed (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO seed (name) VALUES ('from-initdb');
"""
# Starts the server through the official contract in the background, waits, queries, stops cleanly.
PG_SESSION = """
docker-entrypoint.sh postgres & pid=$!
for i in $(seq 120); do pg_isready -q -h 127.0.0.1 -U items -d items && break; sleep 0.25; done
pg_isready -h 127.0.0.1 -U items -d items
psql -v ON_ERROR_STOP=1 -h 127.0.0.1 -U items -d items -tA -c 'select 1' -c 'select count(*) from seed'
echo "whoami=$(stat -c %U "/proc/$(head -1 "$PGDATA/postmaster.pid")")"
echo "pg_isready=$(command -v pg_isready)"
kill -INT "$pid"; wait "$pid"; echo "server-exit=$?"
"""
PG_ENV = ("-e", "POSTGRES_USER=items", "-e", "POSTGRES_PASSWORD=secret", "-e", "POSTGRES_DB=items")


def _run(composer, *args: str):
    result = composer("container", "run", "--rm", *args)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def pg_volume(composer):
    """The named volume ``pgdata``, removed after the test."""
    yield "pgdata"
    composer("volume", "rm", "-f", "pgdata")


def test_postgres_initializes_once_and_answers(example_image, composer, pg_volume, tmp_path: Path) -> None:
    image = example_image("postgres")
    initdb = tmp_path / "initdb"
    initdb.mkdir()
    (initdb / "01-seed.sql").write_text(SEED)
    (initdb / "02-note.sh").write_text('echo "initdb-shell-ran as $(id -un)"\n')
    volumes = ("-v", f"{pg_volume}:/var/lib/postgresql/data", "-v", f"{initdb}:/docker-entrypoint-initdb.d:ro")
    first = _run(composer, *volumes, *PG_ENV, "--entrypoint", "bash", image, "-c", PG_SESSION)
    assert first.returncode == 0, first.stdout + first.stderr
    output = first.stdout + first.stderr
    assert "initdb-shell-ran as postgres" in output
    assert "accepting connections" in output and "1\n1\n" in first.stdout
    assert "whoami=postgres" in first.stdout and "server-exit=0" in first.stdout
    # the server's binaries first on PATH, not Debian's Perl wrapper (~50 ms of CPU a healthcheck)
    assert "pg_isready=/usr/lib/postgresql/15/bin/pg_isready" in first.stdout
    again = _run(composer, *volumes, *PG_ENV, "--entrypoint", "bash", image, "-c", PG_SESSION)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "skipping initialization" in again.stderr and "initdb-shell-ran" not in again.stdout + again.stderr
    assert "1\n1\n" in again.stdout  # the seed row once: the init scripts did not run again


def test_postgres_initializes_without_init_scripts(example_image, composer) -> None:
    """Only POSTGRES_PASSWORD and no init scripts (an empty initdb.d left its glob pattern, which
    failed the entrypoint with exit 1 right after initdb)."""
    session = PG_SESSION.replace("-U items -d items", "-U postgres").replace(" -c 'select count(*) from seed'", "")
    result = _run(composer, "-e", "POSTGRES_PASSWORD=secret", "--entrypoint", "bash", example_image("postgres"),
                  "-c", session)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "init process complete" in result.stderr and "1\n" in result.stdout and "server-exit=0" in result.stdout


def test_postgres_without_password_refuses_to_initialize(example_image, composer) -> None:
    result = _run(composer, example_image("postgres"))
    assert result.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in result.stderr


def test_nginx_serves_a_static_file_and_logs_to_stdout(example_image, composer, tmp_path: Path) -> None:
    image = example_image("nginx")
    site = tmp_path / "site"
    site.mkdir()
    (site / "hello.txt").write_text("hello from composer\n")
    script = ("nginx -t && nginx && curl -fsS http://127.0.0.1/static/hello.txt "
              "&& curl -fsS http://127.0.0.1/ | grep -o 'nginx is running'; status=$?; nginx -s quit; exit $status")
    result = _run(composer, "-v", f"{site}:/usr/share/nginx/html/static:ro", "--entrypoint", "sh", image,
                  "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello from composer" in result.stdout and "nginx is running" in result.stdout
    assert "syntax is ok" in result.stderr and '"GET /static/hello.txt HTTP/1.1" 200' in result.stdout


def test_nginx_image_config_matches_the_official_one(example_image, composer) -> None:
    image = example_image("nginx")
    config = json.loads(composer("image", "inspect", image).stdout)[0]["Config"]
    assert config["Cmd"] == ["nginx", "-g", "daemon off;"] and config["StopSignal"] == "SIGQUIT"
    assert "80/tcp" in config["ExposedPorts"]


def test_python_image_has_the_api_stack(example_image, composer) -> None:
    result = _run(composer, example_image("python"), "python3", "-c",
                  "import fastapi, uvicorn, psycopg, psycopg_pool, sys; print('ok', sys.version_info[:2] >= (3, 11))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok True"


def test_debian_image_is_trimmed_minbase(example_image, composer) -> None:
    result = _run(composer, example_image("debian"), "bash", "-c",
                  "cat /etc/debian_version; ls /usr/share/doc/bash; test ! -e /usr/share/man/man1 "
                  "&& test -L /bin && ! dpkg -s usrmerge >/dev/null 2>&1 && ! dpkg -s perl >/dev/null 2>&1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("12.") and result.stdout.split()[1:] == ["copyright"]


def test_api_dockerfile_builds_on_the_local_python_image(example_image, composer) -> None:
    python = example_image("python")
    context = REPO / "examples" / "postgres-api" / "api"
    built = composer("image", "build", "-q", "-t", "postgres-api/api:test", "--network", "none",
                     "--build-arg", f"PYTHON_IMAGE={python}", str(context))
    assert built.returncode == 0, built.stdout + built.stderr  # no network: nothing pip-installed
    try:
        result = _run(composer, "postgres-api/api:test", "python3", "-c",
                      "import os, main; print(os.getcwd(), os.getuid(), sorted({r.path for r in main.app.routes}))")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("/app 65534 ") and "'/health'" in result.stdout
        assert "'/items'" in result.stdout
    finally:
        composer("image", "rm", "postgres-api/api:test")


def test_nginx_dockerfile_builds_the_same_image(example_image, composer, images_build, tmp_path: Path) -> None:
    image = images_build.load("nginx")
    rootfs, _ = images_build.build_rootfs(image)
    context = images_build.build_context(image, rootfs, tmp_path / "context")
    built = composer("image", "build", "-q", "-t", "composer-local/nginx:dockerfile", str(context))
    assert built.returncode == 0, built.stdout + built.stderr
    try:
        config = json.loads(composer("image", "inspect", "composer-local/nginx:dockerfile").stdout)[0]["Config"]
        assert config["Cmd"] == ["nginx", "-g", "daemon off;"] and config["StopSignal"] == "SIGQUIT"
        assert config["Healthcheck"]["Test"][0] == "CMD-SHELL"
        result = _run(composer, "composer-local/nginx:dockerfile", "nginx", "-t")
        assert result.returncode == 0 and "syntax is ok" in result.stderr
    finally:
        composer("image", "rm", "composer-local/nginx:dockerfile")


# Runs the api's PromptServer (examples/postgres-api/api/serve.py) on a small ASGI app in the python
# image's uvicorn, stops it with SIGTERM idle and with a request in flight; prints what happened.
API_STOPS = r"""
import asyncio, json, os, signal, threading, time, urllib.request
import uvicorn
from serve import PromptServer

async def app(scope, receive, send):  # GET /?SECONDS answers "done" after SECONDS
    await asyncio.sleep(float(scope["query_string"] or 0))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})

stop = {"at": None}
waits = []  # the event loop's sleeps of 0.1 s or more begun after the stop signal
plain_sleep = asyncio.sleep
async def recorded_sleep(delay, *args):
    if stop["at"] is not None and delay >= 0.1:
        waits.append(delay)
    return await plain_sleep(delay, *args)
asyncio.sleep = recorded_sleep

def stop_while(request_seconds):
    server = PromptServer(uvicorn.Config(app, host="127.0.0.1", port=8000, lifespan="off", log_level="warning"))
    answers, stop["at"], waits[:] = [], None, []
    def client():
        while not server.started:
            time.sleep(0.01)
        if request_seconds:
            url = f"http://127.0.0.1:8000/?{request_seconds}"
            threading.Thread(target=lambda: answers.append(urllib.request.urlopen(url).read().decode())).start()
            time.sleep(0.2)
        stop["at"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=client).start()
    server.run()
    took = time.monotonic() - stop["at"]
    time.sleep(0.1)  # the client thread has its answer
    return {"waits": list(waits), "answers": answers, "seconds": took}

print(json.dumps({"idle": stop_while(0), "busy": stop_while(0.6)}))
"""


def test_api_server_stops_at_once_when_idle_and_after_a_request_in_flight(example_image, composer) -> None:
    """serve.py's PromptServer: a SIGTERM with nothing open ends uvicorn without its 0.1 s waits
    (they were ~0.15 s of every stop of the api); a request in flight is still answered first."""
    api = REPO / "examples" / "postgres-api" / "api"
    result = _run(composer, "--network", "none", "-v", f"{api}:/app:ro", "-w", "/app", example_image("python"),
                  "python3", "-c", API_STOPS)
    assert result.returncode == 0, result.stdout + result.stderr
    stops = json.loads(result.stdout.strip().splitlines()[-1])
    assert stops["idle"]["waits"] == [], stops  # uvicorn alone sleeps 0.1 s in every shutdown
    assert stops["busy"]["answers"] == ["done"] and stops["busy"]["seconds"] >= 0.3, stops


def test_api_stops_at_once_while_starting(example_image, composer) -> None:
    """serve.py ends the api on SIGTERM before uvicorn's own handler is in place: as the container's
    PID 1 it would ignore the signal (no handler: the kernel's rule), and a ``down`` during the api's
    start would wait the whole stop timeout for the SIGKILL."""
    import time

    api = REPO / "examples" / "postgres-api" / "api"
    name = "api-starting"
    started = composer("container", "run", "-d", "--name", name, "--network", "none", "-v", f"{api}:/app:ro",
                       "-w", "/app", example_image("python"), "python3", "-c",
                       "import serve, time; print('imported', flush=True); time.sleep(60)")
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 30
        while "imported" not in composer("container", "logs", name).stdout and time.monotonic() < deadline:
            time.sleep(0.1)
        began = time.monotonic()
        assert composer("container", "stop", "-t", "10", name).returncode == 0
        took = time.monotonic() - began
        state = json.loads(composer("container", "inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 143 and took < 5, (state["ExitCode"], took)  # not 137 after 10 s
    finally:
        composer("container", "rm", "-f", name)
