"""Start, poke and stop the DNS server of a state root (no trio here: the CLI stays light).

A container start on a user network comes here (is the server listening?), so nothing heavy is
imported at module level: ``_signal`` rather than ``signal`` (its enums), ``posix_spawn`` rather
than ``subprocess`` to start the server, plain paths rather than ``pathlib``, ``inet_aton`` rather
than ``ipaddress``.

Who serves a root, and when (the protocol that lets ``down`` and ``up`` follow each other at once):

- ``dns.lock`` is held (``flock``) by the one server of the root for its whole life, and so
  released only when its process is gone, its sockets closed with it.
- ``start`` takes that lock itself, binds the UDP and TCP sockets of every served gateway, and
  spawns the server with both (it inherits the lock): the gateways answer as soon as ``start``
  returns (queries wait in the sockets' queues while the server imports trio), so a container
  start never waits for the server's imports.
- ``dns.pid`` names a server that will see any network saved before it was read: the server
  removes it, under the network store's lock, only when it has found nothing left to serve and
  is about to exit. A ``start`` that finds the lock taken and no live ``dns.pid`` is looking at
  a server on its way out: it waits for the lock, then starts a new one.
- Pokes (``refresh``) are SIGURG, which a process ignores by default: a server poked before its
  handler is installed does not die of it (its first rescan reads the state anyway).
"""

from __future__ import annotations

import _signal as signal
import os
import sys
import time

from composer.engine.runtime.state import process_start_time, signal_process
from composer.network.store import NetworkStore

MODULE = "composer.network.dns.daemon"
RESCAN = signal.SIGURG
PORT = int(os.environ.get("COMPOSER_DNS_PORT", "53"))
LOCK_WAIT = 5.0  # seconds a start waits for an exiting server to go
_SPAWNED: list = []  # servers this process started (its children): reaped once they exit


def pid_of(store: NetworkStore) -> int | None:
    """The running server's pid, or None. ``dns.pid`` holds "PID START": the process's start time
    (/proc/PID/stat) tells it from a later process with the same pid (its command line cannot: it
    reads empty until the new program's arguments are set up, after the spawn has returned)."""
    try:
        with open(os.path.join(store.dir, "dns.pid")) as handle:
            pid, *started = handle.read().split()
        running = process_start_time(int(pid))
        if not running:
            return None
        if started:
            return int(pid) if started[0] == running else None
        command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")  # an earlier version's "PID"
    except (OSError, ValueError):
        return None
    return int(pid) if MODULE.encode() in command and store.dir.encode() in command else None


def served_gateways(store: NetworkStore) -> list[str]:
    """The gateways the server listens on: user networks whose bridge exists (one deleted by
    hand keeps its state file until ``network rm``/``prune``, but its address went with it)."""
    return sorted({net.gateway for net in store.all()
                   if not net.default and os.path.exists(f"/sys/class/net/{net.bridge}")})


def start(store: NetworkStore, gateways: list[str] | None = None) -> None:
    """Make sure a server runs for ``store`` (started here, or poked when one already does);
    ``gateways``: ``served_gateways`` as the caller has just read them."""
    lock = _take_lock(store)
    if lock is None:
        return
    sockets: list = []
    try:
        for gateway in served_gateways(store) if gateways is None else gateways:
            try:
                sockets += bind(gateway)
            except OSError:
                pass  # the server retries at its rescans (and logs why)
        _spawn(store, lock, [sock.fileno() for sock in sockets])
    finally:
        for sock in sockets:
            sock.close()
        os.close(lock)


def _take_lock(store: NetworkStore) -> int | None:
    """``dns.lock``, held (an fd to pass to a new server), or None when a live server holds it
    (poked here). Waits while the holder is a server on its way out."""
    import fcntl

    os.makedirs(store.dir, exist_ok=True)
    fd = os.open(os.path.join(store.dir, "dns.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        pid = pid_of(store)
        if pid is not None or time.monotonic() > deadline:
            os.close(fd)
            if pid is not None:
                _poke(pid)
            return None
        time.sleep(0.005)  # a server exiting, or another start between its spawn and dns.pid


def bind(gateway: str) -> list:
    """A UDP socket and a listening TCP socket on ``gateway``:53, or OSError (IP_FREEBIND: the
    bridge may still be coming up; SO_REUSEADDR: beside a host resolver on 0.0.0.0:53 that allows
    it, never beside another server of the root, as only the lock's holder binds)."""
    import _socket

    made = []
    try:
        for kind in (_socket.SOCK_DGRAM, _socket.SOCK_STREAM):
            sock = _socket.socket(_socket.AF_INET, kind)
            made.append(sock)
            sock.setsockopt(_socket.SOL_IP, 15, 1)  # IP_FREEBIND
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
            sock.bind((gateway, PORT))
            if kind == _socket.SOCK_STREAM:
                sock.listen(64)
    except OSError:
        for sock in made:
            sock.close()
        raise
    return made


def forget_pid(store: NetworkStore) -> bool:
    """The server's side of ``dns.pid``: remove it when it names this process; whether it did."""
    if not names_me(store):
        return False
    os.unlink(os.path.join(store.dir, "dns.pid"))
    return True


def names_me(store: NetworkStore, wait: float = 0.0) -> bool:
    """Whether ``dns.pid`` names this process, waiting up to ``wait`` seconds for the ``start``
    that spawned us to write it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(os.path.join(store.dir, "dns.pid")) as handle:
                if handle.read().split()[:1] == [str(os.getpid())]:
                    return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _spawn(store: NetworkStore, lock: int, fds: list[int]) -> None:
    """Start the server process with the lock and the bound sockets (and nothing else of ours:
    an fd a caller left inheritable is closed in it); record its pid. ``posix_spawn`` rather
    than ``subprocess``, whose import (enum, re, locale, signal) cost ``network create`` 30-70 ms."""
    _SPAWNED[:] = [pid for pid in _SPAWNED if not _reaped(pid)]
    keep = (lock, *fds)
    log = os.open(os.path.join(store.dir, "dns.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds() if fd not in keep]
        # dup2 of an fd onto itself clears its close-on-exec in the child only (glibc 2.29+, POSIX
        # 2024): the lock never turns inheritable here, where another thread (the head start) may
        # fork meanwhile and keep it held in a long-lived child
        actions += [(os.POSIX_SPAWN_DUP2, fd, fd) for fd in keep]
        pid = os.posix_spawn(sys.executable, [sys.executable, "-m", MODULE, store.dir, *map(str, keep)],
                             os.environ, file_actions=actions, setsid=True)
    finally:
        os.close(log)
    path = os.path.join(store.dir, "dns.pid")
    with open(f"{path}.tmp{os.getpid()}", "w") as handle:
        handle.write(f"{pid} {process_start_time(pid)}")
    os.replace(f"{path}.tmp{os.getpid()}", path)
    _SPAWNED.append(pid)


def _inheritable_fds() -> list[int]:
    """This process's descriptors above stderr that a spawned program would inherit."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:
            pass  # the listing's own descriptor, closed since
    return found


def _reaped(pid: int) -> bool:
    """Reap ``pid`` (a server we spawned) if it has exited; whether it is gone."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def refresh(store: NetworkStore) -> None:
    """Make the server see the current state now (starting it when a user network exists)."""
    pid = pid_of(store)
    if pid is not None:
        _poke(pid)
    elif gateways := served_gateways(store):
        start(store, gateways)  # one read of the network files


def _poke(pid: int) -> None:
    signal_process(pid, RESCAN)  # a pid read from dns.pid: never a group, never our own


def is_listening(address: str, port: int = PORT) -> bool:
    """Whether sockets serve ``address:port`` on UDP and TCP (from /proc/net/udp and tcp)."""
    import _socket

    wanted = f"{int.from_bytes(_socket.inet_aton(address), 'little'):08X}:{port:04X}"
    with open("/proc/net/udp") as handle:
        udp = any(line.split()[1] == wanted for line in handle.readlines()[1:])
    with open("/proc/net/tcp") as handle:  # state 0A = LISTEN
        tcp = any(fields[1] == wanted and fields[3] == "0A"
                  for fields in (line.split() for line in handle.readlines()[1:]))
    return udp and tcp


def wait_listening(address: str, port: int = PORT, timeout: float = 5.0) -> bool:
    """Wait until some socket is bound to udp ``address:port`` (for tests and ``connect``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening(address, port):
            return True
        time.sleep(0.02)
    return False


def stop(store: NetworkStore, timeout: float = 5.0) -> None:
    """Stop the server of ``store`` (SIGTERM, waiting for it to go)."""
    pid = pid_of(store)
    if pid is None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        if not signal_process(pid, sig):
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.02)
        if not _alive(pid):
            break  # gone: its sockets are closed, a new server may bind the same gateway
    try:
        os.unlink(os.path.join(store.dir, "dns.pid"))
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
