"""Real-kernel tests: published ports via 127.0.0.1 and the host's address, UDP, conflicts."""

from __future__ import annotations

import os
import socket
import urllib.request

import pytest

from composer.errors import PortConflictError
from composer.network.ports import parse_publish
from tests.integration.network.conftest import container_id, free_prefix64, wait_port

pytestmark = pytest.mark.root


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _host_address() -> str:
    """The host's own (non-loopback) address: the source of its default route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))  # no packet is sent for a UDP connect
        return probe.getsockname()[0]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=3) as answer:
        return answer.read().decode()


def test_published_port_serves_host_via_loopback_and_own_address(manager, make_netns, webroot):
    manager.create("web")
    ns = make_netns()
    port = _free_port()
    manager.connect("web", container_id(), ns.path, name="web-1", ports=parse_publish(f"{port}:80"))
    ns.spawn("httpd", "-f", "-p", "80", "-h", str(webroot))
    wait_port(ns, 80)
    assert _get(f"http://127.0.0.1:{port}/") == "hello from composer\n"
    assert _get(f"http://{_host_address()}:{port}/") == "hello from composer\n"


def test_the_host_reaches_a_published_port_as_the_gateway(manager, make_netns):
    """Through 127.0.0.1 and the host's own address alike the container sees the gateway as its
    client (masqueraded as docker does for local sources), so both take the same kernel path."""
    net = manager.create("peer")
    ns = make_netns()
    port = _free_port()
    manager.connect("peer", container_id(), ns.path, ports=parse_publish(f"{port}:7000"))
    ns.spawn_python("import socket\ns = socket.create_server(('0.0.0.0', 7000))\nwhile True:\n"
                    "    c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()")
    wait_port(ns, 7000)
    for address in ("127.0.0.1", _host_address()):
        with socket.create_connection((address, port), timeout=3) as conn:
            assert conn.recv(64).decode() == net.gateway


def test_published_port_bound_to_loopback_only(manager, make_netns, webroot):
    manager.create("lo-only")
    ns = make_netns()
    port = _free_port()
    manager.connect("lo-only", container_id(), ns.path, ports=parse_publish(f"127.0.0.1:{port}:80"))
    ns.spawn("httpd", "-f", "-p", "80", "-h", str(webroot))
    wait_port(ns, 80)
    assert _get(f"http://127.0.0.1:{port}/") == "hello from composer\n"
    with pytest.raises(OSError):
        _get(f"http://{_host_address()}:{port}/")


def test_udp_publish(manager, make_netns):
    manager.create("udp")
    ns = make_netns()
    port = _free_port(socket.SOCK_DGRAM)
    manager.connect("udp", container_id(), ns.path, ports=parse_publish(f"{port}:5353/udp"))
    ns.spawn_python("import socket; s=socket.socket(2,2); s.bind(('0.0.0.0',5353)); "
                    "d,c=s.recvfrom(99); s.sendto(d.upper(),c)")
    wait_port(ns, 5353, "udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(3)
        client.sendto(b"hello udp", ("127.0.0.1", port))
        assert client.recv(99) == b"HELLO UDP"


def test_random_and_range_ports(manager, make_netns):
    manager.create("many")
    ns = make_netns()
    ep = manager.connect("many", container_id(), ns.path, ports=parse_publish("80") + parse_publish("18090-18091:90-91"))
    random_port = ep.ports[0].host_port
    assert 32768 <= random_port <= 60999
    assert [(p.host_port, p.container_port) for p in ep.ports[1:]] == [(18090, 90), (18091, 91)]


def _free_run(length: int) -> int:
    """The first of ``length`` consecutive host ports that are free now."""
    while True:
        first = _free_port()
        if first + length <= 65535 and all(_bindable(port) for port in range(first, first + length)):
            return first


def _bindable(port: int) -> bool:
    try:
        with socket.socket() as probe:
            probe.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False


def test_host_range_takes_the_first_free_port(manager, make_netns):
    """``-p A-C:80`` skips ports a host process or another container holds (docker takes A)."""
    manager.create("ranges")
    one, two = make_netns(), make_netns()
    first = _free_run(4)
    spec = f"{first}-{first + 3}:80"
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", first))
        holder.listen()
        ep = manager.connect("ranges", container_id(), one.path, ports=parse_publish(spec))
        assert [(p.host_port, p.host_port_end) for p in ep.ports] == [(first + 1, 0)]
        other = manager.connect("ranges", container_id(), two.path, ports=parse_publish(spec))
        assert other.ports[0].host_port == first + 2
        assert manager.ports_of(ep.container_id)[0].host_port == first + 1  # stored as picked
        full = parse_publish(f"{first}-{first + 2}:80")
        with pytest.raises(PortConflictError, match="port is already allocated"):
            manager.connect("ranges", container_id(), make_netns().path, ports=full)


def test_conflict_with_composer_container_names_it_before_changing_anything(manager, make_netns):
    manager.create("clash")
    one, two = make_netns(), make_netns()
    port = _free_port()
    manager.connect("clash", container_id(), one.path, name="web-1", project="shop", ports=parse_publish(f"{port}:80"))
    before = manager.get("clash")
    with pytest.raises(PortConflictError) as caught:
        manager.connect("clash", container_id(), two.path, name="web-2", ports=parse_publish(f"{port}:80"))
    assert "port is already allocated" in str(caught.value)
    assert "web-1" in str(caught.value) and "shop" in str(caught.value)
    assert manager.get("clash").endpoints.keys() == before.endpoints.keys()
    assert "eth0" not in two.run("ip", "link").stdout


def test_conflict_with_host_process_names_it(manager, make_netns):
    manager.create("hostclash")
    ns = make_netns()
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortConflictError) as caught:
            manager.connect("hostclash", container_id(), ns.path, ports=parse_publish(f"{port}:80"))
    assert "address already in use" in str(caught.value)
    assert f"(pid {os.getpid()})" in str(caught.value)
    assert not manager.get("hostclash").endpoints


def test_published_port_reachable_from_a_container_on_another_network(manager, make_netns, webroot):
    manager.create("served")
    manager.create("visitors")
    server, visitor = make_netns(), make_netns()
    port = _free_port()
    manager.connect("served", container_id(), server.path, ports=parse_publish(f"{port}:80"))
    manager.connect("visitors", container_id(), visitor.path)
    server.spawn("httpd", "-f", "-p", "80", "-h", str(webroot))
    wait_port(server, 80)
    fetched = visitor.run("wget", "-q", "-O-", f"http://{_host_address()}:{port}/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr


def test_published_port_reachable_from_another_machine(manager, make_netns, outside, webroot):
    """The 'outside' namespace plays another machine reaching the host's address on its link."""
    manager.create("public")
    ns = make_netns()
    port = _free_port()
    manager.connect("public", container_id(), ns.path, ports=parse_publish(f"{port}:80"))
    ns.spawn("httpd", "-f", "-p", "80", "-h", str(webroot))
    wait_port(ns, 80)
    fetched = outside.ns.run("wget", "-q", "-O-", f"http://{outside.host_ip}:{port}/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr


def test_udp_flow_tracked_before_publish_reaches_the_container(manager, make_netns):
    """moby#8795: a client that sent before the port was published must not stay un-NATed."""
    manager.create("early")
    ns = make_netns()
    port = _free_port(socket.SOCK_DGRAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        client.settimeout(3)
        client.sendto(b"too early", ("127.0.0.1", port))  # tracked now, with no DNAT
        manager.connect("early", container_id(), ns.path, ports=parse_publish(f"{port}:5353/udp"))
        ns.spawn_python("import socket; s=socket.socket(2,2); s.bind(('0.0.0.0',5353)); "
                        "d,c=s.recvfrom(99); s.sendto(d.upper(),c)")
        wait_port(ns, 5353, "udp")
        client.sendto(b"on time", ("127.0.0.1", port))
        assert client.recv(99) == b"ON TIME"


def test_ipv6_published_port(manager, make_netns, webroot):
    net = manager.create("six-pub", ipv6=True, subnet6=f"{free_prefix64()}:/64")
    ns = make_netns()
    port = _free_port()
    manager.connect("six-pub", container_id(), ns.path, ports=parse_publish(f"[::]:{port}:80"))
    ns.spawn("httpd", "-f", "-p", "[::]:80", "-h", str(webroot))
    wait_port(ns, 80)
    # the host's own IPv6 address on the bridge stands in for a global one
    assert _get(f"http://[{net.gateway6}]:{port}/") == "hello from composer\n"
    assert _get(f"http://127.0.0.1:{port}/") == "hello from composer\n"  # :: includes IPv4
