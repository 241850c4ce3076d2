"""Fixtures for the network tests: real namespaces, a private manager, and a host snapshot.

Every namespace, process, bridge, veth, nftables table and sysctl a test makes is removed in a
finally, and ``host_snapshot`` fails the test if the host's links, addresses, routes, rules,
nftables tables or forwarding sysctls are not back to what they were.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

BUSYBOX = "/bin/busybox"
pytestmark = pytest.mark.root


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=30)


@dataclass
class Netns:
    """A named network namespace (``ip netns``) and the busybox processes started in it."""

    name: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"

    def run(self, *args: str, timeout: float = 3, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run busybox APPLET ARGS inside, killed after ``timeout`` seconds."""
        cmd = ["ip", "netns", "exec", self.name, BUSYBOX, "timeout", str(int(timeout)), BUSYBOX, *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout + 5)

    def spawn(self, *args: str, stdout: int | None = subprocess.DEVNULL) -> subprocess.Popen:
        """Start busybox APPLET ARGS inside in the background (killed at teardown)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, BUSYBOX, *args],
                                stdout=stdout, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def spawn_python(self, code: str) -> subprocess.Popen:
        """Run a python snippet inside in the background (for UDP: busybox nc has no -u)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, sys.executable, "-S", "-c", code],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def run_python(self, code: str, timeout: float = 5, site: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a python snippet inside (``site``: with the venv's packages, e.g. dnslib)."""
        flags = [] if site else ["-S"]
        return subprocess.run(["ip", "netns", "exec", self.name, sys.executable, *flags, "-c", code],
                              capture_output=True, text=True, timeout=timeout)

    def write_resolv_conf(self, text: str) -> None:
        """``ip netns exec`` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf."""
        folder = Path("/etc/netns") / self.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text(text)

    def destroy(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
        sh("ip", "netns", "del", self.name, check=False)
        folder = Path("/etc/netns") / self.name
        if folder.exists():
            for child in folder.iterdir():
                child.unlink()
            folder.rmdir()
            try:
                folder.parent.rmdir()  # /etc/netns itself, when no other namespace uses it
            except OSError:
                pass


@pytest.fixture
def make_netns() -> Iterator:
    """A factory of fresh namespaces, all deleted at teardown."""
    made: list[Netns] = []

    def make() -> Netns:
        ns = Netns(f"composer-test-{secrets.token_hex(3)}")
        sh("ip", "netns", "add", ns.name)
        made.append(ns)
        return ns

    try:
        yield make
    finally:
        for ns in made:
            ns.destroy()


def _host_state() -> dict[str, object]:
    def lines(*cmd: str) -> list[str]:
        return sorted(sh(*cmd, check=False).stdout.splitlines())

    forwarding = {}
    for family, key in (("ipv4", "forwarding"), ("ipv6", "force_forwarding"), ("ipv6", "forwarding")):
        for conf in Path(f"/proc/sys/net/{family}/conf").iterdir():
            try:
                forwarding[f"{family}.{conf.name}.{key}"] = (conf / key).read_text().strip()
            except OSError:
                pass
    return {
        "links": [line.split(":")[1].split("@")[0].strip() for line in lines("ip", "-o", "link")],
        "addresses": lines("ip", "-o", "addr"),
        "routes": lines("ip", "route", "show", "table", "all"),
        "rules": lines("ip", "rule"),
        "nft": lines("nft", "list", "tables"),
        "forwarding": forwarding,
        "ip_forward": Path("/proc/sys/net/ipv4/ip_forward").read_text(),
    }


@pytest.fixture
def host_snapshot(state_root: Path) -> Iterator[dict[str, object]]:
    """Fail the test when the host's network state is not back to what it was.

    Other engineers (and other runs of these tests) change the host at the same time, so only
    what this test's state root could have made is compared: links, addresses and routes naming
    its bridges or veths, its nftables table, and forwarding sysctls (when no other composer
    table, i.e. no concurrent run, is present).
    """
    from composer.network import endpoint
    from composer.network.store import NetworkStore

    store = NetworkStore(state_root / "networks")
    veths: list[str] = []
    original = endpoint.attach

    def recording_attach(*args, **kwargs):
        made = original(*args, **kwargs)
        veths.append(made.host_ifname)
        return made

    endpoint.attach = recording_attach
    before = _host_state()
    try:
        yield before
    finally:
        endpoint.attach = original
    after = _host_state()

    def ours(lines: object) -> list[str]:
        marks = [store.bridge_prefix, *veths]
        return [line for line in lines if any(mark in line for mark in marks)]  # type: ignore[union-attr]

    for key in ("links", "addresses", "routes", "rules"):
        assert ours(after[key]) == ours(before[key]), f"host {key} changed"
    assert (f"table inet {store.table}" in after["nft"]) == (f"table inet {store.table}" in before["nft"])
    concurrent = any("composer" in line for line in before["nft"] + after["nft"])  # type: ignore[operator]
    if not concurrent:
        common = before["forwarding"].keys() & after["forwarding"].keys()  # type: ignore[union-attr]
        assert {k: after["forwarding"][k] for k in common} == {k: before["forwarding"][k] for k in common}
        assert after["ip_forward"] == before["ip_forward"]


@pytest.fixture
def manager(state_root: Path, host_snapshot: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A NetworkManager on the test's state root; tears every network and its DNS server down."""
    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", "127.0.0.1:9")  # never forward to the internet
    from composer.network.manager import NetworkManager

    nm = NetworkManager(state_root / "networks")
    try:
        yield nm
    finally:
        nm.reset()


@dataclass
class Outside:
    """An 'outside world' namespace reached from the host through a routed veth (no internet)."""

    ns: Netns
    host_ifname: str
    host_ip: str
    ip: str
    host_ip6: str
    ip6: str


@pytest.fixture
def outside(make_netns) -> Iterator[Outside]:
    """A namespace at 10.213.X.2 (fd42:213:X::2) behind host veth 10.213.X.1 (fd42:213:X::1),
    with no route back to containers."""
    ns = make_netns()
    third = secrets.randbelow(200) + 20
    host_if = f"cto{secrets.token_hex(3)}"
    sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
    try:
        sh("ip", "addr", "add", f"10.213.{third}.1/24", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", ns.name, "addr", "add", f"10.213.{third}.2/24", "dev", "eth0")
        sh("ip", "-n", ns.name, "link", "set", "eth0", "up")
        sh("ip", "-n", ns.name, "link", "set", "lo", "up")
        six = f"fd42:213:{third:x}::"
        sh("ip", "addr", "add", f"{six}1/64", "dev", host_if, "nodad")
        sh("ip", "-n", ns.name, "addr", "add", f"{six}2/64", "dev", "eth0", "nodad")
        yield Outside(ns, host_if, f"10.213.{third}.1", f"10.213.{third}.2", f"{six}1", f"{six}2")
    finally:
        sh("ip", "link", "del", host_if, check=False)


def wait_port(ns: Netns, port: int, proto: str = "tcp", timeout: float = 3.0) -> None:
    """Wait until something listens on ``port`` inside ``ns``."""
    flag = "-ltn" if proto == "tcp" else "-lun"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = sh("ip", "netns", "exec", ns.name, BUSYBOX, "netstat", flag, check=False).stdout
        if f":{port} " in out:
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}/{proto} in {ns.name}")


@pytest.fixture
def webroot(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_text("hello from composer\n")
    return root


def container_id() -> str:
    return secrets.token_hex(32)



def free_prefix24() -> str:
    """``10.X.Y`` of a /24 that no host route covers (tests running at once never share one)."""
    import ipaddress

    from composer.network.ipam import host_routes

    routes = host_routes()
    while True:
        prefix = f"10.{secrets.randbelow(40) + 210}.{secrets.randbelow(256)}"
        if not any(ipaddress.ip_network(f"{prefix}.0/24").overlaps(route) for route in routes):
            return prefix


def free_prefix64() -> str:
    """``fd42:X:Y:`` of a random unique-local /64 (``{prefix}:/64`` is the subnet)."""
    first, second = (secrets.randbelow(0xFFFF) + 1 for _ in range(2))
    return f"fd42:{first:x}:{second:x}:"  # no leading zeros: the canonical form addresses print in


@pytest.fixture(scope="session", autouse=True)
def netns_mount_cleanup() -> Iterator[None]:
    """``ip netns add`` bind-mounts /run/netns on first use: undo that if this session caused it."""
    existed = os.path.exists("/run/netns")
    yield
    if existed or not os.path.isdir("/run/netns") or os.listdir("/run/netns"):
        return
    with open("/proc/self/mountinfo") as mounts:
        mounted = any(line.split()[4] == "/run/netns" for line in mounts)
    if mounted:
        sh("umount", "/run/netns", check=False)  # not lazy: fails harmlessly if another run uses it
    try:
        os.rmdir("/run/netns")
    except OSError:
        pass
