"""cgroup v2 (unified hierarchy): one directory, controllers enabled in the parent."""

from __future__ import annotations

import os

from composer.engine.runtime.cgroups.base import (CPU_TIME, CgroupManager, cfs_limits, counts_oom_kill, read_file,
                                                  remove_dir, write_file)
from composer.engine.runtime.config import Resources
from composer.errors import CgroupError

WANTED = ("cpu", "cpuset", "io", "memory", "pids")


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) to cpu.weight (1..10000), as runc converts."""
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) to io.weight (1..10000)."""
    return 1 + ((weight - 10) * 9999) // 990


def _refuse_realtime(wanted: object) -> None:
    """v2 has no real-time controller: ``--cpu-rt-period``/``--cpu-rt-runtime`` refused in
    docker's words (never silently dropped)."""
    if wanted:
        from composer.engine.runtime.cgroups.realtime import UNSUPPORTED

        raise CgroupError(UNSUPPORTED, hint="drop cpu_rt_runtime/cpu_rt_period (--cpu-rt-*): cgroup v2 has no "
                                            "real-time scheduler group")


class CgroupV2(CgroupManager):
    """``<root>/<name>``."""

    @property
    def path(self) -> str:
        """This cgroup's directory."""
        return os.path.join(self.root, self.name)

    def create(self, resources: Resources, privileged: bool = False, device_rules: tuple[str, ...] = ()) -> None:
        _refuse_realtime(resources.cpu_rt_period or resources.cpu_rt_runtime)
        self._enable_controllers()
        os.makedirs(self.path, exist_ok=True)
        self._apply(resources)
        if not privileged:  # v2 has no devices.allow: an eBPF program decides
            from composer.engine.runtime.cgroups.devices import attach_device_filter
            from composer.engine.runtime.cgroups.v1 import DEFAULT_DEVICE_RULES

            attach_device_filter(self.path, (*DEFAULT_DEVICE_RULES, *device_rules))

    def _enable_controllers(self) -> None:
        """Enable the wanted controllers in every ancestor's cgroup.subtree_control."""
        current = self.root
        for part in self.name.split("/"):
            available = read_file(os.path.join(current, "cgroup.controllers")).split()
            enable = " ".join(f"+{c}" for c in WANTED if c in available)
            if enable:
                write_file(os.path.join(current, "cgroup.subtree_control"), enable)
            current = os.path.join(current, part)
            os.makedirs(current, exist_ok=True)

    def _apply(self, r: Resources) -> None:
        for name, value in self._writes(r, None):
            write_file(os.path.join(self.path, name), value)
        if r.blkio_throttle:
            from composer.engine.runtime.blkiothrottle import v2_writes

            for name, value in v2_writes(r.blkio_throttle, self.path):
                write_file(os.path.join(self.path, name), value)

    def update(self, resources: Resources, changed: frozenset[str]) -> None:
        _refuse_realtime(changed & {"cpu_rt_period", "cpu_rt_runtime"})
        for name, value in self._writes(resources, changed):
            write_file(os.path.join(self.path, name), value)

    def _writes(self, r: Resources, changed: frozenset[str] | None) -> list[tuple[str, str]]:
        """(file, value) of the limits named in ``changed``; None: every limit ``r`` sets (create)."""
        def wanted(*names: str) -> bool:
            return any(getattr(r, n) for n in names) if changed is None else bool(changed & set(names))

        writes: list[tuple[str, str]] = []
        if wanted("memory"):
            writes.append(("memory.max", str(r.memory) if r.memory > 0 else "max"))
        if r.memory and wanted("memory", "memory_swap"):
            swap = "max" if r.memory_swap == -1 else str(max(r.memory_swap - r.memory, 0)) if r.memory_swap else ""
            if swap and os.path.exists(os.path.join(self.path, "memory.swap.max")):  # swap accounting may be off
                writes.append(("memory.swap.max", swap))
        if wanted("memory_reservation"):
            writes.append(("memory.low", str(r.memory_reservation)))
        if wanted(*CPU_TIME):
            period, quota = cfs_limits(r)
            writes.append(("cpu.max", f"{quota if quota > 0 else 'max'} {period}"))
        if wanted("cpu_shares"):
            writes.append(("cpu.weight", str(shares_to_weight(r.cpu_shares) if r.cpu_shares else 100)))
        writes += [(name.replace("_", "."), getattr(r, name)) for name in ("cpuset_cpus", "cpuset_mems") if wanted(name)]
        if (r.pids_limit > 0 and changed is None) or (changed and "pids_limit" in changed):
            writes.append(("pids.max", str(r.pids_limit) if r.pids_limit > 0 else "max"))
        if wanted("blkio_weight") and r.blkio_weight:  # BFQ's own file takes the blkio scale (runc's choice too)
            if os.path.exists(os.path.join(self.path, "io.bfq.weight")):
                writes.append(("io.bfq.weight", str(r.blkio_weight)))
            else:
                writes.append(("io.weight", f"default {blkio_to_io_weight(r.blkio_weight)}"))
        return writes

    def procs_files(self) -> list[str]:
        return [os.path.join(self.path, "cgroup.procs")]

    def oom_killed(self) -> bool:
        return counts_oom_kill(os.path.join(self.path, "memory.events"))

    def freeze(self, frozen: bool) -> None:
        write_file(os.path.join(self.path, "cgroup.freeze"), "1" if frozen else "0")

    def stats(self) -> dict:
        def value(name: str) -> int:
            text = read_file(os.path.join(self.path, name)).strip()
            return int(text) if text.isdigit() else 0

        cpu = read_file(os.path.join(self.path, "cpu.stat")).split()
        usage = int(cpu[cpu.index("usage_usec") + 1]) * 1000 if "usage_usec" in cpu else 0
        io = {"rbytes": 0, "wbytes": 0}
        for line in read_file(os.path.join(self.path, "io.stat")).splitlines():
            for key, _, count in (field.partition("=") for field in line.split()[1:]):
                if key in io:
                    io[key] += int(count)
        memory_stat = dict(line.split() for line in read_file(os.path.join(self.path, "memory.stat")).splitlines()
                           if len(line.split()) == 2)
        return {"cpu_ns": usage, "memory": value("memory.current"), "memory_limit": value("memory.max"),
                "pids": value("pids.current"), "io": io["rbytes"] + io["wbytes"], "io_read": io["rbytes"],
                "io_write": io["wbytes"], "inactive_file": int(memory_stat.get("inactive_file", 0))}

    def remove(self) -> None:
        remove_dir(self.path)
