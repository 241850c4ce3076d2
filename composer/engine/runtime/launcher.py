"""How a supervisor starts its container's PID 1: through a short-lived launcher child.

The launcher starts PID 1 as the supervisor's own child (``clone(CLONE_PARENT)``), reports
"ok PID ATTACHED" (or "error CODE MESSAGE" / "failed CODE MESSAGE") over a pipe and exits, so
the launch code never runs in the long-lived supervisor and its pages stay shared with the
zygote. A container with its own user namespace is started from the supervisor itself (its
namespace creator must stay the supervisor's child).
"""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.linux import ForegroundRun
from composer.engine.runtime.prepared import Abandoned, forget_supervisor, hold
from composer.errors import ContainerRuntimeError, ProgramExecFailed, report_parts, report_text


def report(fd: int, message: str) -> None:
    """Write ``message`` to ``fd``, ignoring a reader that is gone."""
    try:
        os.write(fd, message.encode(errors="replace"))
    except OSError:
        pass


def _use_stdio(stdio: tuple[int, int, int]) -> None:
    """Make ``stdio`` (-1: keep ours) our descriptors 0, 1, 2 (PID 1 inherits them)."""
    for target, fd in enumerate(stdio):
        if fd >= 0:
            os.dup2(fd, target)


def start_here(run: ForegroundRun, stdio: tuple[int, int, int]) -> None:
    """Start PID 1 from this process, with ``stdio`` (-1: keep ours) as its 0, 1, 2."""
    plan = run.prepare_launch()
    saved = (os.dup(0), os.dup(1), os.dup(2))
    try:
        _use_stdio(stdio)
        run.start(plan)
    finally:
        for target, fd in enumerate(saved):
            os.dup2(fd, target)
            os.close(fd)


class _LauncherRun(ForegroundRun):
    """A launcher's run: PID 1 is the supervisor's child, so it is never reaped here, and the
    supervisor writes the running state (once, when the launcher reported)."""

    records_start = False
    # a refused start never drops the supervisor's keys: it stays the container's keeper until
    # its very end (readers would take it for dead, and a second start could begin meanwhile)
    never_started = ("StartedAt", "PidStart")

    hold: tuple[int, int] = ()  # a prepared start's (caller's connection, supervisor's alive pipe)

    def _reap(self) -> int:
        self.pid = 0
        return 0

    def _while_building(self, plan) -> None:
        super()._while_building(plan)
        if self.hold:  # PID 1 built, the network plugged in: its exec waits for the caller's go
            hold(*self.hold)


def _launcher_main(config: ContainerConfig, console_fd: int, stdio: tuple[int, int, int], result_fd: int,
                   held: tuple[int, int] = ()) -> None:
    """The launcher child: start PID 1 as its parent's child (``held``: once the caller says go),
    report "ok PID ATTACHED", "error CODE MESSAGE" or "abandoned", exit. Never returns."""
    run = _LauncherRun(config)
    run.console_fd, run.hold = console_fd, held
    code = 0
    try:
        _use_stdio(stdio)
        plan = run.prepare_launch()
        plan.sibling = True
        run.start(plan)
        report(result_fd, f"ok {run.pid} {int(run.attached)}")
    except BaseException as error:  # noqa: BLE001 - must reach the supervisor
        kind = "failed" if isinstance(error, ProgramExecFailed) else "error"  # it ran: the supervisor's to record
        kind = "abandoned" if isinstance(error, Abandoned) else kind
        report(result_fd, f"{kind} {getattr(error, 'exit_code', 125)} {report_text(error)}")
        config.auto_remove = False  # the supervisor removes, at the very end
        try:
            run.cleanup()  # cgroup and network; PID 1 (if any) is killed
            if kind == "abandoned":  # the container is left as it was: no supervisor recorded
                forget_supervisor(config.id)
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    os.close(result_fd)
    os._exit(code)


def start_in_launcher(config: ContainerConfig, run: ForegroundRun, stdio: tuple[int, int, int],
                      hold_fd: int = -1) -> None:
    """Fork a launcher that starts PID 1 as OUR child and exits; fill ``run`` from its report.
    ``hold_fd``: a prepared start's connection, on which the launcher holds PID 1 before its exec
    until the caller's go (``prepared.hold``). Raises ProgramExecFailed (the program's execve
    failed), Abandoned (no go) or ContainerRuntimeError."""
    result_r, result_w = os.pipe2(os.O_CLOEXEC)
    alive_r, alive_w = os.pipe2(os.O_CLOEXEC) if hold_fd >= 0 else (-1, -1)  # ours: its hang-up is our death
    launcher = os.fork()
    if launcher == 0:
        os.close(result_r)
        if alive_w >= 0:
            os.close(alive_w)
        _launcher_main(config, run.console_fd, stdio, result_w, (hold_fd, alive_r) if hold_fd >= 0 else ())
    os.close(result_w)
    chunks = []
    while chunk := os.read(result_r, 4096):
        chunks.append(chunk)
    os.close(result_r)
    os.waitpid(launcher, 0)  # its report is its last act
    for fd in (alive_r, alive_w):
        if fd >= 0:
            os.close(fd)
    kind, _, rest = b"".join(chunks).decode(errors="replace").partition(" ")
    if kind == "abandoned":
        raise Abandoned(rest)
    if kind != "ok":
        code, _, text = rest.partition(" ") if kind in ("error", "failed") else ("125", "", "the launcher died")
        error = ProgramExecFailed if kind == "failed" else ContainerRuntimeError
        message, hint = report_parts(text)
        raise error(message, hint=hint, exit_code=int(code) if code.isdigit() else 125)
    pid, attached = rest.split()
    run.pid, run.attached, run.created = int(pid), attached == "1", True
