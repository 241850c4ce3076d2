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

Its parts: ``launcher`` (the launcher child), ``pump`` (the poll loop: output, attach clients,
reaping), ``probes`` (healthchecks), ``restarts`` (policy and back-off), ``configwatch``
(config.json as ``update`` and ``network connect`` leave it).
"""

from __future__ import annotations

import gc
import os
import _signal as signal  # the C module: run -d imports this file, and signal.py costs enum
import time
from contextlib import contextmanager

from composer.engine.runtime import libc
from composer.engine.runtime.configwatch import ConfigWatch
from composer.engine.runtime.health import HealthMonitor
from composer.engine.runtime.launcher import report, start_here, start_in_launcher
from composer.engine.runtime.linux import ForegroundRun
from composer.engine.runtime.logs import open_log
from composer.engine.runtime.prepared import Abandoned
from composer.engine.runtime.probes import Prober
from composer.engine.runtime.pump import READ_SIZE, OutputPump, Stream
from composer.engine.runtime.restarts import RestartBackoff, restart_wanted
from composer.engine.runtime.state import ContainerDir, boot_id, now_iso, process_start_time
from composer.engine.runtime.zygote import READY
from composer.errors import ComposerError, ContainerNotFound, ContainerRuntimeError, ProgramExecFailed, report_text
from composer.settings import lock_wait

def run_supervisor(request: str, ready_fd: int) -> None:
    """The body of a freshly forked supervisor process (``request``: "<id>", "<id> attach" or
    "<id> prepare", see prepared.py). Never returns."""
    container_id, _, mode = request.partition(" ")
    try:
        _detach_stdio(ready_fd)
        Supervisor(container_id, ready_fd, attach=mode == "attach", prepare=mode == "prepare").run()
    except BaseException as error:  # noqa: BLE001 - must reach the caller, never unwind past fork
        gone = _removed_meanwhile(container_id, error)
        report(ready_fd, f"1 {gone.message}" if gone else f"125 supervisor failed: {error}")
    os._exit(1)


def _removed_meanwhile(container_id: str, error: BaseException) -> ContainerNotFound | None:
    """docker's answer to a start of a container that an ``rm`` removed as this start began
    (its files vanished under the supervisor); None for any other failure."""
    if isinstance(error, FileNotFoundError) and not os.path.isdir(ContainerDir(container_id).path):
        return ContainerNotFound(f"No such container: {container_id}")
    return None


def _detach_stdio(keep: int) -> None:
    """stdin/stdout/stderr to /dev/null, every other inherited descriptor closed."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.closerange(3, keep)
    libc.close_range(keep + 1)


class Supervisor:
    """Runs one container until it ends for good (exit without restart, or ``stop``)."""

    def __init__(self, container_id: str, ready_fd: int, attach: bool = False, prepare: bool = False) -> None:
        self.cdir = ContainerDir(container_id)
        self.watch = ConfigWatch(self.cdir.config)
        self.config = self.watch.load()  # (shared with the watch until config.json changes)
        self.auto_remove = self.config.auto_remove  # run.cleanup must not remove: we do, at the very end
        self.ready_fd = ready_fd
        self.attach_first = attach  # the ready connection becomes the first attach client
        self.prepare = prepare  # the first launch holds before the exec until the caller's go
        self.restart_count = 0
        self.logs = open_log(self.config, self.cdir.path)
        self.run_: ForegroundRun | None = None
        self.prober: Prober | None = None
        hub = None
        if self.config.tty or self.config.stdin:
            from composer.engine.runtime.attach import AttachHub

            hub = AttachHub(self.cdir.path)
        self.hub = hub
        self.pump = OutputPump(self.logs, hub)

    # --- the main loop ----------------------------------------------------------------------
    def run(self) -> None:
        """Start, supervise, restart; clean up at the end. Never returns (exits the process)."""
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
        libc.keep_heap(READ_SIZE * 8, READ_SIZE * 32)
        signal.set_wakeup_fd(self.pump.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGUSR1, lambda *_: None)  # "look at the state again" (stop during back-off)
        backoff = RestartBackoff()
        try:
            self.cdir.write_state(SupervisorPid=os.getpid(), SupervisorStart=process_start_time(os.getpid()),
                                  SupervisorBoot=boot_id(), **({"Prepared": True} if self.prepare else {}))
            while True:
                began = time.monotonic()
                exit_code = self._run_once()
                delay = backoff.next(time.monotonic() - began)
                if not self._should_restart(exit_code) or not self._back_off(delay):
                    break
                self.restart_count += 1
        except Abandoned:  # a prepared start given up: the launcher left the container as it was
            os._exit(0)
        except BaseException as error:  # noqa: BLE001
            self._fail(error)
        finally:
            self._finish()
        os._exit(0)

    def _run_once(self) -> int:
        """One life of the container: launch, pump output and probes, record the exit."""
        try:
            with self._mount_held(launching=True):  # a copy into the stopped container waits, then finds it running
                self._launch()
        except ProgramExecFailed as failure:
            self._ready()
            with self._mount_held(launching=False):
                return self._program_failed(failure)
        self._ready()
        self._catch_up_limits()
        gc.collect()
        libc.malloc_trim()
        status = self.pump.run(self.run_, self.prober)
        code = os.waitstatus_to_exitcode(status)
        exit_code = 128 - code if code < 0 else code
        oom = self.run_.cgroup.oom_killed()
        with self._mount_held(launching=False):  # a copy that finds it exited mounts it once it is cleaned up
            # the exit is recorded first (stop returns at once); a new start waits for this
            # supervisor to be gone, so the cleanup below never races with the next life
            self.cdir.write_state(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0,
                                  ExitCode=exit_code, OOMKilled=oom, FinishedAt=now_iso(),
                                  **({"Health": self._health_state("unhealthy")} if self.prober else {}))
            self._end_attach_life(exit_code)
            self._end_life()
        return exit_code

    @contextmanager
    def _mount_held(self, launching: bool):
        """The container's mount lock, waited for at most ``lock_wait()`` seconds (a copy of the
        stopped container holds it for its whole length). Longer: a launch is refused (the
        container stays as it was, with the error); an exit is recorded and cleaned up all the
        same (a stop never hangs), the give-up noted in the container's ``supervisor.log``."""
        wait = lock_wait()
        lock = self.cdir.mount_lock(timeout=wait)
        try:
            lock.__enter__()
        except TimeoutError:
            if launching:
                raise ContainerRuntimeError(f"container {self.config.name} is busy: a copy has held its filesystem "
                                            f"for {wait:g} s", hint="start it again once the copy is done") from None
            self._note(f"the mount lock was held for {wait:g} s: the exit is recorded without it")
            lock = None
        try:
            yield
        finally:
            if lock is not None:
                lock.__exit__()

    def _note(self, message: str) -> None:
        """Append a line to ``supervisor.log`` in the container's directory (our stderr is
        /dev/null): what the supervisor gave up on, for whoever looks into it."""
        try:
            with open(self.cdir.file("supervisor.log"), "a") as log:
                log.write(f"{now_iso()} {message}\n")
        except OSError:
            pass

    def _end_attach_life(self, exit_code: int, message: bytes = b"") -> None:
        """Tell attached clients this life ended (after ``message`` on its stderr, if any)."""
        if self.hub is None:
            return
        if message:
            self.hub.new_life(-1, self.config.tty)
            self.hub.output(2, message)
        self.hub.end_life(exit_code)
        self.hub.disconnect()
        self.pump.sync_attach()

    def _end_life(self, reload_networks: bool = True) -> None:
        """Release what the life held (cgroup, network; never the container: we remove it)."""
        run = self.run_
        run.config.auto_remove = False
        if reload_networks:
            self._reload_networks()
        run.cleanup()  # (after a launcher that failed: it released what it held already)
        self.run_ = None

    def _ready(self) -> None:
        """Tell ``spawn``'s caller that the container runs (once); with attach, it becomes a client."""
        if self.ready_fd < 0:
            return
        report(self.ready_fd, READY.decode())
        if self.attach_first and self.hub is not None:
            self.hub.adopt(self.ready_fd)
            self.pump.sync_attach()
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
        self._end_attach_life(failure.exit_code, message)
        self._end_life(reload_networks=False)
        return failure.exit_code

    def _reload_networks(self) -> None:
        """``network connect``/``disconnect`` while this life ran changed config.json: the cleanup
        releases those endpoints too, and the next life (a restart) joins what is recorded now."""
        fresh = self.watch.current()
        if fresh is not None:
            self.config.network, self.config.endpoints = fresh.network, fresh.endpoints

    def _health_state(self, final: str) -> dict:
        state = self.prober.health.state()
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
                start_here(run, stdio)
            else:
                start_in_launcher(self.config, run, stdio, self.ready_fd if self.prepare else -1)
                self.prepare = False
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
        self._watch_streams([out, err], console, stdin_w)
        self._record_running(run)

    def _watch_streams(self, streams: list[Stream], console, stdin_w: int) -> None:
        """Have the pump poll the new life's outputs (with -t: the pty master ``console`` sends)."""
        if console is not None:
            streams.append(Stream("stdout", self._receive_master(console)))
        for stream in streams:
            self.pump.add(stream)
        if self.hub is not None:
            self.hub.new_life(streams[-1].read_fd if console is not None else stdin_w, console is not None)
            if stdin_w >= 0:
                os.set_blocking(stdin_w, False)

    def _record_running(self, run: ForegroundRun) -> None:
        """state.json: this life runs (its healthcheck starts from now)."""
        now = time.monotonic()
        if self.config.healthcheck and HealthMonitor(self.config.healthcheck, now).argv:
            health = HealthMonitor(self.config.healthcheck, now)
            if self.prober is None:
                self.prober = Prober(health, self.config.id, self.cdir, self.pump.poller)
            self.prober.health = health
        self.cdir.write_state(drop=("Prepared",),  # a prepared start held no more: it went
                              Status="running", Running=True, Restarting=False, Paused=False, Pid=run.pid,
                              PidStart=process_start_time(run.pid),
                              StartedAt=now_iso(), RestartCount=self.restart_count, ExitCode=0, Error="",
                              OOMKilled=False,
                              **({"Health": self.prober.health.state()} if self.prober else {}))

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

    # --- restarts and the end -----------------------------------------------------------------
    def _reload_limits(self) -> None:
        """``update`` may have changed the restart policy and the limits in config.json meanwhile:
        this exit's decision and the next life (its cgroup) follow them."""
        fresh = self.watch.current()
        if fresh is not None:
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
        if (policy.get("Name") or "no") == "no":
            return False
        return restart_wanted(policy, exit_code, self.restart_count, bool(self.cdir.read_state().get("ManuallyStopped")))

    def _back_off(self, delay: float) -> bool:
        """Wait ``delay`` as "restarting"; False if a ``stop`` came meanwhile."""
        self.cdir.write_state(Status="restarting", Restarting=True)
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            self.pump.wait(left, self.prober)
            if self.cdir.read_state().get("ManuallyStopped"):
                self.cdir.write_state(Status="exited", Restarting=False)
                return False
        self._reload_limits()  # an ``update`` during the wait
        return True

    def _fail(self, error: BaseException) -> None:
        error = _removed_meanwhile(self.cdir.id, error) or error
        message = error.message if isinstance(error, ComposerError) else str(error)
        code = getattr(error, "exit_code", 125)
        if self.ready_fd >= 0:
            report(self.ready_fd, f"{code} {report_text(error)}")  # (the hint too: the caller shows it)
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
            self.cdir.write_state(drop=("Prepared",), SupervisorPid=0)  # (a refused prepared start)
        except OSError:
            pass
        if remove_now:
            from composer.engine.runtime.containers import remove

            try:
                remove(self.config.id, force=True, volumes=True)
            except (ComposerError, OSError):
                pass
