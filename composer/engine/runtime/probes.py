"""A supervisor's healthcheck probes: one ``exec`` of the HEALTHCHECK command at a time, its
output read through a pipe the supervisor polls, killed at its timeout, its result recorded."""

from __future__ import annotations

import os
import _signal as signal  # the C module: run -d imports this file, and signal.py costs enum
import select
import time

from composer.engine.runtime.health import HealthMonitor
from composer.engine.runtime.state import ContainerDir
from composer.units import format_duration

OUTPUT_LIMIT = 8192  # docker keeps this much of a probe's output


class Prober:
    """Runs the probes of one life of a container; the supervisor's loop calls ``tick``, hands
    over reaped children (``reaped``) and readable descriptors (``owns`` / ``read``)."""

    def __init__(self, health: HealthMonitor, container_id: str, cdir: ContainerDir, poller) -> None:
        self.health = health
        self.container_id = container_id
        self.cdir = cdir
        self.poller = poller
        self.probe: dict | None = None

    def wait_ms(self) -> int:
        """Milliseconds until the next probe is due, or the running one times out."""
        due = self.probe["deadline"] if self.probe else self.health.due()
        return max(0, int((due - time.monotonic()) * 1000) + 1)

    def owns(self, fd: int) -> bool:
        """Whether ``fd`` is the running probe's output."""
        return self.probe is not None and fd == self.probe["fd"]

    def output_seen(self) -> None:
        """The container wrote output (a starting service may have said it is ready)."""
        self.health.output_seen(time.monotonic())

    def reaped(self, pid: int, status: int) -> bool:
        """Note the exit of child ``pid`` if it is the running probe."""
        if self.probe is not None and pid == self.probe["pid"]:
            self.probe["status"] = status
            return True
        return False

    def tick(self, pid1: int) -> None:
        """Start a due probe (in PID ``pid1``'s namespaces), record an ended one, kill a late one."""
        now = time.monotonic()
        probe = self.probe
        if probe is None:
            if now >= self.health.due():
                self._start(pid1)
            return
        if "status" in probe:
            code = os.waitstatus_to_exitcode(probe["status"])
            self._end(code if code >= 0 else 128 - code)
        elif now >= probe["deadline"]:
            try:
                os.kill(probe["pid"], signal.SIGKILL)  # our own child, not yet reaped
            except ProcessLookupError:
                pass
            timeout = format_duration(round(self.health.timeout * 10**9))
            probe["output"] = f"Health check exceeded timeout ({timeout})".encode()
            os.waitpid(probe["pid"], 0)
            self._end(-1)

    def _start(self, pid1: int) -> None:
        from composer.engine.runtime.execute import ExecRequest, spawn
        from composer.errors import ContainerStateError

        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = spawn(self.container_id, pid1, ExecRequest(argv=self.health.argv), (null, write_fd, write_fd))
        except ContainerStateError:  # PID 1 has just exited: the pump reaps it next, no probe for this life
            os.close(read_fd)
            return
        finally:
            os.close(write_fd)
            os.close(null)
        self.health.probe_started()
        self.probe = {"pid": pid, "fd": read_fd, "output": b"", "wall": time.time(),
                      "deadline": time.monotonic() + self.health.timeout}
        self.poller.register(read_fd, select.POLLIN)

    def read(self) -> None:
        """Read the running probe's output (at most OUTPUT_LIMIT bytes kept)."""
        try:
            data = os.read(self.probe["fd"], 65536)
        except OSError:
            data = b""
        if data:
            self.probe["output"] = (self.probe["output"] + data)[:OUTPUT_LIMIT]
        else:
            self.poller.unregister(self.probe["fd"])
            os.close(self.probe["fd"])
            self.probe["fd"] = -1

    def _end(self, exit_code: int) -> None:
        probe, self.probe = self.probe, None
        if probe["fd"] >= 0:
            self.poller.unregister(probe["fd"])
            os.close(probe["fd"])
        self.health.record(time.monotonic(), probe["wall"], exit_code, probe["output"].decode(errors="replace"))
        self.cdir.write_state(Health=self.health.state())
