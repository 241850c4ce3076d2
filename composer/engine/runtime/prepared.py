"""A prepared start: a container made ready to run while its dependencies become ready, its
program exec'd the moment ``go`` is called.

``containers.prepare_start`` has a supervisor forked as for a start (request "<id> prepare"). Its
launcher does everything of the start but the exec: PID 1 forked in its new namespaces, the root
filesystem mounted and pivoted into, the cgroup made and joined, the network plugged in (a
published port taken is refused here already). Then the launcher sends PREPARED to the caller on
the start's connection and holds (``hold``). ``PreparedStart.go`` sends GO on that connection: PID
1 execs the program and ``go`` returns once it runs, as ``start`` does (or raises as ``start``).

``PreparedStart.abandon``, the caller's death (the connection's end) or the supervisor's death
make the launcher give everything back: PID 1 killed, the network unplugged, the cgroup removed,
and the state.json keys of the supervisor (``forget_supervisor``) and the files the preparation
wrote removed, so the container is left as it was created. ``abandon`` returns once that is done.
"""

from __future__ import annotations

import os
import select

TYPE_CHECKING = False  # typing stays off the supervisors' path
if TYPE_CHECKING:
    import _socket

PREPARED = b"pr\n"  # launcher -> caller: held before the exec (``supervisor.READY``'s length)
GO = b"1"  # caller -> launcher: exec the program now
ABANDON = b"0"  # caller -> launcher: give it all back (as the connection's end does)
SUPERVISOR_KEYS = ("SupervisorPid", "SupervisorStart", "SupervisorBoot", "Prepared")  # "Prepared": held


class Abandoned(Exception):
    """The launcher's hold ended without GO: abandon, the caller's or the supervisor's death."""


def hold(connection: int, supervisor_alive: int) -> None:
    """In the launcher, PID 1 built and waiting for its exec: tell the caller PREPARED, then return
    on GO; raise Abandoned on anything else, the caller's EOF, or the supervisor's death
    (``supervisor_alive``: a pipe whose write end only the supervisor holds: it hangs up)."""
    try:
        os.write(connection, PREPARED)
    except OSError as error:
        raise Abandoned(f"the caller is gone: {error}") from None
    poller = select.poll()
    poller.register(connection, select.POLLIN)
    poller.register(supervisor_alive, select.POLLIN)
    for fd, _ in poller.poll():
        if fd == supervisor_alive:
            raise Abandoned("the supervisor died")
    try:
        word = os.read(connection, 1)
    except OSError:
        word = b""
    if word != GO:
        raise Abandoned("abandoned by the caller" if word else "the caller is gone")


def forget_supervisor(container_id: str, before: dict | None = None) -> None:
    """After an abandoned preparation: state.json without the supervisor's keys (``before``: as
    it was before the preparation, which may have been refused and recorded its error)."""
    from composer.engine.runtime.state import ContainerDir, write_json_atomic

    cdir = ContainerDir(container_id)
    with cdir.lock():
        state = dict(before) if before is not None else cdir.read_state()
        for key in SUPERVISOR_KEYS:
            state.pop(key, None)
        write_json_atomic(cdir.state, state)


class PreparedStart:
    """The caller's side of a prepared start: ``go`` or ``abandon``, once."""

    def __init__(self, container_id: str, connection: _socket.socket | None = None,
                 before: dict | None = None) -> None:
        self.container_id = container_id
        self.connection = connection  # None: nothing held (go starts as ``start`` does)
        self.failure: BaseException | None = None  # the preparation's refusal: ``go`` raises it
        self.before = before or {}  # "files": the container directory's names, "state": its state.json
        self.done = False

    def go(self) -> None:
        """Exec the program; return once it runs (ContainerRuntimeError as ``start``'s)."""
        self._once()
        if self.failure is not None:
            raise self.failure
        if self.connection is None:
            from composer.engine.runtime.containers import start

            start(self.container_id)
            return
        from composer.engine.runtime.zygote import read_answer

        try:
            self.connection.sendall(GO)
        except OSError:
            pass  # the supervisor is gone: read_answer says so
        try:
            read_answer(self.connection)
        finally:
            self.connection.close()

    def abandon(self) -> None:
        """Give everything back: the container is left created, as before; returns once done."""
        self._once()
        if self.connection is not None:
            try:
                self.connection.sendall(ABANDON)
                while self.connection.recv(4096):  # EOF: the launcher and the supervisor are done
                    pass
            except OSError:
                pass
            finally:
                self.connection.close()
        if self.before:
            self._restore()

    def _restore(self) -> None:
        """The files the preparation wrote in the container's directory (/etc files, an empty log)
        removed, and its state.json as it was (a refused preparation recorded its error)."""
        from composer.engine.runtime.state import ContainerDir

        directory = ContainerDir(self.container_id).path
        if not os.path.isdir(directory):  # removed meanwhile (rm -f gives up a held start)
            return
        for name in set(os.listdir(directory)) - set(self.before.get("files", ())):
            path = os.path.join(directory, name)
            if not os.path.isdir(path):  # (a file or an attach socket; a directory is not ours)
                os.unlink(path)
        forget_supervisor(self.container_id, self.before.get("state"))

    def _once(self) -> None:
        if self.done:
            raise RuntimeError(f"the prepared start of {self.container_id} was already used")
        self.done = True
