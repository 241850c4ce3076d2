"""One lock per project: two composer commands on the same project never interleave.

An ``flock`` on ``state_root()/projects/<name>.lock``: the kernel releases it when the holder
exits, also on SIGKILL, so a crashed command never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from composer.engine.runtime.state import StateLock
from composer.errors import PlanError
from composer.settings import state_root_dir

TYPE_CHECKING = False  # typing stays off the hot path
if TYPE_CHECKING:
    from typing import Iterator

_NAME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NAME_REST = _NAME_FIRST | {"_", "-"}


def lock_path(project: str) -> str:
    """``state_root()/projects/<project>.lock`` (project names are ``[a-z0-9][a-z0-9_-]*``)."""
    if not project or project[0] not in _NAME_FIRST or not _NAME_REST.issuperset(project):
        raise PlanError(f"invalid project name {project!r}",
                        hint="project names are lowercase letters, digits, '-' and '_'")
    return os.path.join(state_root_dir(), "projects", f"{project}.lock")


@contextmanager
def project_lock(project: str, *, timeout: float | None = None) -> Iterator[str]:
    """Hold the project's lock for the ``with`` block; wait for it (up to ``timeout`` seconds,
    forever when None) if another command holds it."""
    path = lock_path(project)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        lock = StateLock(path, timeout=timeout).__enter__()
    except TimeoutError:
        raise PlanError(f"project {project!r} is busy: another composer command holds its lock",
                        hint="wait for it to finish and retry") from None
    try:
        yield path
    finally:
        lock.__exit__()
