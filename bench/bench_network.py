"""Network layer costs: endpoint set-up, and published-port throughput/connection rate vs direct.

Cases (each round runs every tool once, alternating; medians over the rounds):
- ``connect+disconnect``: composer's veth + address + route + rules for one namespace (own
  rtnetlink client + one nft transaction) against the same plumbing done with iproute2 commands.
- ``GET 10MiB via 127.0.0.1`` / ``via host address``: a 10 MiB HTTP GET from busybox httpd in a
  namespace through composer's published port (kernel DNAT) against straight to the container IP.
- ``100 connections``: 100 sequential small GETs through the published port against direct.
Docker and podman are not started here (their daemons would compete with the 2-core VM's other
work); the issue's figures for them are 7.9 ms (docker-proxy) and 8.1 ms (podman) per 10 MiB GET.

Run: /work/main/.venv/bin/python bench/bench_network.py [--rounds N]   (as root)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Outcome, save, table  # noqa: E402

from composer.network.manager import NetworkManager  # noqa: E402
from composer.network.ports import parse_publish  # noqa: E402

SIZE = 10 * 1024 * 1024


def http_get(host: str, port: int, path: str = "/big") -> int:
    """GET ``path`` and read to the end; return the body size."""
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        total = 0
        while chunk := conn.recv(1 << 20):
            total += len(chunk)
    return total


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))
        return probe.getsockname()[0]


def connect_composer(nm: NetworkManager, netns: str) -> None:
    nm.connect("bench", "c" * 64, f"/run/netns/{netns}", name="bench-c")
    nm.disconnect("bench", "c" * 64)


def connect_iproute2(bridge: str, netns: str) -> None:
    for cmd in (f"ip link add vethbench type veth peer name eth1 netns {netns}",
                f"ip link set vethbench master {bridge} up",
                f"ip -n {netns} addr add 172.30.99.9/16 dev eth1",
                f"ip -n {netns} link set eth1 up", f"ip -n {netns} link set lo up",
                f"ip -n {netns} route add 10.250.0.0/16 via 172.30.99.1",
                "ip link del vethbench"):
        subprocess.run(cmd.split(), check=True)


def many_gets(host: str, port: int, count: int = 100) -> None:
    for _ in range(count):
        http_get(host, port, "/small")


def run(rounds: int) -> dict[str, dict[str, Outcome]]:
    work = Path(tempfile.mkdtemp(prefix="bench-network-"))
    os.environ["COMPOSER_ROOT"] = str(work / "root")
    (work / "www").mkdir()
    (work / "www" / "big").write_bytes(os.urandom(SIZE))
    (work / "www" / "small").write_text("ok\n")
    nm = NetworkManager(dns=False)
    names = ["bench-net-srv", "bench-net-tmp"]
    httpd = None
    try:
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True)
        net = nm.create("bench")
        port = 30000 + os.getpid() % 20000
        ep = nm.connect("bench", "s" * 64, f"/run/netns/{names[0]}", name="srv", ports=parse_publish(f"{port}:80"))
        httpd = subprocess.Popen(["ip", "netns", "exec", names[0], "busybox", "httpd", "-f", "-p", "80",
                                  "-h", str(work / "www")])
        time.sleep(0.5)
        assert http_get("127.0.0.1", port) >= SIZE
        me = host_address()
        cases = {
            "connect+disconnect": {"composer": lambda: connect_composer(nm, names[1]),
                                   "iproute2": lambda: connect_iproute2(net.bridge, names[1])},
            "GET 10MiB via 127.0.0.1": {"composer": lambda: http_get("127.0.0.1", port),
                                        "direct": lambda: http_get(ep.ipv4, 80)},
            "GET 10MiB via host address": {"composer": lambda: http_get(me, port),
                                           "direct": lambda: http_get(ep.ipv4, 80)},
            "100 connections": {"composer": lambda: many_gets("127.0.0.1", port),
                                "direct": lambda: many_gets(ep.ipv4, 80)},
        }
        outcomes = {case: {tool: Outcome() for tool in tools} for case, tools in cases.items()}
        for round_index in range(rounds + 1):
            for case, tools in cases.items():
                order = list(tools.items())
                for tool, action in order if round_index % 2 else order[::-1]:  # no first-mover bias
                    elapsed = timed(action)
                    if round_index:
                        outcomes[case][tool].seconds.append(elapsed)
        return outcomes
    finally:
        if httpd:
            httpd.kill()
            httpd.wait()
        for cid in ("s" * 64, "c" * 64):
            nm.release(cid)
        if nm.store.find("bench"):
            nm.remove("bench")
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False)
        subprocess.run(["rm", "-rf", str(work)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    outcomes = run(args.rounds)
    print(table(outcomes))
    print(f"results: {save('network', outcomes, {'rounds': args.rounds, 'size_bytes': SIZE})}")


if __name__ == "__main__":
    main()
