"""``network connect``/``disconnect`` of a container, kept in its config as docker keeps them.

A running container is plugged in (or out) at once; either way the change is recorded in the
container's ``config.json`` (``endpoints``, or ``network`` for its primary network), so its next
start joins exactly those networks again, and a stopped container can be connected: it joins the
network when it starts (``attach_network`` reads the same config).
"""

from __future__ import annotations

import os

from composer.engine.runtime.state import ContainerDir, find_container, write_json_atomic
from composer.errors import ContainerNotFound, NetworkError
from composer.network.manager import DEFAULT_NETWORK, NetworkManager, check_static_addresses
from composer.network.model import Endpoint, Network, parse_link, parse_link_local


def _names(net: Network) -> set[str]:
    """How a container config may name ``net``."""
    return {net.name, net.id} | ({"bridge", "default"} if net.default else set())


def _recorded(config: dict, net: Network) -> bool:
    names = _names(net)
    return config.get("network") in names or any(ep.get("network") in names for ep in config.get("endpoints", []))


def _netns(cdir: ContainerDir) -> str | None:
    """The network namespace of the container's PID 1 while it runs, else None."""
    state = cdir.read_state()
    pid = state.get("Pid") or 0
    if state.get("Status") != "running" or not pid or not os.path.exists(f"/proc/{pid}/ns/net"):
        return None
    return f"/proc/{pid}/ns/net"


def connect_container(manager: NetworkManager, network: str, reference: str, *, aliases: list[str],
                      ipv4: str | None = None, ipv6: str | None = None, links: list[str] = (),
                      link_local_ips: list[str] = ()) -> Endpoint | None:
    """Connect container ``reference`` to ``network``: now if it runs, and from its next start on.
    Returns the live endpoint (None for a stopped container). ``links``: ``CONTAINER[:ALIAS]``."""
    cdir = find_container(reference)
    net = manager.get(DEFAULT_NETWORK if network == "default" else network)
    with cdir.lock():  # the runtime's lock of the container's files: no update of config.json is lost
        config = cdir.read_config()
        name = str(config.get("name") or reference)
        mode = str(config.get("network") or "")
        if mode == "none":  # dockerd's words
            raise NetworkError("container cannot be connected to multiple networks with one of the networks in "
                               "private (none) mode")
        if mode == "host" or mode.startswith("container:"):
            raise NetworkError("container sharing network namespace with another container or host cannot be "
                               "connected to any other network")
        if _recorded(config, net):
            raise NetworkError(f"endpoint with name {name} already exists in network {net.name}")
        check_static_addresses(net, ipv4, ipv6)  # for a stopped container too, as docker
        links = [parse_link(link) for link in links]
        for address in link_local_ips:
            parse_link_local(address)
        netns = _netns(cdir)
        endpoint = None
        if netns:
            endpoint = manager.connect(net.name, cdir.id, netns, name=name, aliases=aliases, ipv4=ipv4,
                                       ipv6=ipv6, dns=config.get("dns") or (), links=links,
                                       link_local_ips=link_local_ips)
        config.setdefault("endpoints", []).append({"network": net.name, "aliases": list(aliases),
                                                   "ipv4_address": ipv4 or "", "ipv6_address": ipv6 or "",
                                                   **({"links": links} if links else {}),
                                                   **({"link_local_ips": list(link_local_ips)} if link_local_ips else {})})
        write_json_atomic(cdir.config, config)
    return endpoint


def disconnect_container(manager: NetworkManager, network: str, reference: str, *, force: bool = False) -> None:
    """Disconnect ``reference`` (a container, or the name of a bare namespace connected with
    ``--netns``) from ``network``: its live endpoint goes, and its config forgets the network."""
    net = manager.get(DEFAULT_NETWORK if network == "default" else network)
    try:
        cdir = find_container(reference)
    except ContainerNotFound as missing:  # a bare namespace (no config), or (-f) a removed container's endpoint
        try:
            manager.disconnect(net.id, reference)
        except NetworkError:
            raise NetworkError(f"endpoint {reference} not found") if force else missing from None
        return
    with cdir.lock():
        config = cdir.read_config()
        recorded = _recorded(config, net)
        live = cdir.id in manager.get(net.id).endpoints  # read under the lock: a connect may just have ended
        if not recorded and not live:  # dockerd's words (its sandbox's, "to network", for a none/host one)
            shared = config.get("network") in ("none", "host") or str(config.get("network")).startswith("container:")
            raise NetworkError(f"container {cdir.id} is not connected to {'network' if shared else 'the network'} "
                               f"{net.name}")
        if live:
            manager.disconnect(net.id, cdir.id, force=True)
        if recorded:
            names = _names(net)
            config["endpoints"] = [ep for ep in config.get("endpoints", []) if ep.get("network") not in names]
            if config.get("network") in names:
                config["network"] = "none"  # docker: a container disconnected from all networks has none
            write_json_atomic(cdir.config, config)
