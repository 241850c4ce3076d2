"""Real-kernel tests: containers (namespaces) on bridges talk by name, are isolated, reach out."""

from __future__ import annotations

import time

import pytest

from composer.errors import NetworkError
from composer.network.dns import control
from composer.network.resolvconf import render_resolv_conf
from tests.integration.network.conftest import container_id, free_prefix24, free_prefix64, wait_port

pytestmark = pytest.mark.root


def _attach(manager, net, ns, name, aliases=()):
    ep = manager.connect(net.name, container_id(), ns.path, name=name, aliases=list(aliases))
    ns.write_resolv_conf(render_resolv_conf([manager.get(net.name)]))
    return ep


def test_two_containers_talk_tcp_and_udp_by_name(manager, make_netns, webroot):
    net = manager.create("talk")
    a, b = make_netns(), make_netns()
    _attach(manager, net, a, "alpha")
    _attach(manager, net, b, "beta")
    assert control.wait_listening(net.gateway)
    a.spawn("httpd", "-f", "-p", "8000", "-h", str(webroot))
    wait_port(a, 8000)
    fetched = b.run("wget", "-q", "-O-", "http://alpha:8000/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr
    # UDP: a one-shot python echo server (busybox nc has no -u), the client resolves by name
    server = "import socket; s=socket.socket(2,2); s.bind(('0.0.0.0',5001)); d,c=s.recvfrom(99); s.sendto(d[::-1],c)"
    a.spawn_python(server)
    wait_port(a, 5001, "udp")
    client = ("import socket; s=socket.socket(2,2); s.settimeout(3); "
              "s.sendto(b'ping-udp', (socket.gethostbyname('alpha'), 5001)); print(s.recv(99).decode())")
    assert b.run_python(client).stdout.strip() == "pdu-gnip"

def test_aliases_round_robin_and_removal_visible_at_once(manager, make_netns):
    net = manager.create("rr")
    client, one, two = make_netns(), make_netns(), make_netns()
    _attach(manager, net, client, "client")
    first = manager.connect("rr", container_id(), one.path, name="web-1", aliases=["web", "api"])
    second = manager.connect("rr", container_id(), two.path, name="web-2", aliases=["web"])
    assert control.wait_listening(net.gateway)
    answer = client.run("nslookup", "web", net.gateway).stdout
    assert first.ipv4 in answer and second.ipv4 in answer
    assert first.ipv4 in client.run("nslookup", "api", net.gateway).stdout
    manager.disconnect("rr", second.container_id)
    looked = client.run("nslookup", "web", net.gateway)
    assert first.ipv4 in looked.stdout and second.ipv4 not in looked.stdout, looked.stderr


def test_other_network_cannot_reach(manager, make_netns, webroot):
    one, two = manager.create("one"), manager.create("two")
    a, stranger = make_netns(), make_netns()
    ep = _attach(manager, one, a, "alpha")
    _attach(manager, two, stranger, "stranger")
    assert one.subnet != two.subnet
    a.spawn("httpd", "-f", "-p", "8000", "-h", str(webroot))
    wait_port(a, 8000)
    assert stranger.run("wget", "-q", "-O-", f"http://{ep.ipv4}:8000/", timeout=1).returncode != 0
    assert ep.ipv4 not in stranger.run("nslookup", "alpha", two.gateway).stdout
    assert ep.ipv4 not in stranger.run("nslookup", "alpha", one.gateway).stdout  # not even via one's


def test_egress_nat_reaches_outside(manager, make_netns, outside, webroot):
    net = manager.create("egress")
    inside = make_netns()
    _attach(manager, net, inside, "inside")
    outside.ns.spawn("httpd", "-f", "-p", "8080", "-h", str(webroot))
    wait_port(outside.ns, 8080)
    fetched = inside.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr


def test_internal_network_has_no_way_out(manager, make_netns, outside, webroot):
    net = manager.create("sealed", internal=True)
    inside = make_netns()
    _attach(manager, net, inside, "inside")
    outside.ns.spawn("httpd", "-f", "-p", "8080", "-h", str(webroot))
    wait_port(outside.ns, 8080)
    assert "default" not in inside.run("ip", "route").stdout
    assert inside.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/", timeout=2).returncode != 0
    # even with a route added by hand, the host refuses to forward
    inside.run("ip", "route", "add", "default", "via", net.gateway)
    assert inside.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/", timeout=2).returncode != 0


def test_remove_ignores_endpoints_of_vanished_namespaces(manager, make_netns):
    net = manager.create("ghosts")
    ns = make_netns()
    ep = manager.connect("ghosts", container_id(), ns.path, name="ghost")
    with pytest.raises(NetworkError, match="active endpoints"):
        manager.remove("ghosts")
    ns.destroy()
    manager.remove("ghosts")  # the endpoint's namespace is gone: not "active"
    assert manager.store.find(net.id) is None
    deadline = time.monotonic() + 5  # the kernel deletes the pair with the namespace, in the background
    while ep.host_ifname in open("/proc/net/dev").read() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ep.host_ifname not in open("/proc/net/dev").read()


def test_static_ip_and_release(manager, make_netns):
    p = free_prefix24()
    net = manager.create("static", subnet=f"{p}.0/24", gateway=f"{p}.254")
    ns, other = make_netns(), make_netns()
    ep = manager.connect("static", container_id(), ns.path, ipv4=f"{p}.42")
    assert f"{p}.42/24" in ns.run("ip", "-4", "addr", "show", "eth0").stdout
    with pytest.raises(NetworkError, match="already in use"):
        manager.connect("static", container_id(), other.path, ipv4=f"{p}.42")
    manager.disconnect("static", ep.container_id)
    assert manager.connect("static", container_id(), other.path, ipv4=f"{p}.42").ipv4 == f"{p}.42"
    assert net.gateway == f"{p}.254"


def test_cleanup_after_a_crash(manager, make_netns):
    """Links made before a crash could save state, and dead endpoints, are swept by cleanup."""
    import os

    from composer.network.netlink import Netlink

    net = manager.create("crashy")
    live, dying = make_netns(), make_netns()
    kept = manager.connect("crashy", container_id(), live.path, name="kept")
    gone = manager.connect("crashy", container_id(), dying.path, name="gone")
    orphan_bridge = manager.store.bridge_name("f" * 64)
    with Netlink() as nl:
        nl.add_bridge(orphan_bridge)
        fd = os.open(live.path, os.O_RDONLY)
        try:
            stray = nl.add_veth("vethstray0", "eth9", fd)
        finally:
            os.close(fd)
        nl.set_link(stray, master=nl.require_index(net.bridge), up=True)
    dying.destroy()
    assert manager.cleanup() == [gone.container_id]
    links = os.listdir("/sys/class/net")
    assert orphan_bridge not in links and "vethstray0" not in links
    assert kept.host_ifname in links
    assert list(manager.get("crashy").endpoints) == [kept.container_id]


def test_ipv6_network_gives_both_families(manager, make_netns):
    p6 = free_prefix64()
    net = manager.create("dual", ipv6=True, subnet6=f"{p6}:/64")
    a, b = make_netns(), make_netns()
    first = manager.connect("dual", container_id(), a.path)
    second = manager.connect("dual", container_id(), b.path)
    assert (first.ipv6, second.ipv6) == (f"{p6}:2", f"{p6}:3")
    assert f"{p6}:2/64" in a.run("ip", "-6", "addr").stdout
    assert b.run("ping", "-c", "1", "-W", "2", first.ipv6).returncode == 0
    assert manager.get("dual").inspect()["IPAM"]["Config"][1] == {"Subnet": f"{p6}:/64", "Gateway": net.gateway6}


def test_one_container_on_two_networks_with_own_aliases(manager, make_netns):
    front, back = manager.create("front"), manager.create("back")
    api, web, db = make_netns(), make_netns(), make_netns()
    cid = container_id()
    on_front = manager.connect("front", cid, api.path, name="api", aliases=["public-api"])
    on_back = manager.connect("back", cid, api.path, name="api", aliases=["internal-api"])
    assert (on_front.ifname, on_back.ifname) == ("eth0", "eth1")
    manager.connect("front", container_id(), web.path, name="web")
    on_db = manager.connect("back", container_id(), db.path, name="db")
    assert control.wait_listening(front.gateway) and control.wait_listening(back.gateway)
    assert on_front.ipv4 in web.run("nslookup", "public-api", front.gateway).stdout
    assert web.run("nslookup", "internal-api", front.gateway).returncode != 0
    assert on_back.ipv4 in db.run("nslookup", "internal-api", back.gateway).stdout
    # api asks on its first network and still finds db, which shares only its second network
    assert on_db.ipv4 in api.run("nslookup", "db", front.gateway).stdout


def test_default_bridge_network(manager, make_netns):
    net = manager.ensure_default()
    assert manager.ensure_default().id == net.id
    assert net.name == "bridge" and net.bridge == manager.store.default_bridge
    ns = make_netns()
    cid = container_id()
    ep = manager.connect("bridge", cid, ns.path, name="plain")
    assert ep.ipv4.startswith(net.subnet.split("0/")[0].rsplit(".", 2)[0])
    assert "nameserver " + net.gateway not in manager.resolv_conf(cid)  # no DNS on the default bridge
    assert f"{net.gateway}\thost.docker.internal" in manager.hosts(cid, "plain", ["host.docker.internal:host-gateway"])


def test_ipam_skips_a_subnet_the_host_already_routes(manager):
    """A VPN-like route covering the next default subnet makes IPAM move on (no overlap)."""
    import ipaddress
    import subprocess

    from composer.network import ipam

    taken = [ipaddress.ip_network(net.subnet) for net in manager.list()] + ipam.host_routes()
    doomed = ipam.pick_subnet(taken, skip_first=True)
    subprocess.run(["ip", "route", "add", "blackhole", str(doomed)], check=True)
    try:
        net = manager.create("avoid")
        assert not ipaddress.ip_network(net.subnet).overlaps(doomed)
    finally:
        subprocess.run(["ip", "route", "del", "blackhole", str(doomed)], check=False)


def test_default_network_is_predefined(manager):
    manager.ensure_default()
    with pytest.raises(NetworkError, match="pre-defined network and cannot be removed"):
        manager.remove("bridge")
    with pytest.raises(NetworkError, match="^operation is not permitted on predefined host network$"):  # dockerd
        manager.create("host")
    assert manager.prune() == []
    manager.remove("bridge", predefined_ok=True)


def test_networks_of_a_deleted_state_root_are_swept(manager, tmp_path, monkeypatch):
    """A temporary root removed without its teardown leaves a bridge and a table: the next
    network creation anywhere removes them and gets their subnet back."""
    import os
    import shutil
    import subprocess

    from composer.network.bridges import BRIDGE_NAME_OPTION as BRIDGE
    from composer.network.manager import NetworkManager

    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", "127.0.0.1:9")
    lost_root = tmp_path / "lost-root"
    lost = NetworkManager(lost_root / "networks", dns=False)
    bridge = f"{lost.store.bridge_prefix}x"
    try:
        net = lost.create("forgotten", subnet=f"{free_prefix24()}.0/24", options={BRIDGE: bridge})
        shown = subprocess.run(["ip", "link", "show", bridge], capture_output=True, text=True).stdout
        assert f"alias composer {lost.store.dir}" in shown
        shutil.rmtree(lost_root)
        manager.create("fresh")
        assert not os.path.exists(f"/sys/class/net/{net.bridge}")
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
        assert f"inet {lost.store.table}\n" not in tables
    finally:
        if lost_root.exists():
            lost.reset()
        else:
            from composer.network import firewall
            from composer.network.netlink import Netlink

            with Netlink() as nl:
                nl.delete_link(bridge)
            firewall.remove(lost.store.table)


def test_roots_creating_networks_at_once_get_distinct_subnets(manager, tmp_path):
    """Parallel test runs (each its own state root) pick subnets under one host-wide lock."""
    import ipaddress
    import subprocess
    import sys

    from composer.network.manager import NetworkManager

    roots = [tmp_path / f"root{index}" / "networks" for index in range(3)]
    code = ("import sys; from composer.network.manager import NetworkManager; "
            "print(NetworkManager(sys.argv[1], dns=False).create('bridge', default=True).subnet)")
    try:
        procs = [subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True)
                 for root in roots]
        subnets = [ipaddress.ip_network(proc.communicate(timeout=60)[0].strip()) for proc in procs]
        assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:]), subnets
    finally:
        for root in roots:
            NetworkManager(root, dns=False).reset()


def test_two_state_roots_share_an_uplink(manager, make_netns, outside, webroot, tmp_path):
    """One root's uplink guard never drops another root's traffic, and the uplink's forwarding
    stays on until the last root that needs it has gone."""
    from composer.network.manager import NetworkManager

    switch = f"/proc/sys/net/ipv4/conf/{outside.host_ifname}/forwarding"
    with open(switch, "w") as handle:
        handle.write("0")  # as on a host that does not forward (this test's own interface)
    other = NetworkManager(tmp_path / "other-root" / "networks", dns=False)
    try:
        manager.create("first")
        other.create("second")
        inside = make_netns()
        other.connect("second", container_id(), inside.path, name="inside")
        outside.ns.spawn("httpd", "-f", "-p", "8080", "-h", str(webroot))
        wait_port(outside.ns, 8080)
        assert inside.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/").stdout == "hello from composer\n"
        manager.remove("first")  # the first root's last network
        with open(switch) as handle:
            assert handle.read().strip() == "1"
        assert inside.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/").stdout == "hello from composer\n"
        other.reset()
        claims = _uplink_claims().get(outside.host_ifname, [])
        assert other.store.dir not in claims and manager.store.dir not in claims
        if not claims:  # (a concurrent root may have joined the claim meanwhile)
            with open(switch) as handle:
                assert handle.read().strip() == "0"
    finally:
        other.reset()


def _uplink_claims() -> dict[str, list[str]]:
    import json

    from composer.network import uplinks

    try:
        with open(uplinks.REGISTRY) as handle:
            return json.load(handle).get("ipv4", {})
    except OSError:
        return {}
