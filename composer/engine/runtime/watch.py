"""Waiting for a container's state to change without a busy loop: inotify on its directory.

Every state.json update is an atomic rename into the directory (IN_MOVED_TO); the log file grows
with writes (IN_MODIFY). ``wait_until`` re-checks its predicate on each event, and every
``recheck`` seconds anyway (a supervisor killed by SIGKILL writes nothing).
"""

from __future__ import annotations

import os
import select
import time
TYPE_CHECKING = False  # typing stays off the exec/stop paths
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")

from composer.engine.runtime import libc

RECHECK = 0.5


class DirWatch:
    """An inotify watch on one directory (a context manager)."""

    def __init__(self, path: str, mask: int = libc.IN_MOVED_TO | libc.IN_DELETE_SELF | libc.IN_MODIFY) -> None:
        self.fd = libc.inotify_init()
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)
        try:
            libc.inotify_add_watch(self.fd, path, mask)
        except OSError:
            os.close(self.fd)
            raise

    def wait(self, timeout: float) -> bool:
        """Block until an event or ``timeout`` seconds; True on an event (events are drained)."""
        if not self.poller.poll(max(0, int(timeout * 1000))):
            return False
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        os.close(self.fd)

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
