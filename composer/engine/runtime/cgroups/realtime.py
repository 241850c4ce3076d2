"""The real-time scheduler's bandwidth of a cgroup v1 ``cpu`` hierarchy (``--cpu-rt-period``,
``--cpu-rt-runtime``; CONFIG_RT_GROUP_SCHED). cgroup v2 has none: docker refuses the flags there.

The kernel admits a group's runtime only when its parent's share (runtime / period) covers the
sum of its children's. docker leaves the parents to its daemon's ``--cpu-rt-runtime``; composer
has no daemon, so it raises the budget of the parents it owns (its ``composer`` cgroup) to what
their children need, from the host's root budget (95 % by default), as the daemon flag would,
and lowers it again when a container's cgroup goes (``give_back``), so that removed containers
never keep the host's real-time budget.
"""

from __future__ import annotations

import errno
import os
import time
from contextlib import contextmanager

TYPE_CHECKING = False  # typing stays off a container's stop path
if TYPE_CHECKING:
    from typing import Iterator

from composer.engine.runtime.cgroups.base import read_file, write_file
from composer.errors import CgroupError

UNSUPPORTED = "kernel does not support CPU real-time scheduler"
PERIOD, RUNTIME = "cpu.rt_period_us", "cpu.rt_runtime_us"
SHIFT = 20  # the kernel's BW_SHIFT: shares compared as (runtime << 20) // period
RELEASE_WAIT = 2.0  # seconds a removed sibling's share may still count in its parent (see _write_runtime)


def supported(cpu_root: str) -> bool:
    """Whether the v1 ``cpu`` hierarchy mounted at ``cpu_root`` has real-time group scheduling."""
    return os.path.exists(os.path.join(cpu_root, RUNTIME))


def _read(directory: str, name: str) -> int:
    try:
        return int(read_file(os.path.join(directory, name)).strip())
    except ValueError:
        return 0


def _share(period: int, runtime: int) -> int:
    """The kernel's ``to_ratio``: the fixed-point share of ``runtime`` per ``period``."""
    return (runtime << SHIFT) // period if period > 0 and runtime > 0 else 0


def _runtime_for(share: int, period: int) -> int:
    """The least runtime per ``period`` whose share covers ``share`` (``_share`` rounded up)."""
    return -(-(share * period) >> SHIFT)


def _below(group: str, cpu_root: str) -> bool:
    """Whether ``group`` is a cgroup under ``cpu_root`` (not the root itself, whose budget is the
    kernel's global one)."""
    return group.startswith(cpu_root) and os.path.normpath(group) != os.path.normpath(cpu_root)


def _children_share(parent: str, skip: str) -> int:
    """The sum of the shares of ``parent``'s child groups but ``skip``."""
    total = 0
    with os.scandir(parent) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.path != skip:
                total += _share(_read(entry.path, PERIOD), _read(entry.path, RUNTIME))
    return total


def make_room(group: str, cpu_root: str, period: int, runtime: int) -> None:
    """Raise the runtime of ``group``'s ancestors below ``cpu_root`` until they admit ``group``
    with ``runtime`` per ``period``; CgroupError when the host's budget has no room left."""
    parent = os.path.dirname(group)
    if not _below(parent, cpu_root):
        return
    need = _children_share(parent, group) + _share(period, runtime)
    parent_period, parent_runtime = _read(parent, PERIOD), _read(parent, RUNTIME)
    if parent_runtime < 0 or _share(parent_period, parent_runtime) >= need:
        return
    wanted = _runtime_for(need, parent_period)
    make_room(parent, cpu_root, parent_period, wanted)
    try:
        write_file(os.path.join(parent, RUNTIME), str(wanted))
    except CgroupError as error:
        raise CgroupError(f"cannot give the cgroup {parent} the real-time runtime {wanted} its containers need: "
                          f"{error.__cause__.strerror if error.__cause__ else error.message}",
                          hint="lower --cpu-rt-runtime, or free real-time budget of the host's other cgroups "
                               "(cpu.rt_runtime_us)") from None


def _write_runtime(group: str, runtime: int) -> None:
    """Write ``group``'s runtime, retried a while on EINVAL: a sibling cgroup just removed (the
    previous life of a restarted container) leaves its parent's list of children only when the
    kernel releases it, after an RCU grace period, and until then its share still counts against
    the parent's budget, though its directory is gone and make_room cannot see it."""
    deadline = time.monotonic() + RELEASE_WAIT
    while True:
        try:
            write_file(os.path.join(group, RUNTIME), str(runtime))
            return
        except CgroupError as error:
            cause = error.__cause__
            if not isinstance(cause, OSError) or cause.errno != errno.EINVAL or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def apply(group: str, cpu_root: str, period: int, runtime: int) -> None:
    """Write ``period`` and ``runtime`` (0: leave as is) to ``group``, the period first unless the
    kernel needs the runtime lowered first (it keeps runtime <= period at each write)."""
    with _budget_locked(group, cpu_root):
        new_period, new_runtime = period or _read(group, PERIOD), runtime or _read(group, RUNTIME)
        if new_runtime > 0:
            make_room(group, cpu_root, new_period, new_runtime)
        _write_limits(group, period, runtime)


def _write_limits(group: str, period: int, runtime: int) -> None:
    """``apply``'s writes, once the parents have room."""
    pending = ""
    if period:
        try:
            write_file(os.path.join(group, PERIOD), str(period))
        except CgroupError:
            if not runtime:
                raise
            pending = str(period)  # below the current runtime: after the runtime's write
    if runtime:
        _write_runtime(group, runtime)
    if pending:
        write_file(os.path.join(group, PERIOD), pending)


def give_back(group: str, cpu_root: str) -> None:
    """After ``group`` was removed: lower the runtime of its ancestors below ``cpu_root`` (the
    ones ``make_room`` raises: composer's own) to what their remaining children need, never
    below it, bottom-up (the kernel checks each parent against its children). A parent without
    a limit (-1) or already at what its children need stays as it is. Best effort: a removal
    never fails over the budget."""
    with _budget_locked(group, cpu_root):
        removed, parent = group, os.path.dirname(group)
        while _below(parent, cpu_root):
            period, runtime = _read(parent, PERIOD), _read(parent, RUNTIME)
            need = _children_share(parent, removed)  # (``group`` is gone, or going)
            if runtime <= 0 or _share(period, runtime) <= need:
                return
            try:
                _write_runtime(parent, _runtime_for(need, period))  # (the removed one may count a moment more)
            except CgroupError:
                return
            removed, parent = "", os.path.dirname(parent)


@contextmanager
def _budget_locked(group: str, cpu_root: str) -> "Iterator[None]":
    """An exclusive flock on the topmost ancestor of ``group`` below ``cpu_root`` (composer's
    own cgroup), held while its budget is read and written: a removal giving budget back never
    lowers it between another container's ``make_room`` and that container's own write."""
    import fcntl

    top = os.path.join(cpu_root, os.path.relpath(group, cpu_root).split(os.sep)[0])
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield  # (gone: nothing to guard)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (releases the flock)
