"""One lock per project: two composer commands on the same project never interleave.

An ``flock`` on ``state_root()/projects/<name>.lock``: the kernel releases it when the holder
exits, also on SIGKILL, so a crashed command never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from composer.errors import PlanError
from composer.settings import state_root


def lock_path(project: str) -> Path:
    """``state_root()/projects/<project>.lock`` (project names are ``[a-z0-9][a-z0-9_-]*``)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", project):
        raise PlanError(f"invalid project name {project!r}",
                        hint="project names are lowercase letters, digits, '-' and '_'")
    return state_root() / "projects" / f"{project}.lock"


@contextmanager
def project_lock(project: str, *, timeout: float | None = None, poll: float = 0.05) -> Iterator[Path]:
    """Hold the project's lock for the ``with`` block; wait for it (up to ``timeout`` seconds,
    forever when None) if another command holds it."""
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        _acquire(fd, project, timeout, poll)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, project: str, timeout: float | None, poll: float) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise PlanError(f"project {project!r} is busy: another composer command holds its lock",
                                hint="wait for it to finish and retry") from None
            time.sleep(poll)
