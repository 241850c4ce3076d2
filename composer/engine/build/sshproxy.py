"""A socket that forwards to an SSH agent, owned by the uid/gid and with the mode a RUN mount asks.

``RUN --mount=type=ssh,uid=1000,mode=0600`` must give user 1000 an agent socket it may use; the
agent's own socket belongs to whoever started it, so (as BuildKit does) the step gets a proxy
socket instead: each connection to it is piped to the agent by two small threads. The proxy
stops accepting when closed; connections still open end with their peers.
"""

from __future__ import annotations

import os
import socket
import threading

_CHUNK = 1 << 16


class AgentProxy:
    """Listens on ``path`` (chowned ``uid:gid``, chmodded ``mode``) and forwards to ``upstream``."""

    def __init__(self, path: str, upstream: str, uid: int, gid: int, mode: int) -> None:
        self.path, self.upstream = path, upstream
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.server.bind(path)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
            self.server.listen(16)
        except BaseException:
            self.server.close()
            raise
        threading.Thread(target=self._serve, name="ssh-proxy", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed
                return
            agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                agent.connect(self.upstream)
            except OSError:
                client.close()
                agent.close()
                continue
            _Connection(client, agent).start()

    def close(self) -> None:
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()


class _Connection:
    """One client piped to the agent both ways; both sockets closed once both directions ended."""

    def __init__(self, client: socket.socket, agent: socket.socket) -> None:
        self.sockets = (client, agent)
        self.running = 2
        self.lock = threading.Lock()

    def start(self) -> None:
        client, agent = self.sockets
        for source, target in ((client, agent), (agent, client)):
            threading.Thread(target=self._pump, args=(source, target), name="ssh-proxy-pipe", daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                target.sendall(data)
        except OSError:
            pass
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            self.running -= 1
            last = self.running == 0
        if last:
            for sock in self.sockets:
                sock.close()
