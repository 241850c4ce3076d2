"""Kernel side of an endpoint: a veth pair between a bridge and a container's network namespace."""

from __future__ import annotations

import _socket as socket  # the C module: socket.py costs milliseconds on every run
import os

from composer.errors import NetworkError
from composer.network.model import Endpoint, Network
from composer.network.netlink import Netlink


def attach(net: Network, container_id: str, netns_path: str, address: str, mac: str, ifname: str,
           *, name: str, aliases: list[str], address6: str = "", extra: list[str] = ()) -> Endpoint:
    """Create the veth pair, plug it into ``net``'s bridge and configure the container side.

    The peer is created directly inside the namespace (no rename, no move); on any failure the
    host end is deleted, which takes the peer with it. ``extra``: more ``ADDRESS/PREFIX`` of the
    interface (link-local ones).
    """
    try:
        ns_fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        raise NetworkError(f"cannot open network namespace {netns_path}: {error.strerror}") from None
    host_ifname = f"veth{os.urandom(4).hex()[:7]}"
    try:
        st = os.fstat(ns_fd)
        with Netlink() as nl:
            index = nl.add_veth(host_ifname, ifname, ns_fd, mtu=net.mtu, peer_mac=mac, master=bridge_index(net.bridge))
            try:
                nl.set_hairpin(index)
                _configure_inside(net, netns_path, ifname, address, address6, extra)
            except BaseException:
                nl.delete_link(host_ifname)
                raise
    finally:
        os.close(ns_fd)
    return Endpoint(container_id=container_id, endpoint_id=os.urandom(32).hex(), netns_path=netns_path,
                    netns_inode=(st.st_dev, st.st_ino), host_ifname=host_ifname, ifname=ifname, name=name,
                    ipv4=address, ipv6=address6, mac=mac, aliases=aliases)


def _configure_inside(net: Network, netns_path: str, ifname: str, address: str, address6: str,
                      extra: list[str]) -> None:
    """Addresses, the peer and loopback up, and (unless internal) default routes, in the
    namespace (one netlink batch: the peer cannot be born up, see ``Netlink.add_veth``)."""
    interfaces = [f"{address}/{net.subnet.split('/')[1]}"]
    gateways = [] if net.internal else [net.gateway]
    if address6:
        interfaces.append(f"{address6}/{net.subnet6.split('/')[1]}")
        gateways += [] if net.internal else [net.gateway6]
    interfaces += extra
    with Netlink.inside(netns_path) as inner:
        inner.configure(ifname, interfaces, gateways)


def bridge_index(bridge: str) -> int:
    """The index of ``bridge`` in this namespace (an ioctl, no netlink round trip)."""
    try:
        return socket.if_nametoindex(bridge)
    except OSError:
        raise NetworkError(f"network interface {bridge} does not exist",
                           hint="run 'composer network prune' (or remove and re-create the network)") from None


def detach(ep: Endpoint) -> None:
    """Delete the host end of the veth (and so the pair; absent is fine), and the UDP flows
    still pointing at a published endpoint.

    When the container's namespace is gone the kernel deletes the pair itself (in the background);
    deleting it here too would only make the caller wait for the kernel's RCU grace period."""
    if ep.alive():
        with Netlink() as nl:
            nl.delete_link(ep.host_ifname)
    if ep.ipv4 and any(port.proto == "udp" for port in ep.ports):
        from composer.network import conntrack

        conntrack.flush_endpoint(ep.ipv4)
