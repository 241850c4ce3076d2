"""The embedded DNS server: one detached process per state root, trio + dnslib.

It listens on UDP port 53 of every user-defined network's gateway address (see
docs/networking.md for why not 127.0.0.11), answers container names, aliases and service names
from the current state files (re-read when they change, so a container connected or removed is
visible or gone at once), and forwards everything else to the host's resolvers. SIGHUP makes it
rescan at once, and it rescans every second anyway: a network whose bridge was deleted by hand
loses its listener (its sockets are closed), and the server exits by itself when no user-defined
network with a bridge is left.

Started by ``python -m composer.network.dns.daemon STATE_DIR`` (``control.start`` does that).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import trio
from dnslib import AAAA, QTYPE, RCODE, RR, A, DNSRecord

from composer.network.dns import records
from composer.network.model import Network
from composer.network.store import NetworkStore

PORT = int(os.environ.get("COMPOSER_DNS_PORT", "53"))
TTL = 600
IP_FREEBIND = 15
FORWARD_TIMEOUT = 3.0


def upstreams() -> list[tuple[str, int]]:
    """The resolvers to forward to: $COMPOSER_DNS_UPSTREAM (ip[:port],...) or /etc/resolv.conf."""
    configured = os.environ.get("COMPOSER_DNS_UPSTREAM")
    if configured:
        found = []
        for item in configured.split(","):
            host, _, port = item.strip().rpartition(":") if item.count(":") == 1 else (item.strip(), "", "53")
            found.append((host, int(port or 53)))
        return found
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return []
    return [(line.split()[1], 53) for line in lines if line.startswith("nameserver") and len(line.split()) > 1]


class Server:
    """The listening sockets (one per gateway) and the cached view of the state."""

    def __init__(self, store: NetworkStore) -> None:
        self.store = store
        self.networks: list[Network] = []
        self.listeners: dict[tuple[str, str], trio.CancelScope] = {}
        self.stamp: tuple = ()

    def reload(self) -> None:
        """Re-read the network files when any changed."""
        files = sorted(self.store.root.glob("*.json"))
        stamp = tuple((path.name, path.stat().st_mtime_ns) for path in files if path.exists())
        if stamp != self.stamp:
            self.networks = [net for net in self.store.all()]
            self.stamp = stamp

    def user_networks(self) -> list[Network]:
        return [net for net in self.networks if not net.default]

    def served_networks(self) -> list[Network]:
        """The user networks whose bridge exists: one deleted by hand (``ip link del``) keeps its
        state file until ``network rm``/``prune``, but its gateway address went with it."""
        return [net for net in self.user_networks() if os.path.exists(f"/sys/class/net/{net.bridge}")]

    async def sync_listeners(self, nursery: trio.Nursery) -> None:
        """Start a listener per new gateway, stop those of removed networks and vanished bridges
        (checked at every rescan: SIGHUP or the 1 s tick)."""
        self.reload()
        wanted = {(net.gateway, net.id) for net in self.served_networks()}
        for key in list(self.listeners):
            if key not in wanted:  # gone, or the same gateway now belongs to a new network
                self.listeners.pop(key).cancel()
        await trio.sleep(0)  # let cancelled listeners close their sockets before rebinding
        for key in sorted(wanted - set(self.listeners)):
            scope = trio.CancelScope()
            self.listeners[key] = scope
            nursery.start_soon(self.listen, key[0], key[1], scope)

    async def listen(self, gateway: str, net_id: str, scope: trio.CancelScope) -> None:
        """Serve UDP and TCP on ``gateway``:53 until the network goes (retrying a failed bind)."""
        with scope:
            while True:
                try:
                    await self.serve_gateway(gateway, net_id)
                except OSError as error:
                    print(f"dns: {gateway}:{PORT}: {error}", file=sys.stderr, flush=True)
                    await trio.sleep(0.5)

    async def serve_gateway(self, gateway: str, net_id: str) -> None:
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)  # the bridge may still be coming up
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with sock:
            await sock.bind((gateway, PORT))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self.listen_tcp, gateway, net_id)
                while True:
                    data, client = await sock.recvfrom(4096)
                    nursery.start_soon(self.answer_udp, sock, data, client, net_id)

    async def listen_tcp(self, gateway: str, net_id: str) -> None:
        """DNS over TCP on the same address (retrying while an old listener still holds it)."""
        while True:
            listener = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                await listener.bind((gateway, PORT))
                listener.listen(64)
            except OSError:
                listener.close()
                await trio.sleep(0.5)
                continue
            await trio.serve_listeners(lambda stream: self.answer_tcp(stream, net_id),
                                       [trio.SocketListener(listener)])

    async def answer_udp(self, sock: trio.socket.SocketType, data: bytes, client: tuple, net_id: str) -> None:
        answer = await self.respond(data, client[0], net_id)
        if answer:
            await sock.sendto(answer, client)

    async def answer_tcp(self, stream: trio.SocketStream, net_id: str) -> None:
        """DNS over TCP: 2-byte length prefixed messages, one connection may carry several."""
        try:
            await self._tcp_session(stream, net_id)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away

    async def _tcp_session(self, stream: trio.SocketStream, net_id: str) -> None:
        client_ip = stream.socket.getpeername()[0]
        buffer = b""
        async with stream:
            with trio.move_on_after(10):
                while chunk := await stream.receive_some(65535):
                    buffer += chunk
                    while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
                        size = int.from_bytes(buffer[:2], "big")
                        message, buffer = buffer[2:2 + size], buffer[2 + size:]
                        answer = await self.respond(message, client_ip, net_id)
                        if answer:
                            await stream.send_all(len(answer).to_bytes(2, "big") + answer)

    async def respond(self, data: bytes, client_ip: str, net_id: str) -> bytes | None:
        """The answer to one query; a failure answers SERVFAIL and never takes the server down."""
        try:
            query = DNSRecord.parse(data)
        except Exception:  # malformed packet from a container: ignore it
            return None
        try:
            self.reload()
            arrived_on = next((net for net in self.networks if net.id == net_id), None)
            scope = records.client_networks(self.user_networks(), arrived_on, client_ip) if arrived_on else []
            qname, qtype = str(query.q.qname), QTYPE[query.q.qtype]
            if scope and records.known(scope, qname):
                return self.local_answer(query, scope, qname, qtype)
            return await self.forward(query, data)
        except Exception as error:  # noqa: BLE001 - log, answer, keep serving
            print(f"dns: {query.q.qname}: {error!r}", file=sys.stderr, flush=True)
            reply = query.reply()
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()

    @staticmethod
    def local_answer(query: DNSRecord, scope: list[Network], qname: str, qtype: str) -> bytes:
        """A, AAAA (or both for ANY) records of a known name; other types answer empty."""
        reply = query.reply()
        if qtype in ("A", "ANY"):
            for address in records.resolve(scope, qname, 4):
                reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=TTL))
        if qtype in ("AAAA", "ANY"):
            for address in records.resolve(scope, qname, 6):
                reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(address), ttl=TTL))
        return reply.pack()

    async def forward(self, query: DNSRecord, data: bytes) -> bytes:
        for host, port in upstreams():
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


async def serve(store: NetworkStore) -> None:
    """Run until no user-defined network is left (or SIGTERM)."""
    server = Server(store)
    with trio.open_signal_receiver(signal.SIGHUP, signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            while True:
                await server.sync_listeners(nursery)
                if not server.listeners:  # no user network left, or none with its bridge
                    nursery.cancel_scope.cancel()
                    return
                with trio.move_on_after(1.0):
                    async for signum in signals:
                        if signum != signal.SIGHUP:
                            nursery.cancel_scope.cancel()
                            return
                        break


def run(state_dir: str) -> int:
    """Serve ``state_dir`` (``daemon`` has already detached us, taken the root's lock and
    written ``dns.pid``)."""
    trio.run(serve, NetworkStore(Path(state_dir)))
    return 0
