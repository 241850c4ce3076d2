"""Attaching to a detached container: the supervisor's unix socket (conmon's attach socket).

A container run with ``-t`` or ``-i`` under a supervisor gets ``attach.sock`` in its state
directory. The supervisor owns the pty master (``-t``) or the write end of the container's stdin
pipe (``-i``), and relays them over that socket, so that ``attach`` and ``start -ai`` work long
after the command that started the container has exited.

Both directions carry frames: a 5-byte header (kind, big-endian length) and a payload.
Supervisor to client: ``STDOUT``/``STDERR`` output, and ``EXIT`` (the exit code, 4 bytes) when
the container ends, before it hangs up. Client to supervisor: ``STDIN`` data,
``RESIZE`` (the client's ``struct winsize``) and ``CLOSE_STDIN``. The supervisor closes the
connection when the container ends; the client detaches with the detach keys (ctrl-p ctrl-q).
"""

from __future__ import annotations

import errno
import os
import socket
import struct

STDIN, STDOUT, STDERR, RESIZE, CLOSE_STDIN, EXIT = 0, 1, 2, 3, 4, 5
HEADER = struct.Struct(">BI")
EXIT_CODE = struct.Struct(">i")
SOCKET_NAME = "attach.sock"
REPLAY_LIMIT = 4096  # output kept for the first client of a life (the shell's prompt)
CLIENT_BACKLOG = 1 << 20  # a client further behind than this is dropped (the container never waits)
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def frame(kind: int, payload: bytes = b"") -> bytes:
    """One frame of the attach protocol."""
    return HEADER.pack(kind, len(payload)) + payload


class FrameReader:
    """Splits a byte stream into (kind, payload) frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """The frames completed by ``data``."""
        self.buffer += data
        frames = []
        while len(self.buffer) >= HEADER.size:
            kind, length = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + length:
                break
            frames.append((kind, bytes(self.buffer[HEADER.size:HEADER.size + length])))
            del self.buffer[:HEADER.size + length]
        return frames


def socket_path(directory: str) -> str:
    """The attach socket of a state directory, short enough for sun_path (via /proc/self/fd)."""
    return os.path.join(directory, SOCKET_NAME)


def _short_path(directory_fd: int) -> str:
    return f"/proc/self/fd/{directory_fd}/{SOCKET_NAME}"


def parse_detach_keys(spec: str) -> bytes:
    """docker's ``--detach-keys``: ``ctrl-p,ctrl-q``, ``ctrl-@``, ``a`` ... -> the bytes to watch for."""
    from composer.errors import UsageError

    keys = bytearray()
    for part in spec.split(","):
        part = part.strip()
        if len(part) == 1:
            keys.append(ord(part))
            continue
        char = part[5:].lower() if part.lower().startswith("ctrl-") else ""
        if len(char) != 1 or not (char == "@" or "a" <= char <= "z" or char in "[\\]^_"):
            raise UsageError(f"invalid detach keys {spec!r}: {part!r}", hint="use e.g. ctrl-p,ctrl-q")
        keys.append(0 if char == "@" else ord(char.upper()) & 0x1F)
    if not keys:
        raise UsageError(f"invalid detach keys {spec!r}", hint="use e.g. ctrl-p,ctrl-q")
    return bytes(keys)


class DetachScanner:
    """Watches typed input for the detach sequence; passes everything else on."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.matched = 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to send on, whether the whole sequence was typed)."""
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.matched]:
                self.matched += 1
                if self.matched == len(self.keys):
                    self.matched = 0
                    return bytes(out), True
                continue
            out += self.keys[:self.matched]
            self.matched = 0
            if byte == self.keys[0]:
                self.matched = 1
            else:
                out.append(byte)
        return bytes(out), False


class Client:
    """One attached connection, as the supervisor sees it."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.reader = FrameReader()
        self.backlog = bytearray()


class AttachHub:
    """The supervisor's side: the listening socket, the clients, and the container's input."""

    def __init__(self, directory: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                os.unlink(socket_path(directory))
            except FileNotFoundError:
                pass
            self.listener.bind(_short_path(fd))
            os.chmod(socket_path(directory), 0o600)
        finally:
            os.close(fd)
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.clients: dict[int, Client] = {}
        self.input_fd = -1  # the pty master or the stdin pipe's write end
        self.tty = False
        self.pending_input = bytearray()
        self.replay: bytearray | None = bytearray()

    def new_life(self, input_fd: int, tty: bool) -> None:
        """A (re)started container: its input descriptor; output is kept again for the first client."""
        self.input_fd, self.tty = input_fd, tty
        self.pending_input.clear()
        self.replay = bytearray() if not self.clients else None

    def accept(self) -> Client | None:
        """Take a new connection (None if it went away)."""
        try:
            connection, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return None
        return self._add(connection)

    def adopt(self, fd: int) -> Client:
        """Make an already connected socket (``start`` with attach) a client."""
        return self._add(socket.socket(fileno=fd))

    def _add(self, connection: socket.socket) -> Client:
        connection.setblocking(False)
        client = Client(connection)
        self.clients[connection.fileno()] = client
        if self.replay:
            client.backlog += frame(STDOUT, bytes(self.replay))
            self.flush(client)
        self.replay = None
        return client

    def output(self, kind: int, data: bytes) -> None:
        """Send container output to every client (or keep it for the first one)."""
        if self.replay is not None:
            self.replay += data
            del self.replay[:-REPLAY_LIMIT]
        for client in list(self.clients.values()):
            client.backlog += frame(kind, data)
            self.flush(client)

    def flush(self, client: Client) -> bool:
        """Send what the client can take now; False once it is gone (or too far behind)."""
        try:
            while client.backlog:
                sent = client.connection.send(client.backlog)
                del client.backlog[:sent]
        except BlockingIOError:
            if len(client.backlog) <= CLIENT_BACKLOG:
                return True
        except OSError:
            pass
        else:
            return True
        self.drop(client)
        return False

    def receive(self, client: Client) -> bool:
        """Read the client's frames and act on them; False once it is gone."""
        try:
            data = client.connection.recv(65536)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            self.drop(client)
            return False
        for kind, payload in client.reader.feed(data):
            if kind == STDIN:
                self.pending_input += payload
            elif kind == CLOSE_STDIN:
                self._close_input()
            elif kind == RESIZE and self.tty and self.input_fd >= 0 and len(payload) == 8:
                import fcntl
                import termios

                try:
                    fcntl.ioctl(self.input_fd, termios.TIOCSWINSZ, payload)
                except OSError:
                    pass
        self.write_input()
        return True

    def write_input(self) -> None:
        """Pass pending client input to the container (what does not fit waits: ``wants_output``)."""
        while self.pending_input and self.input_fd >= 0:
            try:
                written = os.write(self.input_fd, self.pending_input)
            except BlockingIOError:
                return
            except OSError as error:
                if error.errno not in (errno.EPIPE, errno.EIO):
                    raise
                self.pending_input.clear()
                return
            del self.pending_input[:written]

    def _close_input(self) -> None:
        if self.tty:
            self.pending_input += b"\x04"  # the terminal's EOF character
        elif self.input_fd >= 0:
            self.write_input()
            os.close(self.input_fd)
            self.input_fd = -1

    def end_life(self, exit_code: int) -> None:
        """The container ended: tell the clients its exit code, forget its input (the caller
        owns and closes the descriptor)."""
        for client in list(self.clients.values()):
            client.backlog += frame(EXIT, EXIT_CODE.pack(exit_code))
        if not self.tty and self.input_fd >= 0:
            os.close(self.input_fd)
        self.input_fd = -1
        self.pending_input.clear()

    def drop(self, client: Client) -> None:
        """Close one client's connection."""
        self.clients.pop(client.connection.fileno(), None)
        client.connection.close()

    def disconnect(self) -> None:
        """Send every client what it still has to get (1 s at most each), then close it."""
        for client in list(self.clients.values()):
            try:
                client.connection.settimeout(1.0)
                client.connection.sendall(client.backlog)
            except OSError:
                pass
            self.drop(client)

    def close(self, directory: str) -> None:
        """The end: every client disconnected, the socket removed."""
        self.disconnect()
        self.listener.close()
        try:
            os.unlink(socket_path(directory))
        except FileNotFoundError:
            pass


def connect(directory: str) -> socket.socket:
    """A connection to the attach socket of the container in ``directory``."""
    from composer.errors import ContainerStateError

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        connection.connect(_short_path(fd))
    except (FileNotFoundError, ConnectionRefusedError):
        connection.close()
        raise ContainerStateError("You cannot attach to a stopped container, start it first") from None
    finally:
        os.close(fd)
    return connection
