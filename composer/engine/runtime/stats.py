"""Resource usage of containers as ``docker stats`` reports it: one place for the sampling.

A ``Sample`` is read from the container's cgroup (CPU time, memory, pids, block I/O), its network
namespace (``/proc/<pid>/net/dev`` of its PID 1, ``lo`` excluded) and the host (``/proc/stat``'s
total CPU time, as the daemon's ``SystemUsage``). ``entry`` turns two samples into docker's
formatted row: CPU % is the container's share of the host's CPU time between them times the online
CPUs; memory usage leaves out the inactive page cache (``total_inactive_file``), as the docker CLI.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from composer.units import bytes_size, human_size

@dataclass
class Sample:
    """One reading of a container's counters (bytes, nanoseconds)."""

    cpu_ns: int = 0
    system_ns: int = 0
    memory: int = 0
    memory_limit: int = 0
    pids: int = 0
    block_read: int = 0
    block_write: int = 0
    net_rx: int = 0
    net_tx: int = 0


def system_cpu_ns(stat_path: str = "/proc/stat") -> int:
    """The host's total CPU time in ns (the ``cpu`` line's user..softirq jiffies), as dockerd's."""
    with open(stat_path) as handle:
        for line in handle:
            fields = line.split()
            if fields and fields[0] == "cpu":
                return sum(int(value) for value in fields[1:8]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    return 0


def net_io(pid: int) -> tuple[int, int]:
    """Bytes received and sent on the interfaces of ``pid``'s network namespace, ``lo`` left out;
    (0, 0) when the process shares the host's namespace (``--network host``) or is gone."""
    try:
        if os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            return 0, 0
        with open(f"/proc/{pid}/net/dev") as handle:
            lines = handle.readlines()[2:]
    except OSError:
        return 0, 0
    received = sent = 0
    for line in lines:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() != "lo" and len(fields) >= 9:
            received, sent = received + int(fields[0]), sent + int(fields[8])
    return received, sent


def host_memory() -> int:
    """The host's physical memory in bytes (the limit of an unlimited container)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def sample(container_id: str, pid: int) -> Sample:
    """Read the counters of a container whose PID 1 is ``pid`` (0: not running, only zeros)."""
    if not pid:
        return Sample()
    from composer.engine.runtime.cgroups import manager_for

    counters = manager_for(container_id).stats()
    usage = counters["memory"]
    inactive = counters.get("inactive_file", 0)
    limit = counters["memory_limit"]
    received, sent = net_io(pid)
    return Sample(cpu_ns=counters["cpu_ns"], system_ns=system_cpu_ns(),
                  memory=usage - inactive if inactive < usage else usage,
                  memory_limit=limit if 0 < limit < host_memory() else host_memory(),
                  pids=counters["pids"], block_read=counters.get("io_read", 0),
                  block_write=counters.get("io_write", 0), net_rx=received, net_tx=sent)


def cpu_percent(before: Sample, after: Sample, online_cpus: int | None = None) -> float:
    """docker's CPU %: the container's CPU time over the host's, times the online CPUs."""
    cpu_delta, system_delta = after.cpu_ns - before.cpu_ns, after.system_ns - before.system_ns
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    cpus = online_cpus or os.sysconf("SC_NPROCESSORS_ONLN")
    return cpu_delta / system_delta * cpus * 100.0


def entry(container_id: str, name: str, before: Sample, after: Sample, *, shown_as: str = "",
          truncate: bool = True) -> dict:
    """docker's stats entry (its ``--format`` fields), values formatted as the docker CLI does."""
    memory_percent = after.memory / after.memory_limit * 100.0 if after.memory_limit else 0.0
    return {"BlockIO": f"{human_size(after.block_read)} / {human_size(after.block_write)}",
            "CPUPerc": f"{cpu_percent(before, after):.2f}%",
            "Container": shown_as or container_id[:12],  # docker's: short, --no-trunc or not
            "ID": container_id[:12] if truncate else container_id,
            "MemPerc": f"{memory_percent:.2f}%",
            "MemUsage": f"{bytes_size(after.memory)} / {bytes_size(after.memory_limit)}",
            "Name": name.lstrip("/"), "NetIO": f"{human_size(after.net_rx)} / {human_size(after.net_tx)}",
            "PIDs": str(after.pids)}


@dataclass
class Target:
    """A container to watch: its id, name, PID 1 (0 when not running) and how the user named it."""

    id: str
    name: str
    pid: int = 0
    shown_as: str = ""


def target_of(info, shown_as: str = "") -> Target:
    """The Target of a ``ContainerInfo``: its PID 1 counts while it is running or paused."""
    return Target(info.id, info.name, info.pid if info.state in ("running", "paused") else 0, shown_as)


def stream(targets: Callable[[], list["Target"]], interval: float = 1.0, truncate: bool = True) -> Iterator[list[dict]]:
    """Rows of every container ``targets()`` returns, once per ``interval`` (the first after one
    interval, so that CPU % has a span to measure, at once when none runs); containers are looked
    up again each time."""
    current = targets()
    previous = {t.id: _safe_sample(t) for t in current}
    wait = interval if any(t.pid for t in current) else 0.0
    while True:
        time.sleep(wait)
        wait = interval
        rows, now = [], {}
        for target in current:
            now[target.id] = _safe_sample(target)
            before = previous.get(target.id, now[target.id])
            rows.append(entry(target.id, target.name, before, now[target.id], shown_as=target.shown_as,
                              truncate=truncate))
        yield rows
        previous, current = now, targets()
        previous.update({t.id: _safe_sample(t) for t in current if t.id not in previous})


def _safe_sample(target: Target) -> Sample:
    """``sample`` of a container that may have stopped since it was listed (then zeros)."""
    try:
        return sample(target.id, target.pid)
    except (OSError, ValueError, KeyError):
        return Sample()
