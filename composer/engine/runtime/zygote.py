"""Supervisors forked from one frozen parent, so that they share its memory (DESIGN.md's option).

The first ``start`` forks the zygote: a detached process (own session) that has imported the
supervisor's modules, ran ``gc.freeze()`` and listens on ``state_root()/supervisor.sock``. Each
start connects and sends a container id; the zygote forks a supervisor for it, which answers on
that connection ("ok" or "<code> <message>", as ``spawn`` reads). The pages of the imported
code and data stay shared between the zygote and every supervisor (copy-on-write, and the GC
never touches frozen objects), so each container costs only what its supervisor dirties. The
zygote exits when it has no supervisor left: nothing stays resident when no container runs.
A supervisor does not depend on the zygote once forked (its death kills no container).
"""

from __future__ import annotations

import _signal as signal  # C modules: run -d imports this file, and signal.py and socket.py
import _socket  # cost enum and selectors
import gc
import os
import select
import sys

TYPE_CHECKING = False  # typing stays off run -d's path
if TYPE_CHECKING:
    import socket

from composer.engine.runtime.state import StateLock
from composer.engine.runtime.watch import drain
from composer.settings import state_root_dir

IDLE_EXIT = 1.0  # seconds without supervisors before the zygote leaves
READY = b"ok\n"  # the answer of a supervisor whose container runs (else "<exit code> <message>")


def _paths() -> tuple[str, str]:
    root = state_root_dir()
    os.makedirs(root, exist_ok=True)
    return os.path.join(root, "supervisor.sock"), os.path.join(root, "supervisor.lock")


def request(container_id: str) -> _socket.socket:
    """Ask the zygote (started if needed) for a supervisor; the connection it will answer on."""
    return _send(container_id.encode() + b"\n")


def spawn(container_id: str, attach: bool = False):
    """Have a supervisor forked for ``container_id``; return once PID 1 runs. (Here, not in
    supervisor.py: a start's caller imports none of the supervisor's own modules.)

    With ``attach`` the connection is returned: the supervisor keeps it as the first client of
    its attach socket (no output is missed, even of a container that ends at once).
    """
    connection = request(container_id + (" attach" if attach else ""))
    try:
        read_answer(connection)
    except BaseException:
        connection.close()
        raise
    if attach:
        import socket

        return socket.socket(fileno=connection.detach())  # what attach_relay expects
    connection.close()
    return None


def read_answer(connection: _socket.socket, prepared: bool = False) -> None:
    """The supervisor's answer on a start's connection: READY (``prepared``: PREPARED, the
    launcher holds before the exec) returns; its "<exit code> <message>" is raised."""
    from composer.engine.runtime.prepared import PREPARED
    from composer.errors import ContainerRuntimeError, report_parts

    expected = PREPARED if prepared else READY
    answer = b""
    while len(answer) < len(expected) and (chunk := _receive(connection, len(expected) - len(answer))):
        answer += chunk
    if answer == expected:
        return
    while chunk := _receive(connection, 4096):
        answer += chunk
    code, _, text = answer.decode(errors="replace").partition(" ")
    message, hint = report_parts(text)
    raise ContainerRuntimeError(message or "the supervisor exited before the container started", hint=hint,
                                exit_code=int(code) if code.isdigit() else 125)


def _receive(connection: _socket.socket, size: int) -> bytes:
    """Up to ``size`` bytes of the supervisor's answer; b"" at its end, also when it died (a reset)."""
    try:
        return connection.recv(size)
    except ConnectionResetError:
        return b""


def ensure() -> None:
    """Start the zygote now unless it runs (an empty request: it forks nothing), so that the
    starts to come find it. Called by a command about to start containers from its main thread
    before any other thread begins: the zygote is then forked from a process importing nothing."""
    _send(b"\n").close()


def _send(line: bytes) -> _socket.socket:
    """Connect to the zygote (started if needed) and send ``line``; the connection."""
    path, lock = _paths()
    with StateLock(lock):
        connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            connection.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            _start_zygote(path)
            connection.connect(path)
        connection.sendall(line)
    return connection


def _start_zygote(path: str) -> None:
    """Fork the detached zygote; return once it listens on ``path``."""
    if os.path.exists(path):
        os.unlink(path)  # a dead zygote's socket
    # _socket here: socket.py's enums cost the start's caller ~4 ms; the zygote wraps it
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    listener.bind(path)
    listener.listen(64)
    child = os.fork()
    if child == 0:
        try:
            _close_inherited(listener.fileno())
            _forget_partial_imports()
            os.setsid()
            if os.fork() == 0:
                import socket

                Zygote(socket.socket(fileno=listener.detach()), path).serve()
        finally:
            os._exit(0)
    listener.close()
    os.waitpid(child, 0)


def _close_inherited(keep: int) -> None:
    """Close every descriptor of the CLI but stdio and ``keep``, first thing in the forked child:
    among them the supervisor lock's, whose flock would otherwise stay held (by the zygote, until
    its ``serve`` detaches) after the caller released it, so that the next start waited for the
    zygote's imports."""
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def _forget_partial_imports() -> None:
    """In a child forked while another thread of the CLI imported modules: the modules not fully
    imported are dropped, and the import locks, whose holder does not exist here, forgotten, so
    that importing them here starts afresh instead of waiting forever. The executor forks the
    zygote from its main thread before its threads begin (``ensure``); a start later in the run
    (the zygote left when idle during a long pull or wait) forks it from a worker thread while
    another may import."""
    bootstrap = sys.modules["_frozen_importlib"]  # the import system's own module
    for name, module in list(sys.modules.items()):
        if getattr(getattr(module, "__spec__", None), "_initializing", False):
            del sys.modules[name]
    bootstrap._module_locks.clear()
    getattr(bootstrap, "_blocking_on", {}).clear()


def _warm_network() -> None:
    """The modules a supervisor imports to plug its container into a bridge: imported here
    once, their pages are shared instead of copied into every supervisor."""
    try:
        from composer.network import endpoint, forward_policy, links, manager, ports, resolvconf  # noqa: F401
        from composer.network.dns import control  # noqa: F401 - _ensure_dns's
    except ImportError:
        pass


class Zygote:
    """The frozen parent: accept, fork a supervisor, reap, leave when idle."""

    def __init__(self, listener: socket.socket, path: str) -> None:
        from composer.engine.runtime import supervisor

        self.supervisor = supervisor
        self.listener = listener
        self.path = path
        self.children: set[int] = set()
        self.warm = False

    @staticmethod
    def _warm_up() -> None:
        """Everything a supervisor needs, imported once here (shared pages) rather than in each
        (volumes and bind mounts: ``volumes``, ``mounts``); done after the first request: after
        the first supervisor is forked, while it starts its container (the start that made the
        zygote does not wait for these imports), or at once on ``ensure()``'s empty one (an ``up``
        creating its networks and containers meanwhile: its first supervisor finds them imported)."""
        from composer.engine import volumes  # noqa: F401
        from composer.engine.runtime import containers, execute, mounts, seccomp, tty  # noqa: F401
        from composer.engine.runtime.cgroups import detect_setup, manager_for

        manager_for("warm-up", setup=detect_setup())
        _warm_network()
        gc.collect()
        gc.freeze()

    def serve(self) -> None:
        """Never returns."""
        self.supervisor._detach_stdio(self.listener.fileno())
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        os.chdir("/")
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        poller = select.poll()
        poller.register(self.listener.fileno(), select.POLLIN)
        poller.register(self.wake_r, select.POLLIN)
        gc.freeze()  # the objects inherited from the CLI: no supervisor's collection copies them
        while True:
            events = poller.poll(int(IDLE_EXIT * 1000) if not self.children else -1)
            self._reap()
            if any(fd == self.listener.fileno() for fd, _ in events):
                self._serve_request()
            elif not events and not self.children and self._leave():
                os._exit(0)

    def _reap(self) -> None:
        drain(self.wake_r)
        while self.children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def _serve_request(self) -> None:
        """Answer the next client, then warm up unless done: after its supervisor is forked, or
        after ensure()'s empty request (the zygote is idle until the first start)."""
        self._accept()
        if not self.warm:
            self._warm_up()
            self.warm = True

    def _accept(self) -> None:
        """Fork a supervisor for the request of the next client (none for an empty one)."""
        connection, _ = self.listener.accept()
        data = b""
        while not data.endswith(b"\n") and (chunk := connection.recv(256)):
            data += chunk
        if not data.strip():  # ensure()'s empty request, or a client gone
            connection.close()
            return
        child = os.fork()
        if child == 0:
            fd = connection.detach()
            self.listener.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.supervisor.run_supervisor(data.decode().strip(), fd)
        connection.close()
        self.children.add(child)

    def _leave(self) -> bool:
        """Unlink the socket under the lock unless a client is already waiting."""
        with StateLock(self.path.replace("supervisor.sock", "supervisor.lock")):
            if select.select([self.listener], [], [], 0)[0]:
                return False
            os.unlink(self.path)
        return True
