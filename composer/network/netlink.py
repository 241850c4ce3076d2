"""A small rtnetlink client: just the link, address and route requests composer needs.

Why not pyroute2: importing any part of it loads the whole package (270-380 ms on our VMs, more
than a whole ``docker run``), while every request here is a few ``struct.pack`` calls and one
``sendto`` (well under a millisecond). The message layouts follow ``linux/rtnetlink.h`` and
``linux/if_link.h``; see rtnetlink(7) and netlink(7).

``Netlink()`` talks to the calling thread's network namespace; ``Netlink.inside(path)`` opens a
socket inside another namespace (setns on this thread, socket, setns back: a netlink socket stays
in the namespace it was created in).
"""

from __future__ import annotations

import errno
import os
import struct

# the C module behind ``socket``: socket.py itself imports selectors and builds enums (milliseconds
# on every ``container run``), and a raw netlink socket needs none of that
import _socket as socket

from composer.errors import NetworkError

TYPE_CHECKING = False  # collections.abc stays off ``container run``'s path
if TYPE_CHECKING:
    from collections.abc import Iterator

# message types and flags (linux/rtnetlink.h, linux/netlink.h)
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_NEWROUTE = 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
# attributes
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_PROTINFO, IFLA_LINKINFO, IFLA_IFALIAS, IFLA_NET_NS_FD = (
    1, 3, 4, 10, 12, 18, 20, 28)
IFLA_BRPORT_MODE, NLA_F_NESTED, AF_BRIDGE = 4, 0x8000, 7
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFA_F_NODAD = 0x02
RTA_DST, RTA_GATEWAY = 1, 5
IFF_UP = 0x1
CLONE_NEWNET = 0x40000000
NETLINK_NETFILTER, NFNL_SUBSYS_NFTABLES = 12, 10  # linux/netlink.h, linux/netfilter/nfnetlink.h

_HEADER = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")
_IFADDR = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTATTR = struct.Struct("=HH")


def _align(length: int) -> int:
    return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One rtattr, padded to 4 bytes."""
    body = _RTATTR.pack(_RTATTR.size + len(payload), kind) + payload
    return body + b"\0" * (_align(len(body)) - len(body))


def attr_str(kind: int, text: str) -> bytes:
    return attr(kind, text.encode() + b"\0")


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return _IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, change)


def parse_attrs(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (type, payload) of the rtattrs in ``data``."""
    offset = 0
    while offset + _RTATTR.size <= len(data):
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < _RTATTR.size:
            return
        yield kind & 0x7FFF, data[offset + _RTATTR.size: offset + length]
        offset += _align(length)


def mac_bytes(mac: str) -> bytes:
    """``02:42:ac:11:00:02`` -> 6 bytes."""
    return bytes(int(part, 16) for part in mac.split(":"))


def nftables_batch(requests: "list[tuple[int, int, bytes]]") -> "list[tuple[list[bytes], int]] | None":
    """nf_tables requests, (``NFT_MSG_*`` type, flags, body from its nfgenmsg on), answered in one
    round trip as ``Netlink.batch`` answers them; None where netfilter's netlink cannot be used."""
    try:
        with Netlink.netfilter() as nl:
            return nl.batch([((NFNL_SUBSYS_NFTABLES << 8) | kind, flags, body) for kind, flags, body in requests])
    except OSError:
        return None


def setns(fd: int) -> None:
    """setns(2) into the network namespace open at ``fd`` (through the runtime's libc module)."""
    from composer.engine.runtime import libc

    libc.setns(fd, CLONE_NEWNET)


class Netlink:
    """A netlink socket (NETLINK_ROUTE unless one is given, e.g. ``netfilter()``'s)
    with helpers that raise NetworkError; ``batch`` sends several requests in one datagram."""

    def __init__(self, sock: "socket.socket | None" = None) -> None:
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    @classmethod
    def netfilter(cls) -> "Netlink":
        """A NETLINK_NETFILTER socket (nf_tables, conntrack); OSError where there is none (not root)."""
        return cls(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER))

    @classmethod
    def inside(cls, netns_path: str) -> "Netlink":
        """A socket in the network namespace at ``netns_path`` (e.g. /proc/PID/ns/net)."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            os.close(own)
            raise NetworkError(f"cannot open network namespace {netns_path}: {error.strerror}") from None
        try:
            setns(target)
            try:
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            finally:
                setns(own)
        except OSError as error:
            raise NetworkError(f"cannot enter network namespace {netns_path}: {error.strerror}") from None
        finally:
            os.close(target)
            os.close(own)
        return cls(sock)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Netlink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------
    def request(self, kind: int, flags: int, body: bytes, *, what: str) -> list[bytes]:
        """Send one request with ACK; return the payloads of the answers; raise on an error."""
        answers, error = self.batch([(kind, flags, body)])[0]
        if error:
            raise OSError(error, f"{what}: {os.strerror(error)}")
        return answers

    def batch(self, requests: "list[tuple[int, int, bytes]]") -> "list[tuple[list[bytes], int]]":
        """Send several (kind, flags, body) requests in ONE datagram (the kernel runs them in
        order) and collect, per request, its answers and its errno (0 when it succeeded)."""
        first = self.seq + 1
        chunks = []
        for kind, flags, body in requests:
            self.seq += 1
            chunks.append(_HEADER.pack(_HEADER.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0))
            chunks.append(body)
        self.sock.send(b"".join(chunks))
        results: list[tuple[list[bytes], int]] = [([], 0) for _ in requests]
        pending = len(requests)
        while pending:
            data = self.sock.recv(65536)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, msg_type, _flags, seq, _pid = _HEADER.unpack_from(data, offset)
                payload = data[offset + _HEADER.size: offset + length]
                offset += _align(length)
                if not first <= seq <= self.seq:
                    continue
                answers = results[seq - first][0]
                if msg_type in (NLMSG_ERROR, NLMSG_DONE):
                    code = -struct.unpack_from("=i", payload)[0] if msg_type == NLMSG_ERROR else 0
                    results[seq - first] = (answers, code)
                    pending -= 1
                else:
                    answers.append(payload)
        return results

    def call(self, kind: int, flags: int, body: bytes, *, what: str) -> list[bytes]:
        """``request`` with the OSError turned into a NetworkError."""
        try:
            return self.request(kind, flags, body, what=what)
        except OSError as error:
            raise NetworkError(str(error.strerror or error)) from None

    # --- links ----------------------------------------------------------------------------
    def link_index(self, name: str) -> int | None:
        """The index of link ``name``, or None when there is none."""
        try:
            answers = self.request(RTM_GETLINK, 0, ifinfo() + attr_str(IFLA_IFNAME, name), what=f"get link {name}")
        except OSError as error:
            if error.errno in (errno.ENODEV, errno.ENOENT):
                return None
            raise NetworkError(f"get link {name}: {error.strerror}") from None
        return _IFINFO.unpack_from(answers[0])[2] if answers else None

    def require_index(self, name: str) -> int:
        index = self.link_index(name)
        if index is None:
            raise NetworkError(f"network interface {name} does not exist")
        return index

    def add_bridge(self, name: str, mtu: int | None = None, mac: str | None = None, alias: str = "") -> int:
        """Create bridge ``name`` (an error if any link has that name), bring it up; return its index.

        Give ``mac``: a bridge without one takes the lowest MAC of its ports and changes it when
        that port leaves, leaving every container's ARP entry for the gateway stale. ``alias`` is
        the link's ifalias (``ip link`` shows it), a note for whoever finds the bridge later.
        """
        body = ifinfo() + attr_str(IFLA_IFNAME, name) + attr(IFLA_LINKINFO, attr_str(IFLA_INFO_KIND, "bridge"))
        if mac:
            body += attr(IFLA_ADDRESS, mac_bytes(mac))
        if mtu:
            body += attr_u32(IFLA_MTU, mtu)
        try:
            self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, what=f"create bridge {name}")
        except OSError as error:
            if error.errno == errno.EEXIST:  # never adopt (and later delete) someone else's link
                raise NetworkError(f"network interface {name} already exists on the host",
                                   hint="choose another com.docker.network.bridge.name, or run "
                                        "cleanup if composer left it after a crash") from None
            raise NetworkError(f"create bridge {name}: {error.strerror}") from None
        index = self.require_index(name)
        self.set_link(index, up=True, alias=alias)  # the kernel takes an ifalias only on a change
        return index

    def add_veth(self, host_name: str, peer_name: str, netns_fd: int, *, mtu: int | None = None,
                 peer_mac: str | None = None, master: int | None = None) -> int:
        """Create a veth pair whose peer is born inside the namespace ``netns_fd``, the host end
        up and a port of bridge ``master``: one request (``ip link add ... up master`` does the
        same; the peer cannot be born up: the kernel configures it before the pair is linked);
        return the host end's index."""
        peer = ifinfo() + attr_str(IFLA_IFNAME, peer_name) + attr_u32(IFLA_NET_NS_FD, netns_fd)
        if mtu:
            peer += attr_u32(IFLA_MTU, mtu)
        if peer_mac:
            peer += attr(IFLA_ADDRESS, mac_bytes(peer_mac))
        info = attr_str(IFLA_INFO_KIND, "veth") + attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))
        body = ifinfo(flags=IFF_UP, change=IFF_UP) + attr_str(IFLA_IFNAME, host_name) + attr(IFLA_LINKINFO, info)
        if mtu:
            body += attr_u32(IFLA_MTU, mtu)
        if master is not None:
            body += attr_u32(IFLA_MASTER, master)
        self.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, what=f"create veth {host_name}")
        return socket.if_nametoindex(host_name)

    def set_link(self, index: int, *, up: bool | None = None, master: int | None = None,
                 mtu: int | None = None, alias: str = "") -> None:
        """Change a link: up/down, bridge master, MTU, ifalias."""
        flags = change = 0
        if up is not None:
            flags, change = (IFF_UP if up else 0), IFF_UP
        body = ifinfo(index, flags, change)
        if master is not None:
            body += attr_u32(IFLA_MASTER, master)
        if mtu:
            body += attr_u32(IFLA_MTU, mtu)
        if alias:
            body += attr(IFLA_IFALIAS, alias.encode())
        self.call(RTM_SETLINK, 0, body, what=f"set link #{index}")

    def set_hairpin(self, index: int) -> None:
        """Hairpin mode on bridge port ``index`` (``bridge link set dev X hairpin on``): a
        container may reach itself through its own published port. Not the sysfs file: its
        writer spins (restarting the syscall) while another process holds the rtnl lock."""
        protinfo = attr(IFLA_PROTINFO | NLA_F_NESTED, attr(IFLA_BRPORT_MODE, b"\x01"))
        body = _IFINFO.pack(AF_BRIDGE, 0, index, 0, 0) + protinfo
        self.call(RTM_SETLINK, 0, body, what=f"set hairpin on link #{index}")

    def delete_link(self, name: str) -> bool:
        """Delete link ``name``; False when it did not exist."""
        index = self.link_index(name)
        if index is None:
            return False
        try:
            self.request(RTM_DELLINK, 0, ifinfo(index), what=f"delete link {name}")
        except OSError as error:
            if error.errno in (errno.ENODEV, errno.ENOENT):
                return False
            raise NetworkError(f"delete link {name}: {error.strerror}") from None
        return True

    # --- addresses and routes -------------------------------------------------------------
    def add_address(self, index: int, interface: str) -> None:
        """Add ``interface`` (e.g. ``172.18.0.2/16``) to link ``index``; an existing one is kept."""
        kind, flags, body = address_request(index, interface)
        try:
            self.request(kind, flags, body, what=f"add address {interface}")
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise NetworkError(f"add address {interface}: {error.strerror}") from None

    def configure(self, ifname: str, interfaces: list[str], gateways: list[str]) -> None:
        """Inside a container's namespace: ``interfaces`` (``addr/len``) on ``ifname``, it and
        loopback up, and default routes via ``gateways`` (an existing default route is kept: a
        first network gave the way out already), in two round trips: the index, then one batch."""
        index = self.require_index(ifname)
        requests = [address_request(index, interface) for interface in interfaces]
        requests.append((RTM_SETLINK, 0, ifinfo(index, IFF_UP, IFF_UP)))
        requests.append((RTM_SETLINK, 0, ifinfo(flags=IFF_UP, change=IFF_UP) + attr_str(IFLA_IFNAME, "lo")))
        requests += [route_request(gateway) for gateway in gateways]
        what = [*(f"add address {i}" for i in interfaces), f"set {ifname} up", "set lo up",
                *(f"add default route via {g}" for g in gateways)]
        for (_answers, code), step in zip(self.batch(requests), what):
            if code and not (code == errno.EEXIST and not step.startswith("set")):
                raise NetworkError(f"{step}: {os.strerror(code)}")


def _packed(text: str) -> tuple[int, bytes]:
    """(address family, packed bytes) of an IPv4 or IPv6 address."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        return family, socket.inet_pton(family, text)
    except OSError:
        raise NetworkError(f"invalid address {text!r}") from None


def address_request(index: int, interface: str) -> tuple[int, int, bytes]:
    """The RTM_NEWADDR request for ``interface`` (``addr/len``) on link ``index``."""
    text, _, length = interface.partition("/")
    family, packed = _packed(text)
    flags = IFA_F_NODAD if family == socket.AF_INET6 else 0
    body = _IFADDR.pack(family, int(length or len(packed) * 8), flags, 0, index)
    return RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body + attr(IFA_LOCAL, packed) + attr(IFA_ADDRESS, packed)


def route_request(gateway: str) -> tuple[int, int, bytes]:
    """The RTM_NEWROUTE request of ``default via GATEWAY`` in the main table."""
    family, packed = _packed(gateway)
    body = _RTMSG.pack(family, 0, 0, 0, 254, 3, 0, 1, 0) + attr(RTA_GATEWAY, packed)
    return RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body


# sock_diag (linux/sock_diag.h, linux/inet_diag.h): which sockets a namespace has, without
# reading /proc/net/tcp (whose every read walks the whole, host-wide, connection table: 5-25 ms)
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP = 4, 20, 0x300
IPPROTO_TCP, IPPROTO_UDP, TCPF_LISTEN, ALL_STATES = 6, 17, 1 << 10, 0xFFFFFFFF
_DIAG_REQUEST = struct.Struct("=BBBxI48x")  # inet_diag_req_v2, its inet_diag_sockid left zero
_DIAG_SOCKID = struct.Struct("!HH4s")  # inet_diag_msg's sport, dport, src (at offset 4)


def serves(address: str, port: int) -> bool:
    """Whether this namespace has a UDP socket bound to IPv4 ``address:port`` and a TCP socket
    listening there (a DNS server answering); one LISTEN-only dump per protocol."""
    wanted = (port, socket.inet_aton(address))
    with Netlink(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)) as diag:
        for protocol, states in ((IPPROTO_UDP, ALL_STATES), (IPPROTO_TCP, TCPF_LISTEN)):
            body = _DIAG_REQUEST.pack(socket.AF_INET, protocol, 0, states)
            answers = diag.request(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, body, what="sock_diag dump")
            found = {(sport, src) for sport, _dport, src in (_DIAG_SOCKID.unpack_from(a, 4) for a in answers)}
            if wanted not in found:
                return False
    return True
