"""Published ports: ``-p`` parsing, random host ports, and who already holds a port.

``parse_publish`` follows ``docker run -p [ip:][hostPort:]containerPort[/proto]`` with ranges.
``host_holder`` finds a host socket on a port from /proc/net/{tcp,udp}{,6} and its process from
the ``socket:[inode]`` links in /proc/*/fd, so a conflict names the program holding the port.
"""

from __future__ import annotations

import os

from composer.errors import NetworkError, PortConflictError
from composer.network.model import PortBinding

TYPE_CHECKING = False  # typing stays off ``container run``'s path
if TYPE_CHECKING:
    from collections.abc import Iterable

EPHEMERAL = (32768, 60999)
_LISTEN = {"tcp": "0A", "udp": "07"}


def _port_range(text: str, spec: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise NetworkError(f"invalid port {text!r} in {spec!r}", hint="use [ip:][hostPort:]containerPort[/tcp|udp]") from None
    if not (0 < first <= last <= 65535):
        raise NetworkError(f"invalid port range {text!r} in {spec!r}", hint="ports are 1-65535")
    return list(range(first, last + 1))


def _split_host_ip(spec: str) -> tuple[str, str]:
    """``[::1]:80:80`` / ``127.0.0.1:80:80`` / ``80:80`` -> (host ip, rest)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]:")
        return host, rest
    parts = spec.rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], f"{parts[1]}:{parts[2]}"
    if spec.count(":") > 2:  # bare IPv6 host ip like ::
        host, _, rest = spec.rpartition(":")
        return host, rest
    return "", spec


def parse_publish(spec: str) -> list[PortBinding]:
    """Bindings for one ``-p`` value; host port 0 means 'pick a free one'."""
    body, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise NetworkError(f"invalid protocol {proto!r} in {spec!r}", hint="use tcp or udp")
    host_ip, rest = _split_host_ip(body)
    if host_ip:
        import ipaddress  # only for -p IP:...: a few ms off every run

        try:
            host_ip = str(ipaddress.ip_address(host_ip))
        except ValueError:
            raise NetworkError(f"invalid host address {host_ip!r} in {spec!r}") from None
    host_text, _, container_text = rest.rpartition(":")
    container_ports = _port_range(container_text, spec)
    if not host_text:
        return [PortBinding(port, 0, proto, host_ip) for port in container_ports]
    host_ports = _port_range(host_text, spec)
    if len(host_ports) != len(container_ports):
        if len(container_ports) == 1:  # docker: one port of the host range, the first free one
            return [PortBinding(container_ports[0], host_ports[0], proto, host_ip, host_ports[-1])]
        raise NetworkError(f"host and container port ranges differ in size in {spec!r}")
    return [PortBinding(c, h, proto, host_ip) for h, c in zip(host_ports, container_ports)]


def _proc_sockets(proto: str) -> list[tuple[str, int, int]]:
    """(local address, port, inode) of host sockets bound on ``proto`` (listening for TCP)."""
    found = []
    for suffix in ("", "6"):
        try:
            with open(f"/proc/net/{proto}{suffix}") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != _LISTEN[proto]:
                continue
            addr_hex, port_hex = fields[1].split(":")
            found.append((_decode_address(addr_hex), int(port_hex, 16), int(fields[9])))
    return found


def _decode_address(text: str) -> str:
    import ipaddress

    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def _overlaps(a: str, b: str) -> bool:
    wild = ("", "0.0.0.0", "::")
    return a in wild or b in wild or a == b


def _process_of(inode: int) -> str:
    """``name (pid N)`` of the process owning socket ``inode``, or a fallback text."""
    target = f"socket:[{inode}]"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    with open(f"/proc/{pid}/comm") as handle:
                        name = handle.read().strip()
                    return f"host process {name} (pid {pid})"
        except OSError:
            continue
    return "a host socket (process unknown)"


def host_holder(binding: PortBinding) -> str | None:
    """Who on the host holds ``binding``'s port, or None when it is free."""
    for address, port, inode in _proc_sockets(binding.proto):
        if port == binding.host_port and _overlaps(address, binding.host_ip):
            return f"{_process_of(inode)} listening on {address}:{port}/{binding.proto}"
    return None


def random_port(proto: str, taken: set[tuple[str, int]]) -> int:
    """A free port of the ephemeral range: not published by composer, not bound on the host."""
    import random

    bound = {port for _addr, port, _inode in _proc_sockets(proto)}
    for _ in range(2000):
        port = random.randint(*EPHEMERAL)
        if (proto, port) not in taken and port not in bound:
            return port
    raise NetworkError("no free host port left in the ephemeral range")


def publish_all(exposed: Iterable[str], explicit: Iterable[str]) -> list[str]:
    """``-P``: a ``-p`` spec (random host port) for every exposed port (``80/tcp``, ``8000-8001``,
    the image's EXPOSE and ``--expose``) that no explicit ``-p`` already publishes, as docker does."""
    taken = {(b.container_port, b.proto) for spec in explicit for b in parse_publish(spec)}
    specs: list[str] = []
    for item in exposed:
        number, _, proto = item.partition("/")
        for port in _port_range(number, item):
            spec = f"{port}/{proto or 'tcp'}"
            if (port, proto or "tcp") not in taken and spec not in specs:
                specs.append(spec)
    return specs


def conflict(port: PortBinding, held: dict) -> PortConflictError | None:
    """The error for ``port`` when a composer endpoint or a host process already holds it."""
    owner = held.get(port.key())
    if owner and hosts_overlap(owner[2].host_ip, port.host_ip):
        net, ep, _ = owner
        hint = "the same host port is published twice"
        if ep is not None:
            who = f"container {ep.name or ep.container_id[:12]}" + (f" of project {ep.project}" if ep.project else "")
            hint = f"held by {who} on network {net.name}"
        return PortConflictError(f"Bind for {port.host_ip or '0.0.0.0'}:{port.host_port} failed: port is already allocated",
                                 hint=hint)
    holder = host_holder(port)
    if holder:
        return PortConflictError(f"listen {port.proto} {port.host_ip or '0.0.0.0'}:{port.host_port}: bind: address already in use",
                                 hint=f"held by {holder}")
    return None


def hosts_overlap(a: str, b: str) -> bool:
    wild = ("", "0.0.0.0", "::")
    return a in wild or b in wild or a == b
