"""Pure parts: the nftables script, DNS lookups, resolv.conf/hosts, netlink encoding."""

from __future__ import annotations

import pytest

from composer.errors import NetworkError
from composer.network import firewall, netlink
from composer.network.dns import records
from composer.network.model import Endpoint, Network, PortBinding
from composer.network.resolvconf import render_hosts, render_resolv_conf


def _net(name, bridge, subnet, internal=False, default=False, endpoints=()):
    net = Network(id=name * 8, name=name, bridge=bridge, subnet=subnet, gateway=subnet.replace("0/24", "1"),
                  created="now", internal=internal, default=default)
    for ep in endpoints:
        net.endpoints[ep.container_id] = ep
    return net


def _ep(cid, ipv4, name="", aliases=(), ports=(), path="/proc/self/ns/net"):
    import os

    st = os.stat(path) if os.path.exists(path) else None
    inode = (st.st_dev, st.st_ino) if st else (0, 0)
    return Endpoint(container_id=cid, endpoint_id="e" * 64, netns_path=path, netns_inode=inode, host_ifname="veth0",
                    name=name, ipv4=ipv4,
                    aliases=list(aliases), ports=list(ports))


def test_render_rules_nat_isolation_internal_and_ports():
    web = _ep("a" * 64, "10.5.0.2", ports=[PortBinding(80, 8080), PortBinding(53, 5353, "udp", "127.0.0.1")])
    script = firewall.render("composer_t", [
        _net("front", "cm-front", "10.5.0.0/24", endpoints=[web]),
        _net("back", "cm-back", "10.6.0.0/24", internal=True),
    ], ["eth0"])
    assert script.startswith("table inet composer_t {}\ndelete table inet composer_t\n")
    assert 'ip saddr 10.5.0.0/24 oifname != "cm-front" masquerade' in script
    assert "ip saddr 10.6.0.0/24 oifname" not in script  # internal: no NAT out
    assert 'iifname "cm-back" oifname != "cm-back" drop' in script
    assert 'iifname "cm-front" oifname { "cm-back" } drop' in script
    assert ('meta nfproto ipv4 iifname { "eth0" } oifname != { "cm-back", "cm-front" } '
            'oifname != "cm*" oifname != "composer0" drop') in script
    assert 'tcp dport 8080 dnat ip to 10.5.0.2:80 comment "aaaaaaaaaaaa"' in script
    assert "ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.5.0.2:53" in script
    assert 'oifname "cm-front" ct status dnat fib saddr type local masquerade' in script


def test_records_scope_to_the_clients_networks_and_round_robin():
    a = _ep("a" * 64, "10.5.0.2", name="web-1", aliases=["web"])
    b = _ep("b" * 64, "10.5.0.3", name="web-2", aliases=["web"])
    client = _ep("c" * 64, "10.5.0.9", name="client")
    far = _ep("d" * 64, "10.6.0.2", name="db")
    front = _net("front", "cm-front", "10.5.0.0/24", endpoints=[a, b, client])
    back = _net("back", "cm-back", "10.6.0.0/24", endpoints=[far])
    scope = records.client_networks([front, back], front, "10.5.0.9")
    assert scope == [front]
    assert records.client_networks([front, back], front, "10.6.0.2") == [back]  # db asks front's gateway
    assert records.client_networks([front, back], front, "192.0.2.9") == []  # a stranger
    assert records.client_networks([front, back], front, "10.5.0.1") == [front]  # the host
    assert sorted(records.resolve(scope, "web.")) == ["10.5.0.2", "10.5.0.3"]
    assert records.resolve(scope, "WEB-1") == ["10.5.0.2"]
    assert records.resolve(scope, "aaaaaaaaaaaa") == ["10.5.0.2"]
    assert records.resolve(scope, "db") == []
    orders = {tuple(records.resolve(scope, "web")) for _ in range(50)}
    assert len(orders) == 2


def test_name_dot_network_answers_on_that_network_only():
    """As docker's embedded DNS: ``NAME.NETWORK`` (dots allowed in both) is NAME on NETWORK."""
    web = _ep("a" * 64, "10.5.0.2", name="web-1", aliases=["web", "api.v1"])
    other = _ep("b" * 64, "10.6.0.2", name="web-2", aliases=["web"])
    front = _net("front", "cm-front", "10.5.0.0/24", endpoints=[web])
    dotted = _net("shop.back", "cm-back", "10.6.0.0/24", endpoints=[other])
    scope = [front, dotted]
    assert records.resolve(scope, "web.front.") == ["10.5.0.2"]
    assert records.resolve(scope, "WEB.shop.back") == ["10.6.0.2"]
    assert records.resolve(scope, "api.v1.front") == ["10.5.0.2"]
    assert records.known(scope, "web-2.shop.back") and not records.known(scope, "web-2.front")
    assert not records.known(scope, "web.elsewhere")


def test_dead_endpoints_do_not_answer():
    gone = _ep("a" * 64, "10.5.0.2", name="ghost", path="/run/netns/does-not-exist")
    assert records.resolve([_net("n", "cm-n", "10.5.0.0/24", endpoints=[gone])], "ghost") == []


def test_resolv_conf(tmp_path):
    host = tmp_path / "resolv.conf"
    host.write_text("nameserver 127.0.0.53\nnameserver 10.9.9.9\nsearch corp.example\noptions edns0\n")
    user = _net("n", "cm-n", "10.5.0.0/24")
    default = _net("bridge", "composer0", "172.17.0.0/24", default=True)
    assert render_resolv_conf([user], host_file=str(host)) == \
        "nameserver 10.5.0.1\nsearch corp.example\noptions edns0 ndots:0\n"
    assert render_resolv_conf([default], host_file=str(host)).startswith("nameserver 10.9.9.9\n")
    assert render_resolv_conf([user], dns=["1.1.1.1"], dns_search=["a.b"], dns_options=["ndots:2"],
                              host_file=str(host)) == "nameserver 10.5.0.1\nsearch a.b\noptions ndots:2\n"
    assert render_resolv_conf([default], dns=["1.1.1.1"], host_file=str(host)).startswith("nameserver 1.1.1.1\n")


def test_hosts_with_add_host_and_host_gateway():
    text = render_hosts("web1", ["10.5.0.2"], extra_hosts=["db:10.0.0.5", "gw=host-gateway", "six:::1"],
                        host_gateway="10.5.0.1")
    assert "127.0.0.1\tlocalhost" in text
    assert "10.0.0.5\tdb\n" in text and "10.5.0.1\tgw\n" in text and "::1\tsix\n" in text
    assert text.endswith("10.5.0.2\tweb1\n")
    with pytest.raises(NetworkError, match="invalid --add-host"):
        render_hosts("x", [], extra_hosts=["nocolon"])
    with pytest.raises(NetworkError, match="invalid IP"):
        render_hosts("x", [], extra_hosts=["a:b"])


def test_netlink_attribute_encoding():
    assert netlink.attr_str(3, "eth0") == b"\x09\x00\x03\x00eth0\x00\x00\x00\x00"
    assert netlink.attr_u32(4, 1500) == b"\x08\x00\x04\x00\xdc\x05\x00\x00"
    nested = netlink.attr(18, netlink.attr_str(1, "veth"))
    assert list(netlink.parse_attrs(nested)) == [(18, netlink.attr_str(1, "veth"))]
    assert netlink.mac_bytes("02:42:ac:11:00:02") == bytes([2, 0x42, 0xAC, 0x11, 0, 2])


class _RecordingSocket:
    """Stands in for a NETLINK_ROUTE socket: records what is sent, answers with an ACK per
    request (an error for the sequence numbers in ``fail``) in one datagram, as the kernel does."""

    def __init__(self, fail: dict[int, int]) -> None:
        self.sent: list[bytes] = []
        self.fail = fail

    def bind(self, _address) -> None:
        pass

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv(self, _size: int) -> bytes:
        import struct

        out, offset, data = b"", 0, self.sent[-1]
        while offset < len(data):
            length, _kind, _flags, seq, _pid = struct.unpack_from("=IHHII", data, offset)
            payload = struct.pack("=i", -self.fail.get(seq, 0)) + data[offset:offset + 16]
            out += struct.pack("=IHHII", 16 + len(payload), netlink.NLMSG_ERROR, 0, seq, 0) + payload
            offset += (length + 3) & ~3
        return out


def test_netlink_batch_sends_one_datagram_and_reports_each_result():
    import errno

    sock = _RecordingSocket({2: errno.EEXIST})
    nl = netlink.Netlink(sock)
    requests = [netlink.address_request(5, "172.18.0.2/16"), netlink.route_request("172.18.0.1"),
                netlink.address_request(5, "fd00::2/64")]
    assert [code for _answers, code in nl.batch(requests)] == [0, errno.EEXIST, 0]
    assert len(sock.sent) == 1
    assert requests[0][2].endswith(bytes([172, 18, 0, 2]))
    assert requests[2][2][:2] == bytes([10, 64])  # AF_INET6, /64


def test_netlink_configure_keeps_an_existing_default_route_but_not_other_errors():
    import errno

    class Configured(netlink.Netlink):
        def require_index(self, name: str) -> int:
            return 7

    Configured(_RecordingSocket({4: errno.EEXIST})).configure("eth1", ["10.0.0.2/24"], ["10.0.0.1"])
    with pytest.raises(NetworkError, match="add address 10.0.0.2/24"):
        Configured(_RecordingSocket({1: errno.EADDRNOTAVAIL})).configure("eth1", ["10.0.0.2/24"], ["10.0.0.1"])


def test_caller_text_cannot_escape_nft_strings():
    sneaky = _ep('x" ; flush ruleset ; "', "10.5.0.2", ports=[PortBinding(80, 8080)])
    script = firewall.render("t", [_net("n", "cm-n", "10.5.0.0/24", endpoints=[sneaky])], [])
    assert "flush ruleset" not in script and 'comment "xflushrulese"' in script


def test_conntrack_flow_parsing():
    import socket
    import struct

    from composer.network import conntrack
    from composer.network.netlink import attr

    def tup(src, dst, proto, dport):
        ip = attr(1, socket.inet_aton(src)) + attr(2, socket.inet_aton(dst))
        ports = attr(1, bytes([proto])) + attr(2, struct.pack("!H", 40000)) + attr(3, struct.pack("!H", dport))
        return attr(1 | 0x8000, ip) + attr(2 | 0x8000, ports)

    orig = tup("127.0.0.1", "127.0.0.1", 17, 5353)
    message = struct.pack("=BBH", 2, 0, 0) + attr(1 | 0x8000, orig) + attr(2 | 0x8000, tup("10.5.0.2", "10.5.0.1", 17, 40000))
    flow = conntrack._flow(message)
    assert flow[:5] == ("udp", "127.0.0.1", "127.0.0.1", 5353, "10.5.0.2")
    assert flow.orig_tuple == orig


def test_state_json_read_by_the_c_scanner(tmp_path):
    import json

    from composer.engine.runtime.state import read_json

    document = {"a": [1, 2.5, True, None, "x\u00e9"], "b": {"c": -3}}
    (tmp_path / "ok.json").write_text("  " + json.dumps(document) + "\n")
    assert read_json(str(tmp_path / "ok.json")) == document
    for bad in ("", '{"a": 1} trailing', '{"a": }', "nope"):
        (tmp_path / "bad.json").write_text(bad)
        with pytest.raises(ValueError):
            read_json(str(tmp_path / "bad.json"))


def test_names_checked_without_re():
    from composer.network.model import is_interface_name, is_network_name

    assert is_network_name("app_default") and is_network_name("9.a-b")
    assert not any(is_network_name(bad) for bad in ("", "-x", "_x", "a b", "a/b", "é"))
    assert is_interface_name("cm-0123456789ab") and not is_interface_name("x" * 16)
    assert not is_interface_name("") and not is_interface_name('a"b')
