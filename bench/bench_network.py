"""Networking: published-port throughput and connection rate, and ``run --rm`` on the default
bridge, composer against docker and podman side by side (alternating, medians over the rounds).

Cases:
- ``GET 10MiB via 127.0.0.1`` / ``via host address``: a 10 MiB HTTP GET from busybox httpd in a
  container, through each tool's published port (composer: kernel DNAT; docker: its docker-proxy
  on loopback, DNAT on the host address; podman: netavark's DNAT), and ``direct``: straight to
  composer's container address (the floor: the same bridge without any translation).
- ``100 connections via 127.0.0.1``: 100 sequential small GETs (connection set-up rate).
- ``run --rm busybox true (default bridge)``: a whole container run on each tool's default
  network (composer0 / docker0 / podman0), and composer with ``--network none`` for reference.
- ``network create + rm``: a user network made and removed (bridge, rules; composer's DNS server
  started and gone), composer against docker (podman makes a network's bridge only when a
  container joins it, so its create is a file write: not comparable).
- ``fresh network: create, run --rm on it, rm``: the network share of a one-service ``up -d`` and
  ``down`` (a new network, its DNS, a container's endpoint on it, all removed), against docker.

Set-up (done here, undone at the end): busybox from busybox-static imported into a temporary
COMPOSER_ROOT, into a dockerd started on a private socket and data root (its bridge on a free
/24, ``--ip-forward=false`` so it never touches the host's forwarding or FORWARD policy; stopped
by PID, docker0 deleted if it did not exist before), and into podman with its own storage (runc,
PEERS.md's nofile limits). A peer that cannot be set up is reported and skipped.

Run: /work/main/.venv/bin/python bench/bench_network.py [--rounds N]   (as root)
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import begin, setup_composer, setup_podman, start_dockerd, teardown  # noqa: E402
from harness import VENV_BIN, Case, Outcome, measure, report  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

SIZE = 10 * 1024 * 1024
COMPOSER = str(VENV_BIN / "composer")
SERVE = ["httpd", "-f", "-p", "80", "-h", "/www"]


def http_get(host: str, port: int, path: str = "/big") -> int:
    """GET ``path`` over HTTP/1.0 and read to the end; return the body size."""
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        total = 0
        while chunk := conn.recv(1 << 20):
            total += len(chunk)
    return total


def many_gets(host: str, port: int, count: int = 100) -> None:
    for _ in range(count):
        http_get(host, port, "/small")


def host_address() -> str:
    """The host's own address (the source of its default route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))  # no packet is sent for a UDP connect
        return probe.getsockname()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


def free_subnet() -> str:
    """A 10.x.y.0/24 that no host route covers, for docker's bridge."""
    from composer.network.ipam import host_routes

    routes = host_routes()
    for third in range(0, 256):
        candidate = ipaddress.ip_network(f"10.197.{third}.0/24")
        if not any(candidate.overlaps(route) for route in routes):
            return f"10.197.{third}.1/24"
    raise RuntimeError("no free 10.197.x.0/24 for docker's bridge")


def wait_serving(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if http_get("127.0.0.1", port, "/small") > 0:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Servers:
    """One busybox httpd container per tool, published on a host port; removed by ``close``."""

    def __init__(self, www: Path, composer_env: dict[str, str]) -> None:
        self.www, self.composer_env = www, composer_env
        self.ports: dict[str, int] = {}
        self.direct = ""
        self.removals: list[list[str]] = []

    def start(self, tool: str, prefix: list[str], image: str) -> None:
        """``<prefix> run -d -p PORT:80`` the server for ``tool`` and wait until it answers."""
        port = free_port()
        argv = [*prefix, "run", "-d", "-p", f"{port}:80", "-v", f"{self.www}:/www:ro", image, *SERVE]
        env = dict(os.environ, **self.composer_env)  # podman's CONTAINERS_CONF is set late
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{tool}: {result.stderr.strip()[-300:]}")
        self.removals.append([*prefix, "rm", "-f", result.stdout.strip()])
        wait_serving(port)
        self.ports[tool] = port
        if tool == "composer":
            from composer.network.manager import NetworkManager

            (_net, endpoint), = NetworkManager(dns=False).endpoints_of(result.stdout.strip())
            self.direct = endpoint.ipv4

    def close(self) -> None:
        for argv in self.removals:
            subprocess.run(argv, env=dict(os.environ, **self.composer_env), capture_output=True, timeout=120)


def http_cases(servers: Servers, me: str) -> dict[str, dict]:
    """The HTTP cases as in-process callables per tool."""
    cases: dict[str, dict] = {"GET 10MiB via 127.0.0.1": {}, "GET 10MiB via host address": {},
                              "100 connections via 127.0.0.1": {}}
    for tool, port in servers.ports.items():
        cases["GET 10MiB via 127.0.0.1"][tool] = lambda port=port: http_get("127.0.0.1", port)
        cases["GET 10MiB via host address"][tool] = lambda port=port: http_get(me, port)
        cases["100 connections via 127.0.0.1"][tool] = lambda port=port: many_gets("127.0.0.1", port)
    if servers.direct:
        cases["GET 10MiB via 127.0.0.1"]["direct"] = lambda: http_get(servers.direct, 80)
        cases["GET 10MiB via host address"]["direct"] = lambda: http_get(servers.direct, 80)
        cases["100 connections via 127.0.0.1"]["direct"] = lambda: many_gets(servers.direct, 80)
    return cases


def measure_calls(cases: dict[str, dict], rounds: int) -> dict[str, dict[str, Outcome]]:
    """Time every callable once per round, alternating the order; one untimed warm-up round."""
    outcomes = {case: {tool: Outcome() for tool in tools} for case, tools in cases.items()}
    for round_index in range(rounds + 1):
        for case, tools in cases.items():
            order = list(tools.items())
            for tool, action in order if round_index % 2 else order[::-1]:
                start = time.perf_counter()
                try:
                    action()
                except OSError as error:
                    outcomes[case][tool].failure = outcomes[case][tool].failure or str(error)
                if round_index:
                    outcomes[case][tool].seconds.append(time.perf_counter() - start)
    return outcomes


def chain(*commands: list[str]) -> None:
    """Run ``commands`` one after the other; OSError (a failed case) when one fails, after running
    the last one (the clean-up: the network's removal) anyway."""
    for argv in commands:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode:
            if argv is not commands[-1]:
                subprocess.run(commands[-1], capture_output=True, timeout=120)
            raise OSError(f"{' '.join(argv[:4])}: {result.stderr.strip()[-300:]}")


def network_cases(docker_host: str) -> dict[str, dict]:
    """A user network's own cost, and with one container on it, per tool (as callables)."""
    tools = {"composer": ([COMPOSER], [COMPOSER, "container"], "busybox")}
    if docker_host:
        docker = ["docker", "-H", docker_host]
        tools["docker"] = (docker, docker, "busybox:bench")
    cases: dict[str, dict] = {"network create + rm": {}, "fresh network: create, run --rm on it, rm": {}}
    for tool, (prefix, runner, image) in tools.items():
        name = f"bench-net-{tool}"
        create, remove = [*prefix, "network", "create", name], [*prefix, "network", "rm", name]
        run = [*runner, "run", "--rm", "--network", name, image, "true"]
        cases["network create + rm"][tool] = lambda create=create, remove=remove: chain(create, remove)
        cases["fresh network: create, run --rm on it, rm"][tool] = (
            lambda create=create, run=run, remove=remove: chain(create, run, remove))
    return cases


def run_case(docker_host: str, podman: list[str] | None) -> Case:
    """``run --rm busybox true`` on each tool's default network."""
    commands = {"composer": [COMPOSER, "container", "run", "--rm", "busybox", "true"]}
    if docker_host:
        commands["docker"] = ["docker", "-H", docker_host, "run", "--rm", "busybox:bench", "true"]
    if podman:
        commands["podman"] = [*podman, "run", "--rm", "busybox:bench", "true"]
    commands["composer --network none"] = [COMPOSER, "container", "run", "--rm", "--network", "none", "busybox", "true"]
    return Case("run --rm busybox true (default bridge)", commands)


def main() -> int:
    options, notes, work, cgroups_before = begin(__doc__.splitlines()[0], "bench-network-", 15)
    had_podman0 = os.path.exists("/sys/class/net/podman0")  # dockerd's bridges go when it stops (bench_run.stop)
    dockerd, servers = None, None
    try:
        tarball = busybox_tarball(build_busybox_rootfs(work / "rootfs"), work / "busybox.tar")
        composer_env = setup_composer(work, tarball)
        os.environ.update(composer_env)
        (work / "www").mkdir()
        (work / "www" / "big").write_bytes(os.urandom(SIZE))
        (work / "www" / "small").write_text("ok\n")
        servers = Servers(work / "www", composer_env)
        servers.start("composer", [COMPOSER, "container"], "busybox")
        dockerd, docker_host = start_dockerd(work, tarball, notes, ("--bip", free_subnet(), "--ip-forward=false",
                                                                    "--ip6tables=false"))
        podman = setup_podman(work, tarball, notes)
        for tool, prefix in (("docker", ["docker", "-H", docker_host] if dockerd else None), ("podman", podman)):
            try:
                if prefix:
                    servers.start(tool, prefix, "busybox:bench")
            except (RuntimeError, OSError) as error:
                notes.append(f"{tool}: no published server ({error})")
        outcomes = measure_calls(http_cases(servers, host_address()), options.rounds)
        outcomes |= measure_calls(network_cases(docker_host if dockerd else ""), options.rounds)
        outcomes |= measure([run_case(docker_host if dockerd else "", podman)], rounds=options.rounds)
        report("network", outcomes, options.rounds, notes, size_bytes=SIZE)
    finally:
        if servers:
            servers.close()
        if not had_podman0 and os.path.exists("/sys/class/net/podman0"):
            subprocess.run(["ip", "link", "del", "podman0"], capture_output=True)  # podman's default bridge
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
