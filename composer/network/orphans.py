"""Kernel objects a crash left behind: bridges and veths that no state file knows.

A crash between creating a bridge (or veth) and saving the state leaves a link composer cannot
name from its state. Bridges of a root carry its prefix (``cm-``, ``cm<tag>-`` for test roots),
so they are recognizable; veths are recognizable as ports of our bridges.

A state root deleted while its networks existed (a test's temporary root whose teardown never
ran) leaves bridges, an nftables table and a slice of the address pools that no later command
would ever free. Every bridge therefore carries ``composer <state folder>`` as its ifalias, and
``sweep_abandoned`` removes the bridges (and tables) whose folder is gone.
"""

from __future__ import annotations

import os

from composer.network.model import Network
from composer.network.netlink import Netlink
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


def sweep_abandoned() -> list[str]:
    """Delete composer bridges whose state folder no longer exists, and their nftables tables."""
    from composer.network import firewall
    from composer.network.store import host_tag

    removed, tables = [], set()
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
            tables.add(f"composer_{tag}" if tag else "composer")
    for table in sorted(tables):
        firewall.remove(table)
    return removed
