"""Waiting for a container's state to change without a busy loop: inotify on its directory.

Every state.json update is an atomic rename into the directory (IN_MOVED_TO); the log file grows
with writes (IN_MODIFY). ``wait_until`` re-checks its predicate on each event, and every
``recheck`` seconds anyway (a supervisor killed by SIGKILL writes nothing).
"""

from __future__ import annotations

import _thread
import os
import select
import time
TYPE_CHECKING = False  # typing stays off the exec/stop paths
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")

RECHECK = 0.5
_SHARED = {"fd": -1}  # the process's reusable inotify descriptor
_SHARED_LOCK = _thread.allocate_lock()


def _forget_shared() -> None:
    """In a forked child: the parent's descriptor is not ours to use (the child may close it)."""
    global _SHARED_LOCK
    _SHARED["fd"] = -1
    _SHARED_LOCK = _thread.allocate_lock()


os.register_at_fork(after_in_child=_forget_shared)


def drain(fd: int) -> None:
    """Read a non-blocking descriptor (inotify, a wake-up pipe) until nothing is left."""
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass


class DirWatch:
    """An inotify watch on one directory (a context manager).

    The first watch of a process at a time uses one inotify descriptor kept open for the life of
    the process: closing an inotify descriptor waits for an RCU grace period (5-20 ms here, a
    quarter of a ``stop``); removing a watch does not. Nested or concurrent watches get their own.
    """

    def __init__(self, path: str, mask: int = 0) -> None:
        """``mask``: inotify's event bits (0: a state.json rename, the log's growth, the
        directory's removal)."""
        from composer.engine.runtime import libc  # (ctypes: only where a command waits)

        mask = mask or libc.IN_MOVED_TO | libc.IN_DELETE_SELF | libc.IN_MODIFY
        self.shared = _SHARED_LOCK.acquire(False)
        if self.shared:
            if _SHARED["fd"] < 0:
                _SHARED["fd"] = libc.inotify_init()
            self.fd = _SHARED["fd"]
            drain(self.fd)  # events of earlier watches
        else:
            self.fd = libc.inotify_init()
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)
        try:
            self.wd = libc.inotify_add_watch(self.fd, path, mask)
        except OSError:
            self._release()
            raise

    def wait(self, timeout: float) -> bool:
        """Block until an event or ``timeout`` seconds; True on an event (events are drained)."""
        if not self.poller.poll(max(0, int(timeout * 1000))):
            return False
        drain(self.fd)
        return True

    def close(self) -> None:
        if self.fd >= 0:
            from composer.engine.runtime import libc

            libc.inotify_rm_watch(self.fd, self.wd)
            self._release()

    def _release(self) -> None:
        if self.shared:
            _SHARED_LOCK.release()
        else:
            os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "DirWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(directory: str, check: Callable[[], T], timeout: float | None = None,
               recheck: float = RECHECK) -> T | None:
    """Return ``check()``'s first truthy result, or None after ``timeout`` (None: forever)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        watch = DirWatch(directory)
    except FileNotFoundError:
        return check() or None
    with watch:
        while True:
            result = check()
            if result:
                return result
            left = recheck if deadline is None else min(recheck, deadline - time.monotonic())
            if left <= 0:
                return None
            watch.wait(left)
