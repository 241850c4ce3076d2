"""The supervisor's poll loop: copies the container's stdout and stderr (pipes, or the pty
master with ``-t``) into the json-file log and to attached clients, never letting a pipe fill
up; serves the attach socket; reaps children (PID 1, probes, orphans) on SIGCHLD."""

from __future__ import annotations

import fcntl
import os
import select
import time

from composer.engine.runtime import libc
from composer.engine.runtime.watch import drain

F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20
READ_SIZE = 1 << 20
SMALL_READ, GATHER_S = 1 << 16, 0.002  # after a small read, let the pipe fill a little (fewer, bigger writes)
IDLE_TRIM_MS = 1000  # give the heap back this long after the last output


class Stream:
    """One output of the container: a pipe of ours, or (``-t``) the pty master."""

    def __init__(self, name: str, read_fd: int = -1) -> None:
        self.name = name
        self.kind = 2 if name == "stderr" else 1  # attach.STDERR, attach.STDOUT (attach costs socket.py)
        if read_fd >= 0:
            self.read_fd, self.write_fd = read_fd, -1
            return
        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            fcntl.fcntl(self.read_fd, F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass


class OutputPump:
    """The descriptors a supervisor polls: its SIGCHLD wake-up pipe, the container's streams,
    the attach hub's listener, clients and input (``hub``: None without -t / -i)."""

    def __init__(self, logs, hub) -> None:
        self.logs, self.hub = logs, hub
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.poller = select.poll()
        self.poller.register(self.wake_r, select.POLLIN)
        if hub is not None:
            self.poller.register(hub.listener.fileno(), select.POLLIN)
        self.streams: dict[int, Stream] = {}
        self.attach_fds: set[int] = set()
        self.heap_used = False  # output copied since the last malloc_trim
        self.trickle = False  # the last read was small: output comes in small writes

    def add(self, stream: Stream) -> None:
        """Poll ``stream``'s read end until it reaches its end."""
        self.streams[stream.read_fd] = stream
        self.poller.register(stream.read_fd, select.POLLIN)

    def run(self, run, prober) -> int:
        """Copy output and run probes until PID 1 (``run.pid``) exits; returns its wait status."""
        status = None
        while status is None or self.streams:
            if self.trickle and status is None:
                self.trickle = False
                time.sleep(GATHER_S)
            events = self.poller.poll(self._poll_timeout(prober)) if status is None else self._drain_events()
            if not events and self.heap_used:
                libc.malloc_trim()
                self.heap_used = False
            for fd, mask in events:
                if fd == self.wake_r:
                    status = self.reap(run, prober, status)
                elif self.hub is not None and self.attach_event(fd, mask):
                    continue
                elif fd in self.streams:
                    self._copy(fd, final=status is not None)
                    if prober is not None:
                        prober.output_seen()
                elif prober is not None and prober.owns(fd):
                    prober.read()
            if status is None and prober is not None:
                prober.tick(run.pid)
            if self.hub is not None:
                self.sync_attach()
        return status

    def wait(self, seconds: float, prober) -> None:
        """Serve signals and attach clients for at most ``seconds`` (no container running)."""
        for fd, mask in self.poller.poll(int(seconds * 1000) + 1):
            if fd == self.wake_r:
                self.reap(None, prober, None)
            elif self.hub is not None:
                self.attach_event(fd, mask)
        if self.hub is not None:
            self.sync_attach()

    def _poll_timeout(self, prober) -> int:
        """Milliseconds until the next probe is due or the heap is trimmed; -1: nothing due."""
        waits = [IDLE_TRIM_MS] if self.heap_used else []
        if prober is not None:
            waits.append(prober.wait_ms())
        return min(waits, default=-1)

    def attach_event(self, fd: int, mask: int) -> bool:
        """Serve the attach socket: new clients, their input and backlog; True if ``fd`` was theirs."""
        hub = self.hub
        if fd == hub.listener.fileno():
            hub.accept()
            return True
        client = hub.clients.get(fd)
        if client is not None:
            if mask & select.POLLOUT:
                hub.flush(client)
            if mask & ~select.POLLOUT and fd in hub.clients:
                hub.receive(client)
            return True
        if fd == hub.input_fd and mask & select.POLLOUT:
            hub.write_input()
            return not mask & select.POLLIN or fd not in self.streams
        return False

    def sync_attach(self) -> None:
        """Poll the clients (POLLOUT while they have a backlog) and the input while it waits."""
        hub = self.hub
        wanted = {fd: select.POLLIN | (select.POLLOUT if c.backlog else 0) for fd, c in hub.clients.items()}
        if hub.input_fd >= 0 and (hub.pending_input or hub.input_fd in self.streams):
            wanted[hub.input_fd] = (select.POLLIN if hub.input_fd in self.streams else 0) | (
                select.POLLOUT if hub.pending_input else 0)
        for fd in self.attach_fds - wanted.keys():
            if fd not in self.streams:
                self.poller.unregister(fd)
        for fd, events in wanted.items():
            self.poller.register(fd, events)
        self.attach_fds = set(wanted)

    def _drain_events(self) -> list[tuple[int, int]]:
        """After PID 1's exit: read what is left in every stream (no more blocking)."""
        return [(fd, select.POLLIN) for fd in list(self.streams)]

    def _copy(self, fd: int, final: bool) -> None:
        stream = self.streams[fd]
        try:
            if final:
                os.set_blocking(fd, False)
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            if not final:
                return
            data = b""
        except OSError:  # EIO: the pty has no slave left
            data = b""
        if data:
            self.heap_used = True
            self.trickle = len(data) < SMALL_READ
            if self.logs is not None:
                self.logs.feed(stream.name, data)
            if self.hub is not None:
                self.hub.output(stream.kind, data)
            if not final:
                return
            return self._copy(fd, final)
        self._close(fd, stream)

    def _close(self, fd: int, stream: Stream) -> None:
        """``stream`` reached its end: stop polling it, flush its log line."""
        self.poller.unregister(fd)
        if self.hub is not None and fd == self.hub.input_fd:
            self.hub.input_fd = -1
        self.attach_fds.discard(fd)
        os.close(fd)
        del self.streams[fd]
        if self.logs is not None:
            self.logs.flush(stream.name)

    def reap(self, run, prober, status: int | None) -> int | None:
        """Collect every exited child: PID 1 (its status is returned, ``run.pid`` zeroed), a
        probe, orphans."""
        drain(self.wake_r)
        while True:
            try:
                pid, child_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return status
            if pid == 0:
                return status
            if run is not None and pid == run.pid:
                run.pid = 0
                status = child_status
            elif prober is not None:
                prober.reaped(pid, child_status)
