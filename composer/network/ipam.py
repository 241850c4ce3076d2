"""IP address management like Docker's default IPAM (pure functions, no kernel access).

Subnets come from Docker's default pools (172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/20
... 192.168.240.0/20), skipping any subnet that overlaps a network composer already has or a route
the host already has (a VPN, a LAN): ``host_routes()`` reads them from /proc.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Iterator

from composer.errors import NetworkError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# (base, prefix length of each subnet carved from it), in Docker's order
DEFAULT_POOLS: tuple[tuple[str, int], ...] = (
    ("172.17.0.0/16", 16), ("172.18.0.0/16", 16), ("172.19.0.0/16", 16), ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16), ("172.28.0.0/14", 16), ("192.168.0.0/16", 20),
)


def default_subnets() -> Iterator[ipaddress.IPv4Network]:
    """Every candidate subnet of the default pools, in order."""
    for base, prefix in DEFAULT_POOLS:
        yield from ipaddress.IPv4Network(base).subnets(new_prefix=prefix)


def host_routes(proc: str = "/proc/net/route") -> list[ipaddress.IPv4Network]:
    """The IPv4 destinations the host routes (default route excluded), from /proc/net/route."""
    routes: list[ipaddress.IPv4Network] = []
    try:
        with open(proc) as handle:
            lines = handle.readlines()[1:]
    except OSError:
        return routes
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = int(fields[1], 16).to_bytes(4, "little")
        mask = int(fields[7], 16).to_bytes(4, "little")
        network = ipaddress.IPv4Network((dest, bin(int.from_bytes(mask, "big")).count("1")), strict=False)
        if network.prefixlen:
            routes.append(network)
    return routes


def pick_subnet(taken: Iterable[IPNetwork], skip_first: bool = False) -> ipaddress.IPv4Network:
    """The first default-pool subnet overlapping nothing in ``taken``.

    ``skip_first`` leaves 172.17.0.0/16 to the default bridge network, as Docker does.
    """
    taken = [net for net in taken if net.version == 4]
    for candidate in default_subnets():
        if skip_first and candidate == ipaddress.IPv4Network("172.17.0.0/16"):
            continue
        if not any(candidate.overlaps(net) for net in taken):
            return candidate
    raise NetworkError("all predefined address pools have been fully subnetted",
                       hint="remove unused networks (composer network prune) or give --subnet")


def parse_subnet(text: str, what: str = "subnet") -> IPNetwork:
    """``--subnet`` text to a network, with a clear error."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise NetworkError(f"invalid {what} {text!r}", hint="use CIDR notation like 172.28.0.0/16") from None


def default_gateway(subnet: IPNetwork) -> str:
    """The first host address of ``subnet`` (Docker's default gateway)."""
    return str(subnet.network_address + 1)


def check_in_subnet(address: str, subnet: IPNetwork, what: str) -> str:
    """``address`` normalized, or an error when it is not a host address of ``subnet``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise NetworkError(f"invalid {what} {address!r}") from None
    if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
        raise NetworkError(f"{what} {address} is not a usable address of subnet {subnet}")
    return str(ip)


def allocate(subnet: IPNetwork, used: Iterable[str], *, ip_range: str | None = None,
             requested: str | None = None) -> str:
    """A free address of ``subnet`` (inside ``ip_range`` if given), or ``requested`` if free."""
    used_set = set(used)
    if requested:
        address = check_in_subnet(requested, subnet, "address")
        if address in used_set:
            raise NetworkError(f"address {address} is already in use on this network",
                               hint="pick another --ip or disconnect the container that has it")
        return address
    pool = parse_subnet(ip_range, "ip-range") if ip_range else subnet
    for host in pool.hosts() if pool.num_addresses <= 1 << 16 else _sampled_hosts(pool):
        if host in (subnet.network_address, subnet.broadcast_address):
            continue
        if str(host) not in used_set:
            return str(host)
    raise NetworkError(f"no available addresses left in {pool}", hint="use a larger --subnet or --ip-range")


def _sampled_hosts(pool: IPNetwork) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Sequential then random hosts of a huge (IPv6) pool, without enumerating it."""
    for offset in range(2, 1 << 12):
        yield pool.network_address + offset
    for _ in range(1 << 12):
        yield pool.network_address + 2 + int.from_bytes(os.urandom(8), "big") % (pool.num_addresses - 3)


def mac_for(address: str) -> str:
    """Docker's MAC scheme for an IPv4 address: 02:42 followed by the address bytes."""
    ip = ipaddress.ip_address(address)
    tail = ip.packed[-4:]
    return "02:42:" + ":".join(f"{byte:02x}" for byte in tail)
