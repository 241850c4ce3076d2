"""The network layer's data: networks, endpoints, port bindings (JSON-friendly records).

They are ``Record``s, not dataclasses: ``container run`` on the default bridge imports this module,
and ``dataclasses`` (with ``inspect``) would cost it milliseconds.
"""

from __future__ import annotations

import os

from composer.engine.runtime.record import Record

ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
NAME_CHARS = ALNUM | frozenset("_.-")  # names, interface names; nothing that closes an nft string


def is_network_name(text: str) -> bool:
    """Docker's network name rule, ``[a-zA-Z0-9][a-zA-Z0-9_.-]*`` (without ``re``: it and
    ``enum`` cost a container start milliseconds)."""
    return bool(text) and text[0] in ALNUM and set(text) <= NAME_CHARS


def is_interface_name(text: str) -> bool:
    """A Linux interface name composer accepts: 1-15 of ``[a-zA-Z0-9_.-]``."""
    return 1 <= len(text) <= 15 and set(text) <= NAME_CHARS


def parse_link(text: str) -> str:
    """A ``--link``/compose ``links`` entry, ``CONTAINER[:ALIAS]``, as ``CONTAINER:ALIAS``
    (docker's "bad format for links" otherwise)."""
    target, _, alias = text.partition(":")
    alias = alias or target  # docker takes "db:" too
    if not is_network_name(target) or not is_network_name(alias) or ":" in alias:
        from composer.errors import NetworkError

        raise NetworkError(f"bad format for links: {text}", hint="use CONTAINER or CONTAINER:ALIAS")
    return f"{target}:{alias}"


def parse_link_local(address: str) -> str:
    """A ``--link-local-ip`` address as the interface address docker gives it (IPv4 /16, IPv6 /64)."""
    import _socket

    for family, prefix in ((_socket.AF_INET, 16), (_socket.AF_INET6, 64)):
        try:
            packed = _socket.inet_pton(family, address)
        except OSError:
            continue
        if any(packed):  # 0.0.0.0 and :: are refused, as docker
            return f"{address}/{prefix}"
    from composer.errors import NetworkError

    raise NetworkError(f"Invalid link-local IP address: [{address}]", hint="an IPv4 (169.254.x.x) or IPv6 (fe80::) address")


class PortBinding(Record):
    """One published port: host ``host_ip:host_port`` -> container ``container_port``/``proto``.

    ``host_port_end`` > 0 asks for the first free host port of ``host_port``..``host_port_end``
    (``-p 8000-8010:80``); the manager replaces it by the port it picked.
    """

    container_port: int
    host_port: int
    proto: str = "tcp"
    host_ip: str = ""  # "" = every host address (0.0.0.0)
    host_port_end: int = 0

    def __init__(self, container_port: int, host_port: int, proto: str = "tcp", host_ip: str = "",
                 host_port_end: int = 0) -> None:
        super().__init__(container_port=container_port, host_port=host_port, proto=proto, host_ip=host_ip,
                         host_port_end=host_port_end)

    def key(self) -> tuple[str, int]:
        return self.proto, self.host_port

    def candidates(self) -> range:
        """The host ports this binding may take (one, or the range it asks for)."""
        return range(self.host_port, max(self.host_port, self.host_port_end) + 1)

    def __str__(self) -> str:
        host = self.host_ip or "0.0.0.0"
        return f"{host}:{self.host_port}->{self.container_port}/{self.proto}"


class Endpoint(Record):
    """A container's attachment to one network: veth, addresses, names, published ports."""

    container_id: str
    endpoint_id: str
    netns_path: str
    netns_inode: tuple[int, int]  # (st_dev, st_ino) of the namespace when connected
    host_ifname: str
    ifname: str = "eth0"
    name: str = ""  # the container's name (resolvable by DNS)
    ipv4: str = ""
    ipv6: str = ""
    mac: str = ""
    aliases: list[str] = []
    ports: list[PortBinding] = []
    project: str = ""  # com.docker.compose.project of the container, for conflict messages
    dns: list[str] = []  # the container's ``--dns`` resolvers: its unknown names go there (as docker's)
    links: list[str] = []  # ``CONTAINER:ALIAS``: ALIAS names CONTAINER for this endpoint's container only
    link_local_ips: list[str] = []  # ``ADDRESS/PREFIX``: extra addresses of its interface (--link-local-ip)

    def alive(self) -> bool:
        """Whether the namespace this endpoint was made in still exists."""
        try:
            st = os.stat(self.netns_path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == tuple(self.netns_inode)

    def names(self) -> list[str]:
        """Every name this endpoint answers to on its network."""
        found = [self.name] if self.name else []
        found += [alias for alias in self.aliases if alias]
        found.append(self.container_id[:12])
        return found

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "Endpoint":
        data = dict(data)
        data["ports"] = [PortBinding(**port) for port in data.get("ports", [])]
        data["netns_inode"] = tuple(data.get("netns_inode", (0, 0)))
        return cls(**data)


class Network(Record):
    """A bridge network as composer stores it."""

    id: str
    name: str
    bridge: str
    subnet: str
    gateway: str
    created: str
    driver: str = "bridge"
    ip_range: str = ""
    subnet6: str = ""
    gateway6: str = ""
    ipv6: bool = False
    internal: bool = False
    attachable: bool = False
    default: bool = False  # the default ``bridge`` network (no name resolution, as Docker's)
    user_subnet: bool | None = None  # its subnet was given (None: made before composer kept this)
    mtu: int = 1500
    labels: dict[str, str] = {}
    options: dict[str, str] = {}
    endpoints: dict[str, Endpoint] = {}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "Network":
        data = dict(data)
        data["endpoints"] = {cid: Endpoint.from_dict(ep) for cid, ep in data.get("endpoints", {}).items()}
        return cls(**data)

    def used_addresses(self) -> list[str]:
        return [self.gateway] + [ep.ipv4 for ep in self.endpoints.values() if ep.ipv4]

    def used_addresses6(self) -> list[str]:
        return [self.gateway6] + [ep.ipv6 for ep in self.endpoints.values() if ep.ipv6]

    def inspect(self) -> dict[str, object]:
        """The ``docker network inspect`` shape."""
        config = [{"Subnet": self.subnet, "Gateway": self.gateway} | ({"IPRange": self.ip_range} if self.ip_range else {})]
        if self.subnet6:
            config.append({"Subnet": self.subnet6, "Gateway": self.gateway6})
        prefix = self.subnet.split("/")[1]
        containers = {
            cid: {
                "Name": ep.name, "EndpointID": ep.endpoint_id, "MacAddress": ep.mac,
                "IPv4Address": f"{ep.ipv4}/{prefix}" if ep.ipv4 else "",
                "IPv6Address": f"{ep.ipv6}/{self.subnet6.split('/')[1]}" if ep.ipv6 else "",
            }
            for cid, ep in self.endpoints.items()
        }
        options = {"com.docker.network.bridge.name": self.bridge} | self.options
        return {
            "Name": self.name, "Id": self.id, "Created": self.created, "Scope": "local",
            "Driver": self.driver, "EnableIPv6": self.ipv6,
            "IPAM": {"Driver": "default", "Options": {}, "Config": config},
            "Internal": self.internal, "Attachable": self.attachable, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": containers, "Options": options, "Labels": dict(self.labels),
        }
