"""The embedded DNS server forwards names it does not know, and container files match it."""

from __future__ import annotations

import socket

import pytest
from dnslib import RR, QTYPE, A
from dnslib.server import BaseResolver, DNSServer

from composer.network.dns import control
from tests.integration.network.conftest import container_id, free_prefix24, free_prefix64

pytestmark = pytest.mark.root


class OutsideResolver(BaseResolver):
    """Stands in for the host's resolver: knows one name."""

    def resolve(self, request, handler):
        reply = request.reply()
        if str(request.q.qname) == "outside.example.":
            reply.add_answer(RR("outside.example.", QTYPE.A, rdata=A("10.9.8.7"), ttl=60))
        return reply


@pytest.fixture
def upstream(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = DNSServer(OutsideResolver(), address="127.0.0.1", port=port)
    server.start_thread()
    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", f"127.0.0.1:{port}")
    try:
        yield port
    finally:
        server.stop()
        server.server.server_close()


def test_unknown_names_are_forwarded_and_files_rendered(manager, make_netns, upstream):
    net = manager.create("fwd")
    ns = make_netns()
    cid = container_id()
    ep = manager.connect("fwd", cid, ns.path, name="app-1", aliases=["app"])
    assert control.wait_listening(net.gateway)
    answer = ns.run("nslookup", "outside.example", net.gateway)
    assert "10.9.8.7" in answer.stdout, answer.stderr
    assert ep.ipv4 in ns.run("nslookup", "app", net.gateway).stdout
    assert manager.resolv_conf(cid, dns_search=["corp"]).startswith(f"nameserver {net.gateway}\nsearch corp\n")
    hosts = manager.hosts(cid, "app-1", ["gw:host-gateway"])
    assert f"{net.gateway}\tgw\n" in hosts and hosts.endswith(f"{ep.ipv4}\tapp-1\n")


def test_tcp_queries_and_aaaa_records(manager, make_netns):
    net = manager.create("six", ipv6=True, subnet6=f"{free_prefix64()}:/64")
    client, server = make_netns(), make_netns()
    manager.connect("six", container_id(), client.path, name="client")
    ep = manager.connect("six", container_id(), server.path, name="db")
    assert control.wait_listening(net.gateway)
    code = ("from dnslib import DNSRecord; import sys; "
            f"q = DNSRecord.question('db', 'AAAA'); a = DNSRecord.parse(q.send('{net.gateway}', 53, tcp=True, timeout=3)); "
            "print([str(r.rdata) for r in a.rr])")
    asked = client.run_python(code, site=True)
    assert asked.stdout.strip() == f"['{ep.ipv6}']", asked.stderr


def test_dns_server_lives_across_commands_and_leaves_with_the_last_network(manager):
    import time

    first = manager.create("first")
    assert control.wait_listening(first.gateway)
    pid = control.pid_of(manager.store)
    second = manager.create("second")  # the same server picks the new gateway up (a poke)
    assert control.wait_listening(second.gateway) and control.pid_of(manager.store) == pid
    manager.remove("first")
    manager.remove("second")
    deadline = time.monotonic() + 10  # it notices at its next rescan (a poke or the 1 s tick)
    while control.pid_of(manager.store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert control.pid_of(manager.store) is None


def test_a_network_recreated_on_the_same_gateway_resolves(manager, make_netns):
    subnet = f"{free_prefix24()}.0/24"
    first = manager.create("again", subnet=subnet)
    manager.create("keepalive")  # keeps the server running across the re-creation
    assert control.wait_listening(first.gateway)
    manager.remove("again")
    second = manager.create("again", subnet=subnet)
    assert second.gateway == first.gateway and second.id != first.id
    ns, peer = make_netns(), make_netns()
    manager.connect("again", container_id(), ns.path, name="asker")
    target = manager.connect("again", container_id(), peer.path, name="answer")
    looked = ns.run("nslookup", "answer", second.gateway)
    assert target.ipv4 in looked.stdout, looked.stderr


def test_garbage_and_broken_tcp_clients_do_not_stop_the_server(manager, make_netns):
    net = manager.create("sturdy")
    ns, peer = make_netns(), make_netns()
    manager.connect("sturdy", container_id(), ns.path, name="asker")
    target = manager.connect("sturdy", container_id(), peer.path, name="target")
    assert control.wait_listening(net.gateway)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        junk.sendto(b"\x00\x01garbage", (net.gateway, 53))
    rude = socket.create_connection((net.gateway, 53), timeout=3)
    rude.sendall(b"\x00\x30half a message")
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    rude.close()  # RST
    looked = ns.run("nslookup", "target", net.gateway)
    assert target.ipv4 in looked.stdout, looked.stderr


def test_a_bridge_deleted_by_hand_loses_its_listener_and_the_last_one_ends_the_server(manager):
    import subprocess
    import time

    gone, kept = manager.create("handdel"), manager.create("handkeep")
    assert control.wait_listening(gone.gateway) and control.wait_listening(kept.gateway)
    pid = control.pid_of(manager.store)
    subprocess.run(["ip", "link", "del", gone.bridge], check=True)
    deadline = time.monotonic() + 5  # the server's 1 s rescan notices, without any poke
    while control.is_listening(gone.gateway) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not control.is_listening(gone.gateway)
    assert control.is_listening(kept.gateway) and control.pid_of(manager.store) == pid
    subprocess.run(["ip", "link", "del", kept.bridge], check=True)
    deadline = time.monotonic() + 5
    while control.pid_of(manager.store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert control.pid_of(manager.store) is None



def test_a_container_with_its_own_dns_still_resolves_names_of_its_network(manager, make_netns):
    """``--dns``/compose ``dns:`` on a user network: as docker's 127.0.0.11, the nameserver stays
    the network's DNS server, which forwards the container's other names to its own resolvers."""
    import secrets

    resolver = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    server = DNSServer(OutsideResolver(), address=resolver, port=53)
    server.start_thread()
    try:
        net = manager.create("owndns")
        ns, peer = make_netns(), make_netns()
        asker = container_id()
        manager.connect("owndns", asker, ns.path, name="asker", dns=[resolver])
        db = manager.connect("owndns", container_id(), peer.path, name="db")
        assert "10.9.8.7" in ns.run("nslookup", "outside.example", net.gateway).stdout  # host upstream: :9
        assert db.ipv4 in ns.run("nslookup", "db", net.gateway).stdout
        assert manager.resolv_conf(asker, dns=[resolver]).startswith(f"nameserver {net.gateway}\n")
    finally:
        server.stop()
        server.server.server_close()
