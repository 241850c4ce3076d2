"""The embedded DNS server: one detached process per state root, trio + dnslib.

It listens on port 53 (UDP and TCP) of every user-defined network's gateway address (see
docs/networking.md for why not 127.0.0.11), answers container names, aliases and service names
from the current state files (re-read when they change, so a container connected or removed is
visible or gone at once), and forwards everything else to the host's resolvers. A poke (SIGURG,
``control.refresh``) makes it rescan at once, and it rescans every second anyway: a network whose
bridge was deleted by hand loses its listener (its sockets are closed), and the server exits by
itself when no user-defined network with a bridge is left (``Server.retire``).

Spawned by ``control.start`` with the root's lock and its first sockets (see ``control`` for the
protocol that makes an exiting server and a new one never miss a network).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import trio
from dnslib import AAAA, QTYPE, RCODE, RR, A, DNSRecord

from composer.network.dns import control, records
from composer.network.model import Network
from composer.network.store import NetworkStore

PORT = control.PORT
TTL = 600
FORWARD_TIMEOUT = 3.0
PID_WAIT = 2.0  # seconds a retiring server waits for the start that spawned it to write dns.pid
RESOLV_CONF = "/etc/resolv.conf"
SETTLED_NS = 50_000_000  # a folder unchanged this long has a timestamp a later change must move


def upstreams() -> list[tuple[str, int]]:
    """The resolvers to forward to: $COMPOSER_DNS_UPSTREAM (ip[:port],...) or /etc/resolv.conf."""
    configured = os.environ.get("COMPOSER_DNS_UPSTREAM")
    if configured:
        found = []
        for item in configured.split(","):
            host, _, port = item.strip().rpartition(":") if item.count(":") == 1 else (item.strip(), "", "53")
            found.append((host, int(port or 53)))
        return found
    return _host_resolvers(RESOLV_CONF)


_RESOLVERS: dict[str, tuple[tuple, list[tuple[str, int]]]] = {}  # path -> (its stat mark, resolvers)


def _host_resolvers(path: str) -> list[tuple[str, int]]:
    """The ``nameserver`` lines of ``path``, read again only when its inode, mtime or size moved
    (an editor or resolvconf replaces it; a forwarded query costs one ``stat``)."""
    try:
        stat = os.stat(path)
    except OSError:
        return []
    mark = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _RESOLVERS.get(path)
    if cached is not None and cached[0] == mark:
        return cached[1]
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    found = [(line.split()[1], 53) for line in lines if line.startswith("nameserver") and len(line.split()) > 1]
    _RESOLVERS[path] = (mark, found)
    return found


def resolvers_of(network: Network | None, client_ip: str) -> list[tuple[str, int]]:
    """Where the other names of the container at ``client_ip`` go: its own ``--dns`` resolvers
    (as docker's embedded DNS), else the host's (``upstreams``)."""
    for ep in network.endpoints.values() if network else ():
        if client_ip in (ep.ipv4, ep.ipv6) and ep.dns:
            return [(server, 53) for server in ep.dns]
    return upstreams()


class Server:
    """The listening sockets (one pair per gateway) and the cached view of the state."""

    def __init__(self, store: NetworkStore, prebound: list[socket.socket] = ()) -> None:
        self.store = store
        self.networks: list[Network] = []
        self.listeners: dict[str, tuple[trio.CancelScope, trio.Event]] = {}
        self.prebound: dict[str, list[socket.socket]] = {}
        for sock in prebound:  # from control.start: UDP first, then TCP, per gateway
            self.prebound.setdefault(sock.getsockname()[0], []).append(sock)
        self.stamp: tuple = ()
        self.folder: tuple | None = None  # the folder's (inode, mtime) when it had settled

    def reload(self, force: bool = False) -> None:
        """Re-read the network files when any changed (each save is a new inode: a rename).

        Called for every query: while the folder's mtime has not moved since a listing made when
        it had settled, nothing was saved or removed in it (a save is a create and a rename
        there), so one ``stat`` answers, with no listing. A folder changed in the last
        ``SETTLED_NS`` is listed every time: a second change within the same coarse clock tick
        would leave its mtime as it was."""
        now = time.time_ns()
        try:
            folder = os.stat(self.store.dir)
        except OSError:
            folder = None
        mark = (folder.st_ino, folder.st_mtime_ns) if folder is not None else None
        if not force and mark is not None and mark == self.folder:
            return
        files = sorted(self.store.root.glob("*.json"))
        stamp = tuple((path.name, stat.st_ino, stat.st_mtime_ns) for path in files
                      if (stat := _stat(path)) is not None)
        if force or stamp != self.stamp:
            self.networks = [net for net in self.store.all()]
            self.stamp = stamp
        settled = folder is not None and now - folder.st_mtime_ns > SETTLED_NS
        self.folder = mark if settled else None

    def user_networks(self) -> list[Network]:
        return [net for net in self.networks if not net.default]

    def served_networks(self) -> list[Network]:
        """The user networks whose bridge exists: one deleted by hand (``ip link del``) keeps its
        state file until ``network rm``/``prune``, but its gateway address went with it."""
        return [net for net in self.user_networks() if os.path.exists(f"/sys/class/net/{net.bridge}")]

    async def sync_listeners(self, nursery: trio.Nursery) -> None:
        """Start a listener per new gateway, stop (and wait for the sockets of) those of removed
        networks and vanished bridges; a gateway taken over by a new network keeps its sockets."""
        self.reload()
        wanted = {net.gateway for net in self.served_networks()}
        gone = [self.listeners.pop(gateway) for gateway in list(self.listeners) if gateway not in wanted]
        for scope, _closed in gone:
            scope.cancel()
        for _scope, closed in gone:
            await closed.wait()
        for gateway in sorted(wanted - self.listeners.keys()):
            self.listeners[gateway] = (trio.CancelScope(), trio.Event())
            nursery.start_soon(self.listen, gateway, *self.listeners[gateway])
        for gateway in list(self.prebound.keys() - wanted):
            for sock in self.prebound.pop(gateway):
                sock.close()

    def retire(self) -> bool:
        """Whether to exit (no listener left): decided under the store's lock on a fresh read,
        ``dns.pid`` removed then, so a network saved before is served and one saved after
        finds no server (and starts one, which waits for our lock: see ``control``).

        When the ``start`` that spawned us has not written ``dns.pid`` yet, its write is awaited
        outside the lock (other network commands go on meanwhile), and the next call decides
        again; a pid file never written within ``PID_WAIT`` (its start died) lets us exit.
        A deleted state root: exit without the lock, whose file would make its folder again
        (the root would then look alive to ``orphans.sweep_abandoned`` for good)."""
        if not os.path.isdir(self.store.dir):
            return True
        with self.store.locked():
            self.reload(force=True)
            if self.served_networks():
                return False
            if control.forget_pid(self.store):
                return True
        return not control.names_me(self.store, wait=PID_WAIT)

    async def listen(self, gateway: str, scope: trio.CancelScope, closed: trio.Event) -> None:
        """Serve UDP and TCP on ``gateway``:53 until the network goes (retrying a failed bind)."""
        try:
            with scope:
                while True:
                    try:
                        udp, tcp = self.prebound.pop(gateway, None) or control.bind(gateway)
                        await self.serve_gateway(gateway, trio.socket.from_stdlib_socket(_stdlib(udp)),
                                                 trio.socket.from_stdlib_socket(_stdlib(tcp)))
                    except OSError as error:
                        print(f"dns: {gateway}:{PORT}: {error}", file=sys.stderr, flush=True)
                        await trio.sleep(0.5)
        finally:
            closed.set()

    async def serve_gateway(self, gateway: str, udp: trio.socket.SocketType, tcp: trio.socket.SocketType) -> None:
        with udp, tcp:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.serve_listeners, lambda stream: self.answer_tcp(stream, gateway),
                                   [trio.SocketListener(tcp)])
                while True:
                    data, client = await udp.recvfrom(4096)
                    nursery.start_soon(self.answer_udp, udp, data, client, gateway)

    async def answer_udp(self, sock: trio.socket.SocketType, data: bytes, client: tuple, gateway: str) -> None:
        answer = await self.respond(data, client[0], gateway)
        if answer:
            await sock.sendto(answer, client)

    async def answer_tcp(self, stream: trio.SocketStream, gateway: str) -> None:
        """DNS over TCP: 2-byte length prefixed messages, one connection may carry several."""
        try:
            await self._tcp_session(stream, gateway)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away

    async def _tcp_session(self, stream: trio.SocketStream, gateway: str) -> None:
        client_ip = stream.socket.getpeername()[0]
        buffer = b""
        async with stream:
            with trio.move_on_after(10):
                while chunk := await stream.receive_some(65535):
                    buffer += chunk
                    while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
                        size = int.from_bytes(buffer[:2], "big")
                        message, buffer = buffer[2:2 + size], buffer[2 + size:]
                        answer = await self.respond(message, client_ip, gateway)
                        if answer:
                            await stream.send_all(len(answer).to_bytes(2, "big") + answer)

    async def respond(self, data: bytes, client_ip: str, gateway: str) -> bytes | None:
        """The answer to one query to ``gateway``; a failure answers SERVFAIL and never takes the
        server down."""
        try:
            query = DNSRecord.parse(data)
        except Exception:  # malformed packet from a container: ignore it
            return None
        try:
            self.reload()
            arrived_on = next((net for net in self.user_networks() if net.gateway == gateway), None)
            scope = records.client_networks(self.user_networks(), arrived_on, client_ip) if arrived_on else []
            qname, qtype = str(query.q.qname), QTYPE[query.q.qtype]
            name = records.linked(scope, client_ip, qname)
            if scope and records.known(scope, name):
                return self.local_answer(query, scope, qname, qtype, name)
            return await self.forward(query, data, resolvers_of(arrived_on, client_ip))
        except Exception as error:  # noqa: BLE001 - log, answer, keep serving
            print(f"dns: {query.q.qname}: {error!r}", file=sys.stderr, flush=True)
            reply = query.reply()
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()

    @staticmethod
    def local_answer(query: DNSRecord, scope: list[Network], qname: str, qtype: str, name: str) -> bytes:
        """A, AAAA (or both for ANY) records of the known ``name`` (``qname``, or the container a
        link alias stands for) answering ``qname``; other types answer empty."""
        reply = query.reply()
        if qtype in ("A", "ANY"):
            for address in records.resolve(scope, name, 4):
                reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=TTL))
        if qtype in ("AAAA", "ANY"):
            for address in records.resolve(scope, name, 6):
                reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(address), ttl=TTL))
        return reply.pack()

    async def forward(self, query: DNSRecord, data: bytes, resolvers: list[tuple[str, int]]) -> bytes:
        for host, port in resolvers:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with trio.socket.socket(family, socket.SOCK_DGRAM) as up:
                with trio.move_on_after(FORWARD_TIMEOUT):
                    try:
                        await up.sendto(data, (host, port))
                        while True:
                            answer, _ = await up.recvfrom(65535)
                            if answer[:2] == data[:2]:
                                return answer
                    except OSError:  # refused/unreachable: try the next resolver
                        continue
        reply = query.reply()
        reply.header.rcode = RCODE.SERVFAIL
        return reply.pack()


async def serve(store: NetworkStore, prebound: list[socket.socket]) -> None:
    """Run until no user-defined network is left (or SIGTERM)."""
    server = Server(store, prebound)
    with trio.open_signal_receiver(control.RESCAN, signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            while True:
                await server.sync_listeners(nursery)
                if not server.listeners:  # no user network left, or none with its bridge
                    if server.retire():
                        nursery.cancel_scope.cancel()
                        return
                    continue
                with trio.move_on_after(1.0):
                    async for signum in signals:
                        if signum != control.RESCAN:
                            nursery.cancel_scope.cancel()
                            return
                        break


def run(state_dir: str, socket_fds: list[int]) -> int:
    """Serve ``state_dir`` with the sockets ``control.start`` bound (its lock is held already)."""
    store = NetworkStore(Path(state_dir))
    try:
        trio.run(serve, store, [socket.socket(fileno=fd) for fd in socket_fds])
    finally:
        control.forget_pid(store)
    return 0


def _stdlib(sock: object) -> socket.socket:
    """``control.bind``'s ``_socket`` sockets as the ``socket.socket`` trio wants."""
    return sock if isinstance(sock, socket.socket) else socket.socket(fileno=sock.detach())


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
