"""``logs -f``: follow a project, not container ids (docker/compose#8925).

One thread per container prints its log; a :class:`composer.engine.monitor.ProjectMonitor`
notices containers that start later (a recreated service's new container, one started by ``up``,
``start`` or ``restart``) and follows them from their start. A container's last printed
timestamp is kept, so a container followed again never repeats a line. Following ends when no
container of the selection runs and no composer command holds the project's lock (so the gap of
a ``restart`` or of an ``up`` recreating a service does not end it), or on Ctrl-C.
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Any

from composer.cli import compose as C
from composer.errors import ComposerError

LIVE = ("running", "paused", "restarting")


def project_busy(project: str) -> bool:
    """Whether a composer command holds the project's lock right now."""
    from composer.engine.lock import lock_path

    try:
        fd = os.open(lock_path(project), os.O_RDONLY | os.O_CLOEXEC)  # read-only: closing it wakes no watcher
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class ProjectFollower:
    """The follow threads of one ``logs -f`` and what each container printed last."""

    def __init__(self, printer: C.LogPrinter, options: dict) -> None:
        self.printer = printer
        self.options = options
        self.read_logs = C.runtime_feature("read_logs")
        self.lock = threading.Lock()
        self.threads: dict[str, threading.Thread] = {}
        self.last: dict[str, tuple[str, int]] = {}  # container -> (newest time printed, lines printed with it)

    def follow(self, container_id: str, name: str, **options: Any) -> None:
        """Follow a container unless a thread already does."""
        with self.lock:
            thread = self.threads.get(container_id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(container_id, name, {**self.options, **options}),
                                      daemon=True)
            self.threads[container_id] = thread
        thread.start()

    def _run(self, container_id: str, name: str, options: dict) -> None:
        announce = options.pop("announce_exit", False)
        newest, printed = self.last.get(container_id, ("", 0))
        again = printed  # lines of that time an earlier stream of this container printed: skipped here
        try:
            for line in self.read_logs(container_id, follow=True, **options):
                if line.time and (line.time < newest or line.time == newest and again):
                    again -= line.time == newest
                    continue  # printed by an earlier stream (lines read in one chunk share their time)
                self.printer.write(name, line)
                if line.time:
                    printed = printed + 1 if line.time == newest else 1
                    newest = line.time
                    self.last[container_id] = (newest, printed)
            if announce:  # each run of a restarting container ends with its own line, as attached up shows
                state = C.make_runtime().inspect_container(container_id).get("State", {})
                self.printer.exited(name, state.get("ExitCode", 0))
        except ComposerError:
            pass  # removed while followed: its log simply ends

    def join(self) -> None:
        for thread in list(self.threads.values()):
            while thread.is_alive():
                thread.join(0.2)  # short joins keep Ctrl-C responsive


def follow_project(project: str, services: tuple[str, ...], containers: list[Any], printer: C.LogPrinter,
                   options: dict) -> None:
    """Print the logs of ``containers`` and of every container of ``services`` that starts later,
    until the selection has stopped and no command is changing the project."""
    from composer.engine.monitor import ProjectMonitor

    follower = ProjectFollower(printer, options)
    with ProjectMonitor(project, services) as monitor:
        for container in containers:
            follower.follow(container.id, C.short_name(container))
        while _active(monitor.views.values(), project):
            for change in monitor.wait_changes(1.0):  # 1 s: a supervisor between exit and restart is seen
                if change.action == "start":
                    follower.follow(change.view.id, C.short_name(change.view),
                                    since=C.parse_time(change.view.started_at), tail=None)
    follower.join()


def _active(views: Any, project: str) -> bool:
    """Something may still print: a live container, a supervisor deciding on a restart, a command."""
    from composer.engine.runtime.state import process_start_time

    return any(v.status in LIVE or (v.supervisor and process_start_time(v.supervisor)) for v in views) \
        or project_busy(project)


class RuntimeProxy:
    """An engine's runtime with some calls observed on their way (everything else passes)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)


class HookOutput(RuntimeProxy):
    """An engine runtime whose ``exec_container`` (the ``post_start``/``pre_stop`` hooks) also
    keeps each hook's output, which an attached ``up`` prints as Compose does: as log lines of
    ``web-1 ->`` (docker/compose's hook.go sends them to the service's log consumer)."""

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime)
        self.outputs: list[tuple[str, str]] = []  # (container id, output)
        self.lock = threading.Lock()

    def exec_container(self, container_id: str, hook: Any) -> tuple[int, str]:
        code, output = self.runtime.exec_container(container_id, hook)
        with self.lock:
            self.outputs.append((container_id, output))
        return code, output

    def flush(self, project: str, printer: C.LogPrinter) -> None:
        """Print the hook output kept so far, each line prefixed ``<service>-<n> ->``."""
        from types import SimpleNamespace

        with self.lock:
            outputs, self.outputs = self.outputs, []
        if not outputs:
            return
        names = {c.id: C.short_name(c) for c in C.containers_of(project)}
        for container_id, output in outputs:
            source = names.get(container_id, container_id[:12]) + " ->"
            for line in output.splitlines():
                printer.write(source, SimpleNamespace(text=line, time=None, stream="stdout"))


def with_hook_output(engine: Any) -> HookOutput:
    """Give ``engine`` (a ProjectService) a runtime that keeps its hooks' output; that runtime."""
    relay = engine.runtime if isinstance(engine.runtime, HookOutput) else HookOutput(engine.runtime)
    engine.runtime = relay
    return relay
