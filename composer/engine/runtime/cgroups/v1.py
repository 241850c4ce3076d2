"""cgroup v1 (legacy and hybrid hosts): one directory per controller hierarchy."""

from __future__ import annotations

import errno
import os

from composer.engine.runtime.cgroups.base import (CPU_TIME, CgroupManager, cfs_limits, counts_oom_kill, read_file,
                                                  remove_dir, write_each, write_file)
from composer.engine.runtime.config import Resources
from composer.errors import CgroupError

CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices")
# docker's default device rules: nothing but mknod, plus the standard character devices
DEFAULT_DEVICE_RULES = ("c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm")


class CgroupV1(CgroupManager):
    """``<root>/<controller>/<name>`` for each mounted controller."""

    def controllers(self) -> list[str]:
        """The controllers mounted under the root."""
        return [c for c in CONTROLLERS if os.path.isdir(os.path.join(self.root, c))]

    def path(self, controller: str) -> str:
        """This cgroup's directory in ``controller``'s hierarchy."""
        return os.path.join(self.root, controller, self.name)

    def create(self, resources: Resources, privileged: bool = False, device_rules: tuple[str, ...] = ()) -> None:
        """mkdir in every hierarchy, then the limits (cpuset needs cpus/mems before joining)."""
        for controller in self.controllers():
            self._mkdir(controller)
        if not privileged:
            self._restrict_devices(device_rules)
        self._apply_memory(resources)
        self._apply_cpu(resources)
        pids = self.path("pids")
        if resources.pids_limit > 0 and os.path.isdir(pids):
            write_file(os.path.join(pids, "pids.max"), str(resources.pids_limit))
        if resources.blkio_weight:
            self._apply_io_weight(resources.blkio_weight)
        if resources.blkio_throttle:
            from composer.engine.runtime.blkiothrottle import v1_writes

            for name, line in v1_writes(resources.blkio_throttle):
                write_file(os.path.join(self.path("blkio"), name), line)

    def _apply_io_weight(self, weight: int) -> None:
        """CFQ's blkio.weight, else BFQ's blkio.bfq.weight (same 10-1000 scale), as runc; neither:
        the weight is discarded (``discard_unsupported`` warned at create)."""
        for name in ("blkio.weight", "blkio.bfq.weight"):
            path = os.path.join(self.path("blkio"), name)
            if os.path.exists(path):
                write_file(path, str(weight))
                return

    def _restrict_devices(self, extra_rules: tuple[str, ...]) -> None:
        """Deny every device, then allow docker's defaults and ``extra_rules`` (no host disks)."""
        devices = self.path("devices")
        if not os.path.isdir(devices):
            return
        write_file(os.path.join(devices, "devices.deny"), "a")
        write_each(os.path.join(devices, "devices.allow"), (*DEFAULT_DEVICE_RULES, *extra_rules))

    def _mkdir(self, controller: str) -> None:
        """Create the cgroup and its parents; cpuset parents inherit cpus/mems."""
        base = os.path.join(self.root, controller)
        current = base
        for part in self.name.split("/"):
            parent, current = current, os.path.join(current, part)
            try:
                os.mkdir(current)  # top-down, so the parent exists (makedirs would stat the chain)
            except FileExistsError:
                pass
            if controller == "cpuset":
                for key in ("cpuset.cpus", "cpuset.mems"):
                    if not read_file(os.path.join(current, key)).strip():
                        write_file(os.path.join(current, key), read_file(os.path.join(parent, key)).strip() or "0")

    def _apply_memory(self, r: Resources) -> None:
        memory = self.path("memory")
        if r.memory:
            write_file(os.path.join(memory, "memory.limit_in_bytes"), str(r.memory))
            memsw = os.path.join(memory, "memory.memsw.limit_in_bytes")
            if r.memory_swap and os.path.exists(memsw):
                write_file(memsw, str(r.memory_swap))
        if r.memory_reservation:
            write_file(os.path.join(memory, "memory.soft_limit_in_bytes"), str(r.memory_reservation))
        if r.memory_swappiness >= 0:
            write_file(os.path.join(memory, "memory.swappiness"), str(r.memory_swappiness))
        if r.oom_kill_disable:
            write_file(os.path.join(memory, "memory.oom_control"), "1")

    def _apply_cpu(self, r: Resources) -> None:
        if r.nano_cpus or r.cpu_period or r.cpu_quota:
            self._write_cfs(r)
        if r.cpu_shares:
            self._write_shares(r.cpu_shares)
        if r.cpu_rt_period or r.cpu_rt_runtime:
            self._write_realtime(r.cpu_rt_period, r.cpu_rt_runtime)
        if r.cpuset_cpus:
            write_file(os.path.join(self.path("cpuset"), "cpuset.cpus"), r.cpuset_cpus)
        if r.cpuset_mems:
            write_file(os.path.join(self.path("cpuset"), "cpuset.mems"), r.cpuset_mems)

    def _write_cfs(self, r: Resources) -> None:
        """The CFS period, then the quota (-1: none)."""
        period, quota = cfs_limits(r)
        write_file(os.path.join(self.path("cpu"), "cpu.cfs_period_us"), str(period))
        write_file(os.path.join(self.path("cpu"), "cpu.cfs_quota_us"), str(quota))

    def _write_realtime(self, period: int, runtime: int) -> None:
        """cpu.rt_period_us and cpu.rt_runtime_us (0: unchanged), refused without RT_GROUP_SCHED."""
        from composer.engine.runtime.cgroups import realtime

        cpu_root = os.path.join(self.root, "cpu")
        if not realtime.supported(cpu_root):
            raise CgroupError(realtime.UNSUPPORTED, hint="drop --cpu-rt-period/--cpu-rt-runtime on this host")
        realtime.apply(self.path("cpu"), cpu_root, period, runtime)

    def _write_shares(self, shares: int) -> None:
        """cpu.shares; the kernel clamps a value out of 2..262144, which is refused (runc's check)."""
        path = os.path.join(self.path("cpu"), "cpu.shares")
        write_file(path, str(shares))
        applied = _int(read_file(path))
        if applied and applied != shares:
            bound = "minimum" if shares < applied else "maximum"
            raise CgroupError(f"the {bound} allowed cpu-shares is {applied}")

    def update(self, resources: Resources, changed: frozenset[str]) -> None:
        """(An unset limit, 0, writes the kernel's default: none, 1024 shares, the parent's cpuset.)"""
        r = resources
        if changed & {"memory", "memory_swap"}:
            self._update_memory(r, changed)
        if "memory_reservation" in changed:
            write_file(os.path.join(self.path("memory"), "memory.soft_limit_in_bytes"), str(r.memory_reservation or -1))
        if changed & CPU_TIME:
            self._write_cfs(r)
        if "cpu_shares" in changed:
            self._write_shares(r.cpu_shares or 1024)
        if changed & {"cpu_rt_period", "cpu_rt_runtime"}:
            self._write_realtime(r.cpu_rt_period if "cpu_rt_period" in changed else 0,
                                 r.cpu_rt_runtime if "cpu_rt_runtime" in changed else 0)
        for name in ("cpuset_cpus", "cpuset_mems"):
            if name in changed:
                key = name.replace("_", ".")
                value = getattr(r, name) or read_file(os.path.join(os.path.dirname(self.path("cpuset")), key)).strip()
                write_file(os.path.join(self.path("cpuset"), key), value)
        if "pids_limit" in changed:
            write_file(os.path.join(self.path("pids"), "pids.max"), str(r.pids_limit) if r.pids_limit > 0 else "max")
        if "blkio_weight" in changed and r.blkio_weight:
            self._apply_io_weight(r.blkio_weight)

    def _update_memory(self, r: Resources, changed: frozenset[str]) -> None:
        """memory.limit_in_bytes and memory.memsw.limit_in_bytes: the kernel keeps the limit at
        most memory+swap after each write, so when memory+swap grows it goes first."""
        memory = self.path("memory")
        limit = os.path.join(memory, "memory.limit_in_bytes")
        memsw = os.path.join(memory, "memory.memsw.limit_in_bytes")
        writes = [(limit, r.memory if r.memory > 0 else -1)] if "memory" in changed else []
        if "memory_swap" in changed and os.path.exists(memsw):
            writes.append((memsw, r.memory_swap or -1))
            if r.memory_swap in (0, -1) or r.memory_swap > _int(read_file(limit)):
                writes.reverse()
        for path, value in writes:
            try:
                write_file(path, str(value))
            except CgroupError as error:
                if path != limit or getattr(error.__cause__, "errno", 0) != errno.EBUSY:
                    raise
                usage = _int(read_file(os.path.join(memory, "memory.usage_in_bytes")))
                peak = _int(read_file(os.path.join(memory, "memory.max_usage_in_bytes")))
                raise CgroupError(f"unable to set memory limit to {value} (current usage: {usage}, peak usage: {peak})",
                                  hint="free memory in the container or give a higher limit") from None

    def procs_files(self) -> list[str]:
        return [os.path.join(self.path(c), "cgroup.procs") for c in self.controllers()]

    def self_join_files(self) -> list[str]:
        """The ``tasks`` files: a thread moving itself ("0") skips the global threadgroup lock, whose
        write side waits for an RCU grace period (10-15 ms) on every ``cgroup.procs`` write."""
        return [os.path.join(self.path(c), "tasks") for c in self.controllers()]

    def oom_killed(self) -> bool:
        return counts_oom_kill(os.path.join(self.path("memory"), "memory.oom_control"))

    def freeze(self, frozen: bool) -> None:
        path = os.path.join(self.path("freezer"), "freezer.state")
        write_file(path, "FROZEN" if frozen else "THAWED")
        while frozen and read_file(path).strip() == "FREEZING":
            import time

            time.sleep(0.001)

    def stats(self) -> dict:
        memory, cpu = self.path("memory"), self.path("cpuacct")
        io = self._block_io()
        inactive = [line.split()[1] for line in read_file(os.path.join(memory, "memory.stat")).splitlines()
                    if line.startswith("total_inactive_file ")]
        return {"cpu_ns": _int(read_file(os.path.join(cpu, "cpuacct.usage"))),
                "memory": _int(read_file(os.path.join(memory, "memory.usage_in_bytes"))),
                "memory_limit": _int(read_file(os.path.join(memory, "memory.limit_in_bytes"))),
                "pids": _int(read_file(os.path.join(self.path("pids"), "pids.current"))),
                "io": io["Read"] + io["Write"], "io_read": io["Read"], "io_write": io["Write"],
                "inactive_file": _int(inactive[0] if inactive else "")}

    def _block_io(self) -> dict[str, int]:
        """Bytes read and written: CFQ's, BFQ's or the throttling layer's counters, the first
        that has any device (as runc; on a blk-mq device without limits none count)."""
        io = {"Read": 0, "Write": 0}
        for name in BLKIO_STATS:
            lines = [line.split() for line in read_file(os.path.join(self.path("blkio"), name)).splitlines()]
            for parts in lines:
                if len(parts) == 3 and parts[1] in io:
                    io[parts[1]] += int(parts[2])
            if any(len(parts) == 3 for parts in lines):
                break
        return io

    def remove(self) -> None:
        """rmdir in every hierarchy; a real-time runtime's budget goes back to composer's parent
        cgroup (``realtime.give_back``)."""
        cpu = self.path("cpu")
        gives_back = _int(read_file(os.path.join(cpu, "cpu.rt_runtime_us"))) > 0
        for controller in self.controllers():
            remove_dir(self.path(controller))
        if gives_back:
            from composer.engine.runtime.cgroups import realtime

            realtime.give_back(cpu, os.path.join(self.root, "cpu"))


BLKIO_STATS = ("blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive",
               "blkio.throttle.io_service_bytes_recursive")


def _int(text: str) -> int:
    try:
        return int(text.strip() or 0)
    except ValueError:
        return 0
