"""The supervisor: one small detached process per running container (conmon's job).

``spawn`` has it forked by the zygote (its own session, no terminal), and returns once the
container's PID 1 has exec'd, or raises with the reason. Each start goes through a short-lived
launcher child that makes PID 1 the supervisor's own child (``clone(CLONE_PARENT)``), so the
launch code never runs in the long-lived process and its pages stay shared with the zygote. The
supervisor is a child subreaper holding PID 1 as its child; it copies the container's stdout and
stderr into the json-file log (never letting a pipe fill up), runs healthchecks, records every
exit atomically in state.json and applies the restart policy with docker's back-off. PID 1 has
PR_SET_PDEATHSIG=SIGKILL, so a killed supervisor takes its container with it; the next command
that reads the state finds the supervisor gone and reports the container exited (``reconcile``).
"""

from __future__ import annotations

import fcntl
import gc
import os
import _signal as signal  # the C module: run -d imports this file, and signal.py costs enum
import select
import time

from composer.engine.runtime import libc
from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.health import HealthMonitor
from composer.engine.runtime.linux import ForegroundRun
from composer.engine.runtime.logs import open_log
from composer.engine.runtime.state import ContainerDir, boot_id, now_iso, process_start_time
from composer.errors import ComposerError, ContainerRuntimeError, ProgramExecFailed

F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20
READ_SIZE = 1 << 20
SMALL_READ, GATHER_S = 1 << 16, 0.002  # after a small read, let the pipe fill a little (fewer, bigger writes)
IDLE_TRIM_MS = 1000  # give the heap back this long after the last output
READY = b"ok\n"  # the answer of a supervisor whose container runs (else "<exit code> <message>")
BACKOFF_START, BACKOFF_MAX, BACKOFF_RESET_AFTER = 0.1, 60.0, 10.0  # docker's restart manager


class RestartBackoff:
    """Docker's restart delays (moby's restartmanager): 100 ms before the first restart, doubled
    before each next one, at most one minute, and back to 100 ms after a life of 10 s or more."""

    def __init__(self) -> None:
        self.delay = 0.0

    def next(self, ran_for: float) -> float:
        """The wait before restarting a container whose last life lasted ``ran_for`` seconds."""
        if ran_for >= BACKOFF_RESET_AFTER:
            self.delay = 0.0
        self.delay = min(self.delay * 2, BACKOFF_MAX) if self.delay else BACKOFF_START
        return self.delay


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a time.Duration (docker's probe timeout message): 300ms, 5s, 1m30s."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{rest:g}s"


def spawn(container_id: str, attach: bool = False):
    """Have a supervisor forked for ``container_id`` (by the zygote); return once PID 1 runs.

    With ``attach`` the connection is returned: the supervisor keeps it as the first client of
    its attach socket (no output is missed, even of a container that ends at once).
    """
    from composer.engine.runtime.zygote import request

    connection = request(container_id + (" attach" if attach else ""))
    answer = b""
    try:
        while len(answer) < len(READY) and (chunk := connection.recv(len(READY) - len(answer))):
            answer += chunk
        if attach and answer == READY:
            import socket

            return socket.socket(fileno=connection.detach())  # what attach_relay expects
        while chunk := connection.recv(4096):
            answer += chunk
    finally:
        if not (attach and answer == READY):
            connection.close()
    if answer == READY:
        return None
    code, _, message = answer.decode(errors="replace").partition(" ")
    raise ContainerRuntimeError(message or "the supervisor exited before the container started",
                                exit_code=int(code) if code.isdigit() else 125)


def run_supervisor(request: str, ready_fd: int) -> None:
    """The body of a freshly forked supervisor process (``request``: "<id>" or "<id> attach").
    Never returns."""
    container_id, _, mode = request.partition(" ")
    try:
        _detach_stdio(ready_fd)
        Supervisor(container_id, ready_fd, attach=mode == "attach").run()
    except BaseException as error:  # noqa: BLE001 - must reach the caller, never unwind past fork
        _report(ready_fd, f"125 supervisor failed: {error}")
    os._exit(1)


def _report(fd: int, message: str) -> None:
    try:
        os.write(fd, message.encode(errors="replace"))
    except OSError:
        pass


def _detach_stdio(keep: int) -> None:
    """stdin/stdout/stderr to /dev/null, every other inherited descriptor closed."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.closerange(3, keep)
    libc.close_range(keep + 1)


def _start_here(run: ForegroundRun, stdio: tuple[int, int, int]) -> None:
    """Start PID 1 from this process, with ``stdio`` (-1: keep ours) as its 0, 1, 2."""
    plan = run.prepare_launch()
    saved = (os.dup(0), os.dup(1), os.dup(2))
    try:
        for target, fd in enumerate(stdio):
            if fd >= 0:
                os.dup2(fd, target)
        run.start(plan)
    finally:
        for target, fd in enumerate(saved):
            os.dup2(fd, target)
            os.close(fd)


class _LauncherRun(ForegroundRun):
    """A launcher's run: PID 1 is the supervisor's child, so it is never reaped here, and the
    supervisor writes the running state (once, in ``_launch``)."""

    records_start = False

    def _reap(self) -> int:
        self.pid = 0
        return 0


def _launcher_main(config: ContainerConfig, console_fd: int, stdio: tuple[int, int, int], result_fd: int) -> None:
    """The launcher child: start PID 1 as its parent's child, report "ok PID ATTACHED" or
    "error CODE MESSAGE", exit. Never returns."""
    run = _LauncherRun(config)
    run.console_fd = console_fd
    code = 0
    try:
        for target, fd in enumerate(stdio):
            if fd >= 0:
                os.dup2(fd, target)
        plan = run.prepare_launch()
        plan.sibling = True
        run.start(plan)
        _report(result_fd, f"ok {run.pid} {int(run.attached)}")
    except BaseException as error:  # noqa: BLE001 - must reach the supervisor
        message = error.message if isinstance(error, ComposerError) else str(error)
        kind = "failed" if isinstance(error, ProgramExecFailed) else "error"  # it ran: the supervisor's to record
        _report(result_fd, f"{kind} {getattr(error, 'exit_code', 125)} {message}")
        config.auto_remove = False  # the supervisor removes, at the very end
        try:
            run.cleanup()  # cgroup and network; PID 1 (if any) is killed
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    os.close(result_fd)
    os._exit(code)


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


class Supervisor:
    """Runs one container until it ends for good (exit without restart, or ``stop``)."""

    def __init__(self, container_id: str, ready_fd: int, attach: bool = False) -> None:
        self.cdir = ContainerDir(container_id)
        self.config = ContainerConfig.from_dict(self.cdir.read_config())
        self.auto_remove = self.config.auto_remove  # run.cleanup must not remove: we do, at the very end
        self.ready_fd = ready_fd
        self.attach_first = attach  # the ready connection becomes the first attach client
        self.restart_count = 0
        self.logs = open_log(self.config, self.cdir.path)
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.run_: ForegroundRun | None = None
        self.health: HealthMonitor | None = None
        self.probe: dict | None = None
        self.poller = select.poll()
        self.streams: dict[int, Stream] = {}
        self.hub = None
        if self.config.tty or self.config.stdin:
            from composer.engine.runtime.attach import AttachHub

            self.hub = AttachHub(self.cdir.path)
        self.attach_fds: set[int] = set()
        self.heap_used = False  # output copied since the last malloc_trim
        self.trickle = False  # the last read was small: output comes in small writes

    # --- the main loop ----------------------------------------------------------------------
    def run(self) -> None:
        """Start, supervise, restart; clean up at the end. Never returns (exits the process)."""
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
        libc.keep_heap(READ_SIZE * 8, READ_SIZE * 32)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGUSR1, lambda *_: None)  # "look at the state again" (stop during back-off)
        self.poller.register(self.wake_r, select.POLLIN)
        if self.hub is not None:
            self.poller.register(self.hub.listener.fileno(), select.POLLIN)
        self.cdir.write_state(SupervisorPid=os.getpid(), SupervisorStart=process_start_time(os.getpid()),
                              SupervisorBoot=boot_id())
        backoff = RestartBackoff()
        try:
            while True:
                began = time.monotonic()
                exit_code = self._run_once()
                delay = backoff.next(time.monotonic() - began)
                if not self._should_restart(exit_code) or not self._back_off(delay):
                    break
                self.restart_count += 1
        except BaseException as error:  # noqa: BLE001
            self._fail(error)
        finally:
            self._finish()
        os._exit(0)

    def _run_once(self) -> int:
        """One life of the container: launch, pump output and probes, record the exit."""
        try:
            self._launch()
        except ProgramExecFailed as failure:
            self._ready()
            return self._program_failed(failure)
        self._ready()
        self._catch_up_limits()
        gc.collect()
        libc.malloc_trim()
        status = self._pump()
        code = os.waitstatus_to_exitcode(status)
        exit_code = 128 - code if code < 0 else code
        run = self.run_
        oom = run.cgroup.oom_killed()
        # the exit is recorded first (stop returns at once); a new start waits for this
        # supervisor to be gone, so the cleanup below never races with the next life
        self.cdir.write_state(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0,
                              ExitCode=exit_code, OOMKilled=oom, FinishedAt=now_iso(),
                              **({"Health": self._health_state("unhealthy")} if self.health else {}))
        if self.hub is not None:
            self.hub.end_life(exit_code)
            self.hub.disconnect()
            self._sync_attach()
        run.config.auto_remove = False
        self._reload_networks()
        run.cleanup()
        self.run_ = None
        return exit_code

    def _ready(self) -> None:
        """Tell ``spawn``'s caller that the container runs (once); with attach, it becomes a client."""
        if self.ready_fd < 0:
            return
        _report(self.ready_fd, READY.decode())
        if self.attach_first and self.hub is not None:
            self.hub.adopt(self.ready_fd)
            self._sync_attach()
        else:
            os.close(self.ready_fd)
        self.ready_fd = -1

    def _program_failed(self, failure: ProgramExecFailed) -> int:
        """runc >= 1.1's behaviour: the container started, its program's execve failed. The message
        is its stderr (log, attached clients) and the life ends with its exit code (1)."""
        message = (failure.message + "\n").encode(errors="replace")
        if self.logs is not None:
            self.logs.feed("stderr", message)
        stamp = now_iso()
        self.cdir.write_state(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0,
                              ExitCode=failure.exit_code, OOMKilled=False, Error="", StartedAt=stamp,
                              FinishedAt=stamp, RestartCount=self.restart_count)
        if self.hub is not None:
            self.hub.new_life(-1, self.config.tty)
            self.hub.output(2, message)
            self.hub.end_life(failure.exit_code)
            self.hub.disconnect()
            self._sync_attach()
        self.run_.config.auto_remove = False
        self.run_.cleanup()  # (after a launcher: it released what it held already)
        self.run_ = None
        return failure.exit_code

    def _reload_networks(self) -> None:
        """``network connect``/``disconnect`` while this life ran changed config.json: the cleanup
        releases those endpoints too, and the next life (a restart) joins what is recorded now."""
        try:
            fresh = ContainerConfig.from_dict(self.cdir.read_config())
        except (OSError, ValueError, TypeError):
            return
        self.config.network, self.config.endpoints = fresh.network, fresh.endpoints

    def _health_state(self, final: str) -> dict:
        state = self.health.state()
        state["Status"] = final
        return state

    def _launch(self) -> None:
        """Start the container with its stdout/stderr on our pipes, through a launcher child."""
        run = ForegroundRun(self.config)  # what the exit needs: pid, cgroup, network
        run.records_start = False  # the running state is written below, once
        self.run_ = run
        console = self._console_socket(run)
        out, err = Stream("stdout"), Stream("stderr")
        stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC) if self.config.stdin and not self.config.tty else (-1, -1)
        piped = self.logs is not None or self.hub is not None
        stdio = (stdin_r, out.write_fd if piped else -1, err.write_fd if piped else -1)
        try:
            if self.config.userns_mode == "private":  # its namespace creator must stay our child
                _start_here(run, stdio)
            else:
                self._start_in_launcher(run, stdio)
        except BaseException:  # no life: nothing to read (a restart must not leak these)
            for fd in (out.read_fd, err.read_fd, stdin_w):
                if fd >= 0:
                    os.close(fd)
            if console is not None:
                console.close()
            raise
        finally:
            for fd in (out.write_fd, err.write_fd, stdin_r, run.console_fd):
                if fd >= 0:
                    os.close(fd)
            run.console_fd = -1
        streams = [out, err]
        if console is not None:
            streams.append(Stream("stdout", self._receive_master(console)))
        for stream in streams:
            self.streams[stream.read_fd] = stream
            self.poller.register(stream.read_fd, select.POLLIN)
        if self.hub is not None:
            self.hub.new_life(streams[-1].read_fd if console is not None else stdin_w, console is not None)
            if stdin_w >= 0:
                os.set_blocking(stdin_w, False)
        now = time.monotonic()
        if self.config.healthcheck and HealthMonitor(self.config.healthcheck, now).argv:
            self.health = HealthMonitor(self.config.healthcheck, now)
        self.cdir.write_state(Status="running", Running=True, Restarting=False, Paused=False, Pid=run.pid,
                              PidStart=process_start_time(run.pid),
                              StartedAt=now_iso(), RestartCount=self.restart_count, ExitCode=0, Error="",
                              OOMKilled=False,
                              **({"Health": self.health.state()} if self.health else {}))

    def _start_in_launcher(self, run: ForegroundRun, stdio: tuple[int, int, int]) -> None:
        """Fork a launcher that starts PID 1 as OUR child (``clone(CLONE_PARENT)``) and exits: the
        launch code never runs here, so our pages stay shared with the zygote."""
        result_r, result_w = os.pipe2(os.O_CLOEXEC)
        launcher = os.fork()
        if launcher == 0:
            os.close(result_r)
            _launcher_main(self.config, run.console_fd, stdio, result_w)
        os.close(result_w)
        chunks = []
        while chunk := os.read(result_r, 4096):
            chunks.append(chunk)
        os.close(result_r)
        os.waitpid(launcher, 0)  # its report is its last act
        kind, _, rest = b"".join(chunks).decode(errors="replace").partition(" ")
        if kind != "ok":
            code, _, message = rest.partition(" ") if kind in ("error", "failed") else ("125", "", "the launcher died")
            error = ProgramExecFailed if kind == "failed" else ContainerRuntimeError
            raise error(message, exit_code=int(code) if code.isdigit() else 125)
        pid, attached = rest.split()
        run.pid, run.attached, run.created = int(pid), attached == "1", True

    def _console_socket(self, run: ForegroundRun):
        """``-t``: the socket the container's init sends its pty master over (None without -t)."""
        if not self.config.tty:
            return None
        import socket

        from composer.engine.runtime import tty  # noqa: F401 - the init needs it after pivot_root

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        run.console_fd = theirs.detach()
        return ours

    @staticmethod
    def _receive_master(console) -> int:
        import socket

        with console:
            _, fds, _, _ = socket.recv_fds(console, 16, 1)
        if not fds:
            raise ContainerRuntimeError("the container did not send its terminal")
        os.set_blocking(fds[0], False)
        return fds[0]

    def _pump(self) -> int:
        """Copy output and run probes until PID 1 exits; returns its wait status."""
        status = None
        while status is None or self.streams:
            if self.trickle and status is None:
                self.trickle = False
                time.sleep(GATHER_S)
            events = self.poller.poll(self._poll_timeout()) if status is None else self._drain_events()
            if not events and self.heap_used:
                libc.malloc_trim()
                self.heap_used = False
            for fd, mask in events:
                if fd == self.wake_r:
                    status = self._reap(status)
                elif self.hub is not None and self._attach_event(fd, mask):
                    continue
                elif fd in self.streams:
                    self._copy(fd, final=status is not None)
                elif self.probe and fd == self.probe["fd"]:
                    self._read_probe()
            if status is None and self.health is not None:
                self._tick_health()
            if self.hub is not None:
                self._sync_attach()
        return status

    def _poll_timeout(self) -> int:
        """Milliseconds until the next probe is due or the heap is trimmed; -1: nothing due."""
        waits = [IDLE_TRIM_MS] if self.heap_used else []
        if self.health is not None:
            due = self.probe["deadline"] if self.probe else self.health.due()
            waits.append(max(0, int((due - time.monotonic()) * 1000) + 1))
        return min(waits, default=-1)

    def _attach_event(self, fd: int, mask: int) -> bool:
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

    def _sync_attach(self) -> None:
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
        self.poller.unregister(fd)
        if self.hub is not None and fd == self.hub.input_fd:
            self.hub.input_fd = -1
        self.attach_fds.discard(fd)
        os.close(fd)
        del self.streams[fd]
        if self.logs is not None:
            self.logs.flush(stream.name)

    def _reap(self, status: int | None) -> int | None:
        """Collect every exited child: PID 1 (its status is returned), a probe, orphans."""
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, child_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return status
            if pid == 0:
                return status
            if self.run_ is not None and pid == self.run_.pid:
                self.run_.pid = 0
                status = child_status
            elif self.probe and pid == self.probe["pid"]:
                self.probe["status"] = child_status

    # --- healthchecks -------------------------------------------------------------------------
    def _tick_health(self) -> None:
        now = time.monotonic()
        probe = self.probe
        if probe is None:
            if now >= self.health.due():
                self._start_probe()
            return
        if "status" in probe:
            code = os.waitstatus_to_exitcode(probe["status"])
            self._end_probe(code if code >= 0 else 128 - code)
        elif now >= probe["deadline"]:
            try:
                os.kill(probe["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
            probe["output"] = f"Health check exceeded timeout ({go_duration(self.health.timeout)})".encode()
            probe["timed_out"] = True
            os.waitpid(probe["pid"], 0)
            self._end_probe(-1)

    def _start_probe(self) -> None:
        from composer.engine.runtime.execute import ExecRequest, spawn

        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = spawn(self.config.id, self.run_.pid, ExecRequest(argv=self.health.argv), (null, write_fd, write_fd))
        finally:
            os.close(write_fd)
            os.close(null)
        self.probe = {"pid": pid, "fd": read_fd, "output": b"", "wall": time.time(),
                      "deadline": time.monotonic() + self.health.timeout}
        self.poller.register(read_fd, select.POLLIN)

    def _read_probe(self) -> None:
        try:
            data = os.read(self.probe["fd"], 65536)
        except OSError:
            data = b""
        if data:
            self.probe["output"] = (self.probe["output"] + data)[:8192]
        else:
            self.poller.unregister(self.probe["fd"])
            os.close(self.probe["fd"])
            self.probe["fd"] = -1

    def _end_probe(self, exit_code: int) -> None:
        probe, self.probe = self.probe, None
        if probe["fd"] >= 0:
            self.poller.unregister(probe["fd"])
            os.close(probe["fd"])
        self.health.record(time.monotonic(), probe["wall"], exit_code, probe["output"].decode(errors="replace"))
        self.cdir.write_state(Health=self.health.state())

    # --- restarts and the end -----------------------------------------------------------------
    def _reload_limits(self) -> None:
        """``update`` may have changed the restart policy and the limits in config.json meanwhile:
        this exit's decision and the next life (its cgroup) follow them."""
        try:
            fresh = ContainerConfig.from_dict(self.cdir.read_config())
        except (OSError, ValueError, TypeError):
            return
        self.config.restart_policy, self.config.resources = fresh.restart_policy, fresh.resources

    def _catch_up_limits(self) -> None:
        """An ``update`` that saw this life not yet running changed config.json only (it holds the
        state lock, so it either saw "running" or wrote before this read): apply it now."""
        started_with = self.config.resources
        self._reload_limits()
        if self.config.resources != started_with:
            from composer.engine.runtime.update import apply_changes

            apply_changes(self.run_.cgroup, started_with, self.config.resources)

    def _should_restart(self, exit_code: int) -> bool:
        self._reload_limits()
        policy = self.config.restart_policy or {}
        name = policy.get("Name") or "no"
        if name == "no" or self.cdir.read_state().get("ManuallyStopped"):
            return False
        if name == "on-failure":
            limit = policy.get("MaximumRetryCount") or 0
            return exit_code != 0 and (limit <= 0 or self.restart_count < limit)
        return name in ("always", "unless-stopped")

    def _back_off(self, delay: float) -> bool:
        """Wait ``delay`` as "restarting"; False if a ``stop`` came meanwhile."""
        self.cdir.write_state(Status="restarting", Restarting=True)
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            for fd, mask in self.poller.poll(int(left * 1000) + 1):
                if fd == self.wake_r:
                    self._reap(None)
                elif self.hub is not None:
                    self._attach_event(fd, mask)
            if self.hub is not None:
                self._sync_attach()
            if self.cdir.read_state().get("ManuallyStopped"):
                self.cdir.write_state(Status="exited", Restarting=False)
                return False
        self._reload_limits()  # an ``update`` during the wait
        return True

    def _fail(self, error: BaseException) -> None:
        message = error.message if isinstance(error, ComposerError) else str(error)
        code = getattr(error, "exit_code", 125)
        if self.ready_fd >= 0:
            _report(self.ready_fd, f"{code} {message}")
        try:
            self.cdir.write_state(Status="exited" if self.restart_count else "created", Running=False,
                                  Restarting=False, Pid=0, Error=message,
                                  **({"ExitCode": code} if self.restart_count else {}))
        except OSError:
            pass

    def _kept_for_restart(self) -> bool:
        """``restart`` of a ``--rm`` container: the next start needs the container."""
        try:
            return bool(self.cdir.read_state().get("KeepOnExit"))
        except OSError:
            return False

    def _finish(self) -> None:
        """Kill what is left, close the log; with ``--rm`` remove everything."""
        if self.run_ is not None:
            self.run_.config.auto_remove = False
            self.run_.cleanup()
        if self.logs is not None:
            self.logs.close()
        if self.hub is not None:
            self.hub.close(self.cdir.path)
        # decided while this supervisor still counts as alive: once SupervisorPid is 0, the start
        # of a ``restart`` goes on and clears KeepOnExit, and a late look would remove its container
        remove_now = self.auto_remove and not self._kept_for_restart()
        try:
            self.cdir.write_state(SupervisorPid=0)
        except OSError:
            pass
        if remove_now:
            from composer.engine.runtime.containers import remove

            try:
                remove(self.config.id, force=True, volumes=True)
            except (ComposerError, OSError):
                pass
