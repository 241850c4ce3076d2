"""Flushing stale conntrack flows (ctnetlink over our small netlink client).

A UDP flow that the kernel tracked before a port was published (a client retrying while the
container starts) keeps its old, un-NATed path until it times out, and a flow to a removed
container keeps pointing at its address: Docker's long-standing "UDP publish stops working"
(moby#8795). composer deletes such flows when it publishes UDP ports and when an endpoint goes.
Message layout: linux/netfilter/nfnetlink_conntrack.h.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Callable, NamedTuple

from composer.network.netlink import NLA_F_NESTED, NLM_F_DUMP, Netlink, attr, parse_attrs

CT_GET, CT_DELETE = (1 << 8) | 1, (1 << 8) | 2  # NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_*
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY = 1, 2
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
_NFGEN = struct.Struct("=BBH")
PROTOCOLS = {6: "tcp", 17: "udp"}


class Flow(NamedTuple):
    """The parts of a tracked flow composer matches on."""

    proto: str
    src: str
    dst: str
    dport: int
    reply_src: str
    orig_tuple: bytes  # raw CTA_TUPLE_ORIG payload, sent back to delete the flow


def _tuple(payload: bytes) -> tuple[str, str, int, int]:
    """(src, dst, proto number, dst port) of a CTA_TUPLE_* payload."""
    src = dst = ""
    proto = dport = 0
    for kind, data in parse_attrs(payload):
        if kind == CTA_TUPLE_IP:
            for ip_kind, ip_data in parse_attrs(data):
                if ip_kind == CTA_IP_V4_SRC:
                    src = str(ipaddress.IPv4Address(ip_data))
                elif ip_kind == CTA_IP_V4_DST:
                    dst = str(ipaddress.IPv4Address(ip_data))
        elif kind == CTA_TUPLE_PROTO:
            for p_kind, p_data in parse_attrs(data):
                if p_kind == CTA_PROTO_NUM:
                    proto = p_data[0]
                elif p_kind == CTA_PROTO_DST_PORT:
                    dport = struct.unpack("!H", p_data[:2])[0]
    return src, dst, proto, dport


def _flow(message: bytes) -> Flow | None:
    orig = reply = None
    for kind, data in parse_attrs(message[_NFGEN.size:]):
        if kind == CTA_TUPLE_ORIG:
            orig = data
        elif kind == CTA_TUPLE_REPLY:
            reply = data
    if orig is None or reply is None:
        return None
    src, dst, proto, dport = _tuple(orig)
    return Flow(PROTOCOLS.get(proto, str(proto)), src, dst, dport, _tuple(reply)[0], orig)


def flush(match: Callable[[Flow], bool]) -> int:
    """Delete every IPv4 flow ``match`` accepts; return how many went."""
    header = _NFGEN.pack(socket.AF_INET, 0, 0)
    with Netlink.netfilter() as nl:
        try:
            messages = nl.request(CT_GET, NLM_F_DUMP, header, what="conntrack dump")
        except OSError:
            return 0  # no conntrack in this kernel: nothing is tracked
        doomed = [flow for flow in map(_flow, messages) if flow is not None and match(flow)]
        for flow in doomed:
            try:
                nl.request(CT_DELETE, 0, header + attr(CTA_TUPLE_ORIG | NLA_F_NESTED, flow.orig_tuple),
                           what="conntrack delete")
            except OSError:
                pass  # it expired meanwhile
    return len(doomed)


def flush_endpoint(address: str) -> int:
    """Forget flows answered by a container address that is going away."""
    return flush(lambda flow: flow.reply_src == address)


def flush_ports(ports: list[tuple[str, int]]) -> int:
    """Forget UDP flows to newly published host ports (tracked before the DNAT existed)."""
    wanted = {(proto, port) for proto, port in ports if proto == "udp"}
    if not wanted:
        return 0
    return flush(lambda flow: (flow.proto, flow.dport) in wanted)
