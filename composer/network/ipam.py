"""IP address management like Docker's default IPAM (pure functions, no kernel access).

Subnets come from Docker's default pools (172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/20
... 192.168.240.0/20), skipping any subnet that overlaps a network composer already has or a route
the host already has (a VPN, a LAN): ``host_routes()`` reads them from /proc.
"""

from __future__ import annotations

import _socket as socket  # inet_pton/ntop without socket.py
import os

from composer.errors import NetworkError

TYPE_CHECKING = False  # ipaddress (a few ms) stays off ``container run``'s path: allocation is integers
if TYPE_CHECKING:
    import ipaddress
    from collections.abc import Iterable, Iterator

    IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# (base, prefix length of each subnet carved from it), in Docker's order
DEFAULT_POOLS: tuple[tuple[str, int], ...] = (
    ("172.17.0.0/16", 16), ("172.18.0.0/16", 16), ("172.19.0.0/16", 16), ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16), ("172.28.0.0/14", 16), ("192.168.0.0/16", 20),
)


def default_subnets() -> Iterator[ipaddress.IPv4Network]:
    """Every candidate subnet of the default pools, in order."""
    import ipaddress

    for base, prefix in DEFAULT_POOLS:
        yield from ipaddress.IPv4Network(base).subnets(new_prefix=prefix)


def host_routes(proc: str = "/proc/net/route") -> list[ipaddress.IPv4Network]:
    """The IPv4 destinations the host routes (default route excluded), from /proc/net/route."""
    import ipaddress

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
    import ipaddress

    taken = [net for net in taken if net.version == 4]
    for candidate in default_subnets():
        if skip_first and candidate == ipaddress.IPv4Network("172.17.0.0/16"):
            continue
        if not any(candidate.overlaps(net) for net in taken):
            return candidate
    raise NetworkError("all predefined address pools have been fully subnetted",
                       hint="remove unused networks (composer network prune) or give --subnet")


def parse_subnet(text: str, what: str = "subnet") -> IPNetwork:
    """``--subnet`` text to a network; dockerd's error for one that is none."""
    import ipaddress

    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise NetworkError(f"Invalid {what} {text} : invalid CIDR address: {text}") from None


def default_gateway(subnet: IPNetwork) -> str:
    """The first host address of ``subnet`` (Docker's default gateway)."""
    return str(subnet.network_address + 1)


def _integer(address: str, what: str) -> tuple[int, int]:
    """(value, address bits) of an IPv4 or IPv6 address."""
    bits = 128 if ":" in address else 32
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6 if bits == 128 else socket.AF_INET, address), "big"), bits
    except (OSError, ValueError):
        raise NetworkError(f"invalid {what} {address!r}") from None


def _text(value: int, bits: int) -> str:
    return socket.inet_ntop(socket.AF_INET6 if bits == 128 else socket.AF_INET, value.to_bytes(bits // 8, "big"))


def _block(cidr: object, what: str) -> tuple[int, int, int]:
    """(first address, number of addresses, address bits) of a CIDR (text or ipaddress network)."""
    address, _, length = str(cidr).partition("/")
    value, bits = _integer(address, what)
    if not (length.isdigit() and int(length) <= bits):
        raise NetworkError(f"invalid {what} {cidr!r}", hint="use CIDR notation like 172.28.0.0/16")
    size = 1 << (bits - int(length))
    return value & ~(size - 1), size, bits


def check_in_subnet(address: str, subnet: object, what: str) -> str:
    """``address`` normalized, or an error when it is not a host address of ``subnet``."""
    value, bits = _integer(address, what)
    first, size, subnet_bits = _block(subnet, "subnet")
    if bits != subnet_bits or not first < value < first + size - 1:
        raise NetworkError(f"{what} {address} is not a usable address of subnet {subnet}")
    return _text(value, bits)


def allocate(subnet: object, used: Iterable[str], *, ip_range: str | None = None,
             requested: str | None = None) -> str:
    """A free address of ``subnet`` (inside ``ip_range`` if given), or ``requested`` if free
    (integer arithmetic: no ipaddress import on a container's start)."""
    first, size, bits = _block(subnet, "subnet")
    taken = {_integer(address, "address")[0] for address in used if address}
    if requested:
        address = check_in_subnet(requested, subnet, "address")
        if _integer(address, "address")[0] in taken:
            raise NetworkError(f"address {address} is already in use on this network",
                               hint="pick another --ip or disconnect the container that has it")
        return address
    start, pool_size, _ = _block(ip_range, "ip-range") if ip_range else (first, size, bits)
    candidates = range(start + 1, start + pool_size - 1) if pool_size <= 1 << 16 else _sampled(start, pool_size)
    for value in candidates:
        if first < value < first + size - 1 and value not in taken:
            return _text(value, bits)
    raise NetworkError(f"no available addresses left in {ip_range or subnet}",
                       hint="use a larger --subnet or --ip-range")


def _sampled(start: int, size: int) -> Iterator[int]:
    """Sequential then random hosts of a huge (IPv6) pool, without enumerating it."""
    yield from range(start + 2, start + (1 << 12))
    for _ in range(1 << 12):
        yield start + 2 + int.from_bytes(os.urandom(8), "big") % (size - 3)


def mac_for(address: str) -> str:
    """Docker's MAC scheme for an IPv4 address: 02:42 followed by the address bytes."""
    value, _bits = _integer(address, "address")
    return "02:42:" + ":".join(f"{byte:02x}" for byte in (value & 0xFFFFFFFF).to_bytes(4, "big"))
