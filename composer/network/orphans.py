"""Kernel objects a crash left behind: bridges and veths that no state file knows.

A crash between creating a bridge (or veth) and saving the state leaves a link composer cannot
name from its state. Bridges of a root carry its prefix (``cm-``, ``cm<tag>-`` for test roots),
so they are recognizable; veths are recognizable as ports of our bridges.

A state root deleted while its networks existed (a test's temporary root whose teardown never
ran) leaves bridges, an nftables table and a slice of the address pools that no later command
would ever free. Every bridge therefore carries ``composer <state folder>`` as its ifalias, and
every table the same words as its comment; ``sweep_abandoned`` removes the bridges and tables
whose folder is gone (a live root's folder exists from before its first bridge or table on).
"""

from __future__ import annotations

import os

from composer.network.model import Network
from composer.network.netlink import NLM_F_DUMP, Netlink, nftables_batch, parse_attrs
from composer.network.store import NetworkStore

SYS_NET = "/sys/class/net"


def bridge_ports(bridge: str) -> list[str]:
    """The interfaces plugged into ``bridge`` (from sysfs)."""
    try:
        return os.listdir(f"{SYS_NET}/{bridge}/brif")
    except OSError:
        return []


def sweep_orphans(store: NetworkStore, networks: list[Network]) -> list[str]:
    """Delete our-prefixed bridges without a network and unknown ports of our bridges."""
    known_bridges = {net.bridge: net for net in networks}
    removed = []
    with Netlink() as nl:
        for link in os.listdir(SYS_NET):
            net = known_bridges.get(link)
            if net is None and not (link.startswith(store.bridge_prefix) or link == store.default_bridge):
                continue
            known_ports = {ep.host_ifname for ep in net.endpoints.values()} if net else set()
            for port in bridge_ports(link):
                if port not in known_ports and nl.delete_link(port):
                    removed.append(port)
            if net is None and nl.delete_link(link):
                removed.append(link)
    return removed


ALIAS_PREFIX = "composer "


def bridge_alias(store: NetworkStore) -> str:
    """The ifalias of a bridge of ``store`` (names its state folder)."""
    return ALIAS_PREFIX + store.dir


def _alias_of(link: str) -> str:
    try:
        with open(f"{SYS_NET}/{link}/ifalias") as handle:
            return handle.read().strip()
    except OSError:
        return ""


NFT_MSG_GETTABLE, NFTA_TABLE_NAME, NFTA_TABLE_USERDATA = 1, 1, 6  # linux/netfilter/nf_tables.h
NFPROTO_INET, UDATA_TABLE_COMMENT = 1, 0  # libnftnl's udata: type, length, NUL-ended text


def table_owners() -> dict[str, str]:
    """composer's inet tables (``composer``, ``composer_<tag>``) and the state folder each names in
    its comment ("" for a table without one: an earlier version's), in one netlink dump."""
    results = nftables_batch([(NFT_MSG_GETTABLE, NLM_F_DUMP, bytes((NFPROTO_INET, 0, 0, 0)))])
    if results is None:  # (not root: nothing of ours to sweep either)
        return {}
    answers, _code = results[0]
    owners = {}
    for payload in answers:
        attrs = dict(parse_attrs(payload[4:]))  # after the nfgenmsg header
        name = attrs.get(NFTA_TABLE_NAME, b"").rstrip(b"\0").decode(errors="replace")
        if name == "composer" or name.startswith("composer_"):
            comment = _udata_comment(attrs.get(NFTA_TABLE_USERDATA, b""))
            owners[name] = comment[len(ALIAS_PREFIX):] if comment.startswith(ALIAS_PREFIX + "/") else ""
    return owners


def _udata_comment(udata: bytes) -> str:
    offset = 0
    while offset + 2 <= len(udata):
        kind, length = udata[offset], udata[offset + 1]
        if kind == UDATA_TABLE_COMMENT:
            return udata[offset + 2: offset + 2 + length].rstrip(b"\0").decode(errors="replace")
        offset += 2 + length
    return ""


def sweep_abandoned() -> list[str]:
    """Delete composer bridges whose state folder no longer exists, the nftables tables of those
    folders (found through the bridges, or through the folder a table's comment names: a table
    whose bridges went first), the iptables FORWARD accept rules of deleted folders, and their
    claims on the host's uplinks (forwarding switched off where no live root needs it). The caller
    holds the host-wide lock."""
    from composer.network import firewall, uplinks
    from composer.network.store import host_tag

    owners = table_owners()
    removed, tables = [], {table for table, folder in owners.items() if folder and not os.path.isdir(folder)}
    with Netlink() as nl:
        for link in os.listdir(SYS_NET):
            alias = _alias_of(link)
            if not alias.startswith(ALIAS_PREFIX) or os.path.isdir(alias[len(ALIAS_PREFIX):]):
                continue
            folder = alias[len(ALIAS_PREFIX):]
            for port in bridge_ports(link):
                nl.delete_link(port)
            if nl.delete_link(link):
                removed.append(link)
            tag = host_tag(folder)
            table = f"composer_{tag}" if tag else "composer"
            if owners.get(table, folder) in ("", folder):  # not a live root's of the same tag
                tables.add(table)
    for table in sorted(tables):
        firewall.remove(table)
    if tables:  # a deleted root's accept rules, when it had any (no iptables process otherwise)
        from composer.network import forward_policy

        forward_policy.remove_stale()
    uplinks.drop_abandoned()
    return removed
