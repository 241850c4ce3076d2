"""``exec`` (and what runs through it: ``cp`` into a running container, a watch sync, hooks) into a
container whose PID 1 has just exited: its state still says running (a stop or restart under way),
and the error is the container not running, as docker says it, never a FileNotFoundError
traceback (a ``composer watch`` sync during a restart killed the watcher's thread with one)."""

from __future__ import annotations

import os
import time

import pytest

from composer.engine.runtime.execute import _namespace_fds
from composer.errors import ContainerStateError


def exited_child() -> int:
    """A child that has exited and is not reaped yet (as PID 1 is until its supervisor reaps it)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] == "Z":
                return pid
        time.sleep(0.01)
    pytest.fail("the child did not exit")


def test_namespaces_of_an_exited_pid1_say_the_container_is_not_running() -> None:
    pid = exited_child()
    try:
        before = sorted(os.listdir("/proc/self/fd"))
        with pytest.raises(ContainerStateError, match=r"^Container abc123 is not running$"):
            _namespace_fds("abc123", pid)
        assert sorted(os.listdir("/proc/self/fd")) == before  # nothing left open
    finally:
        os.waitpid(pid, 0)
