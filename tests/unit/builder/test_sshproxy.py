"""The SSH agent proxy socket: owner and mode as asked, bytes piped both ways."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

from composer.engine.build.sshproxy import AgentProxy


def test_proxy_pipes_to_the_upstream_socket(tmp_path: Path) -> None:
    upstream = socket.socket(socket.AF_UNIX)
    upstream.bind(str(tmp_path / "agent.sock"))
    upstream.listen(1)

    def echo() -> None:
        conn, _ = upstream.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data.upper())

    server = threading.Thread(target=echo, daemon=True)
    server.start()
    proxy = AgentProxy(str(tmp_path / "proxy.sock"), str(tmp_path / "agent.sock"), os.getuid(), os.getgid(), 0o640)
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "proxy.sock").st_mode) == 0o640
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(tmp_path / "proxy.sock"))
            client.sendall(b"hello agent")
            client.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := client.recv(1024):
                received += chunk
        assert received == b"HELLO AGENT"
    finally:
        proxy.close()
        upstream.close()
    server.join(5)
