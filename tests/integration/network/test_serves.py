"""netlink.serves: the sock_diag check that a DNS server answers on a gateway (run on every
container start instead of reading /proc/net/udp and /proc/net/tcp)."""

from __future__ import annotations

import socket

import pytest

from composer.network.netlink import serves

pytestmark = pytest.mark.root


def _bound(kind: int, address: str, port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind((address, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(1)
    return sock


def test_udp_and_listening_tcp_on_the_address_serve():
    udp = _bound(socket.SOCK_DGRAM, "127.0.0.61")
    port = udp.getsockname()[1]
    try:
        assert not serves("127.0.0.61", port)  # UDP alone is not enough
        with _bound(socket.SOCK_STREAM, "127.0.0.61", port):
            assert serves("127.0.0.61", port)
            assert not serves("127.0.0.62", port)  # another address
            assert not serves("127.0.0.61", port + 1 if port < 65535 else port - 1)
    finally:
        udp.close()


def test_a_tcp_socket_that_does_not_listen_does_not_serve():
    with _bound(socket.SOCK_DGRAM, "127.0.0.63") as udp:
        port = udp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.63", port))  # bound, not listening
            assert not serves("127.0.0.63", port)
