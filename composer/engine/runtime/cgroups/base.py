"""The cgroup interface shared by the v1 and v2 backends."""

from __future__ import annotations

import errno
import os
import time

from composer.engine.runtime.config import Resources
from composer.errors import CgroupError


def write_file(path: str, value: str) -> None:
    """Write one cgroup control file, translating errors to CgroupError."""
    write_each(path, (value,))


def write_each(path: str, values: "tuple[str, ...] | list[str]") -> None:
    """Write each of ``values`` to one control file as a write of its own (the kernel parses one
    rule per write: devices.allow), through one open descriptor."""
    value = values[0] if values else ""  # (named in the error when the open fails)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)  # as open("w")
        try:
            for value in values:
                os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError as error:
        raise CgroupError(f"cannot write {value!r} to {path}: {error.strerror}",
                          hint="check the limit's value and that the controller is available") from error


def read_file(path: str) -> str:
    """Read one cgroup control file ("" if absent)."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def counts_oom_kill(events_path: str) -> bool:
    """Whether a cgroup's event counters (v1 memory.oom_control, v2 memory.events) count an
    ``oom_kill``."""
    for line in read_file(events_path).splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip() not in ("", "0"):
            return True
    return False


def remove_dir(path: str, attempts: int = 50) -> None:
    """rmdir a cgroup, retrying while its last processes are being reaped."""
    for _ in range(attempts):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise CgroupError(f"cannot remove cgroup {path}: {error.strerror}") from error
            time.sleep(0.01)
    raise CgroupError(f"cgroup {path} still has processes")


CFS_PERIOD = 100_000  # docker's period for --cpus (microseconds)
CPU_TIME = frozenset({"nano_cpus", "cpu_period", "cpu_quota"})


def cfs_limits(resources: Resources) -> tuple[int, int]:
    """(period, quota) in microseconds of ``--cpus`` or ``--cpu-period``/``--cpu-quota``; quota -1:
    none (``--cpus`` sets both, as docker's; the two ways never meet in one container)."""
    if resources.nano_cpus:
        return CFS_PERIOD, resources.nano_cpus * CFS_PERIOD // 10**9
    return resources.cpu_period or CFS_PERIOD, resources.cpu_quota or -1


class CgroupManager:
    """One container's cgroup(s): create, limit, join, inspect, remove."""

    def __init__(self, root: str, name: str) -> None:
        self.root = root
        self.name = name

    def create(self, resources: Resources, privileged: bool = False, device_rules: tuple[str, ...] = ()) -> None:
        """Make the cgroup and apply ``resources`` (undo with ``remove`` on failure); unless
        ``privileged``, only docker's default devices and ``device_rules`` (``c 1:3 rwm``) may be used."""
        raise NotImplementedError

    def update(self, resources: Resources, changed: frozenset[str]) -> None:
        """``docker update`` of a live cgroup: write the limits of ``resources`` (the container's
        whole new set) named in ``changed`` (Resources field names), in an order the kernel takes."""
        raise NotImplementedError

    def procs_files(self) -> list[str]:
        """The cgroup.procs files a process writes its pid into to join."""
        raise NotImplementedError

    def self_join_files(self) -> list[str]:
        """Files a single-threaded process writes "0" into to move itself in cheaply; [] when
        that is no cheaper than ``join`` from the parent (which then does it)."""
        return []

    def join(self, pid: int) -> None:
        """Move ``pid`` (0 = the caller) into the cgroup."""
        value = str(pid or os.getpid())
        for path in self.procs_files():
            write_file(path, value)

    def oom_killed(self) -> bool:
        """True if the kernel's OOM killer killed a process of this cgroup."""
        raise NotImplementedError

    def freeze(self, frozen: bool) -> None:
        """Freeze (pause) or thaw every process of the cgroup."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        """The processes in the cgroup (empty if it does not exist)."""
        return [int(p) for p in read_file(self.procs_files()[0]).split()] if self.procs_files() else []

    def stats(self) -> dict:
        """cpu (ns), memory (bytes), memory limit, pids and io (bytes) as read from the cgroup."""
        raise NotImplementedError

    def kill_all(self) -> None:
        """SIGKILL every process left in the cgroup (a ghost's leftovers)."""
        import signal

        from composer.engine.runtime.state import signal_process

        for pid in self.pids():
            signal_process(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Delete the cgroup (tolerates absence)."""
        raise NotImplementedError
