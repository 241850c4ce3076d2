"""Which addresses answer a name, for a client on a network (pure: networks in, addresses out).

Names are looked up on every user-defined network the asking container is attached to:
container names, aliases (compose adds the service name, so a scaled service has one record per
replica) and the short container id; a container's ``links`` aliases (``--link db:database``) for
that container only. The default ``bridge`` network has no name resolution, as Docker's. Dead
endpoints (namespace gone) never answer.
"""

from __future__ import annotations

import random

from composer.network.model import Network


def client_networks(networks: list[Network], arrived_on: Network, client_ip: str) -> list[Network]:
    """The networks whose names the sender of a query to ``arrived_on``'s gateway may see.

    A container sees the networks it is attached to, wherever it sends the query (a container
    of another network reaching this gateway through the host learns nothing of this one); the
    host itself (its source address is the gateway) sees ``arrived_on``; anyone else nothing.
    """
    if client_ip == arrived_on.gateway:
        return [arrived_on]
    containers = {cid for net in networks for cid, ep in net.endpoints.items() if ep.ipv4 == client_ip}
    return [net for net in networks if not net.default and containers & set(net.endpoints)]


def linked(networks: list[Network], client_ip: str, name: str) -> str:
    """The container that ``name`` stands for when it is a link alias of the asking container
    (``links: [db:database]`` makes ``database`` mean ``db`` for it alone), else ``name``."""
    wanted = name.rstrip(".").lower()
    clients = {cid for net in networks for cid, ep in net.endpoints.items() if ep.ipv4 == client_ip}
    for net in networks:
        for cid, ep in net.endpoints.items():
            if cid not in clients:
                continue
            for link in ep.links:  # the links of any of its endpoints: it may ask on another network
                target, _, alias = link.partition(":")
                if alias.lower() == wanted:
                    return target
    return name


def resolve(networks: list[Network], name: str, family: int = 4) -> list[str]:
    """IPv4 (or IPv6) addresses of endpoints answering to ``name`` on ``networks``, shuffled."""
    found: list[str] = []
    for net, wanted in _lookups(networks, name):
        for ep in net.endpoints.values():
            address = ep.ipv4 if family == 4 else ep.ipv6
            if address and wanted in (n.lower() for n in ep.names()) and address not in found and ep.alive():
                found.append(address)
    random.shuffle(found)
    return found


def known(networks: list[Network], name: str) -> bool:
    """Whether ``name`` is a container name or alias on ``networks`` (any address family)."""
    return any(wanted in (n.lower() for n in ep.names()) and ep.alive()
               for net, wanted in _lookups(networks, name) for ep in net.endpoints.values())


def _lookups(networks: list[Network], name: str) -> list[tuple[Network, str]]:
    """(network, name) pairs to look ``name`` up as: on every network, and, as docker's embedded
    DNS, ``NAME.NETWORK`` as NAME on that network only (``db.shop_default``, names with dots too)."""
    wanted = name.rstrip(".").lower()
    pairs = [(net, wanted) for net in networks]
    by_name = {net.name.lower(): net for net in networks}
    head = wanted
    while "." in head:
        head = head.rpartition(".")[0]
        network = by_name.get(wanted[len(head) + 1:])
        if network is not None:
            pairs.append((network, head))
    return pairs
