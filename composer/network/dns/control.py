"""Start, poke and stop the DNS server of a state root (no trio here: the CLI stays light).

A container start on a user network comes here (is the server listening?), so nothing heavy is
imported at module level: ``_signal`` rather than ``signal`` (its enums), ``subprocess`` only to
start the server, plain paths rather than ``pathlib``, ``inet_aton`` rather than ``ipaddress``.
"""

from __future__ import annotations

import _signal as signal
import os
import sys
import time

from composer.network.store import NetworkStore

MODULE = "composer.network.dns.daemon"


def pid_of(store: NetworkStore) -> int | None:
    """The running server's pid, or None."""
    try:
        with open(os.path.join(store.dir, "dns.pid")) as handle:
            pid = int(handle.read())
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except (OSError, ValueError):
        return None
    if MODULE.encode() in cmdline and store.dir.encode() in cmdline:
        return pid
    return None


def start(store: NetworkStore) -> None:
    """Launch the detached server (it daemonizes itself and exits if one already runs)."""
    import subprocess

    os.makedirs(store.dir, exist_ok=True)
    with open(os.path.join(store.dir, "dns.log"), "ab") as log:
        subprocess.run([sys.executable, "-m", MODULE, store.dir], stdin=subprocess.DEVNULL,
                       stdout=log, stderr=log, close_fds=True, check=False)


def refresh(store: NetworkStore) -> None:
    """Make the server see the current state now (starting it when a user network exists)."""
    pid = pid_of(store)
    if pid is not None:
        os.kill(pid, signal.SIGHUP)
    elif any(not net.default for net in store.all()):
        start(store)


def is_listening(address: str, port: int = 53) -> bool:
    """Whether sockets serve ``address:port`` on UDP and TCP (from /proc/net/udp and tcp)."""
    import _socket

    wanted = f"{int.from_bytes(_socket.inet_aton(address), 'little'):08X}:{port:04X}"
    with open("/proc/net/udp") as handle:
        udp = any(line.split()[1] == wanted for line in handle.readlines()[1:])
    with open("/proc/net/tcp") as handle:  # state 0A = LISTEN
        tcp = any(fields[1] == wanted and fields[3] == "0A"
                  for fields in (line.split() for line in handle.readlines()[1:]))
    return udp and tcp


def wait_listening(address: str, port: int = 53, timeout: float = 5.0) -> bool:
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
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
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
