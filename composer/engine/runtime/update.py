"""``docker update``: change a container's cgroup limits and restart policy, live and on disk.

docker's rules in docker's order: the request alone is checked first (moby's
``verifyContainerSettings``: minimums, ranges, the CPUs and memory nodes this host has; a limit
the host cannot apply is dropped with a warning), then against what the container has (moby's
``UpdateContainer``: ``--cpus`` and ``--cpu-period``/``--cpu-quota`` never meet, a memory limit
above the recorded memory+swap needs a new ``--memory-swap``, an ``--rm`` container keeps no
restart policy). Under the container's state lock, a running (or paused) container's cgroup gets
the new limits, then config.json records them: ``inspect`` shows them, the next start applies
them, and the supervisor reads the restart policy (and the limits of a life it restarts) from
config.json when the container exits. A created, exited or restarting container only changes
its config, as docker's.
"""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig, Resources
from composer.engine.runtime.record import Record
from composer.errors import ComposerError, ContainerRuntimeError, ContainerStateError, UsageError

MIN_MEMORY = 6 * 1024 * 1024  # moby's linuxMinMemory
MIN_KERNEL_MEMORY = 4 * 1024 * 1024
LIVE = ("running", "paused")  # a cgroup to write to (a restarting container gets its limits at its next life)
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
KERNEL_MEMORY_DEPRECATED = "Specifying a kernel memory limit is deprecated and will be removed in a future release."
KERNEL_MEMORY_DISCARDED = ("Your kernel does not support kernel memory limit capabilities or the cgroup is not "
                           "mounted. Limitation discarded.")
RESOURCE_FIELDS = ("memory", "memory_swap", "memory_reservation", "kernel_memory", "nano_cpus", "cpu_period",
                   "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpuset_cpus", "cpuset_mems",
                   "blkio_weight")


class UpdateRequest(Record):
    """What ``update`` changes, in docker's units; as docker's, a zero or empty value changes
    nothing (``pids_limit``: None; -1 or 0 = unlimited), ``restart_policy`` None neither."""

    memory: int = 0
    memory_swap: int = 0           # -1: unlimited swap
    memory_reservation: int = 0
    kernel_memory: int = 0
    nano_cpus: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_rt_period: int = 0
    cpu_rt_runtime: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    blkio_weight: int = 0
    pids_limit: int | None = None
    restart_policy: dict | None = None

    def changed(self) -> frozenset[str]:
        """The Resources fields this request sets."""
        names = {name for name in RESOURCE_FIELDS if getattr(self, name)}
        return frozenset(names | ({"pids_limit"} if self.pids_limit is not None else set()))


def parse_restart_policy(text: str) -> dict:
    """``--restart NAME[:COUNT]`` as the docker CLI splits it; the name is checked by ``check_request``."""
    name, _, count = text.partition(":")
    if count:
        try:
            return {"Name": name, "MaximumRetryCount": int(count)}
        except ValueError:
            raise UsageError("invalid restart policy format: maximum retry count must be an integer") from None
    return {"Name": name, "MaximumRetryCount": 0}


def check_request(request: UpdateRequest) -> list[str]:
    """docker's checks of the request alone; returns its warnings (a limit this host cannot apply
    is dropped from ``request``), raises ContainerRuntimeError with docker's message."""
    warnings = _check_memory(request)
    _check_cpu(request)
    from composer.engine.runtime.cgroups import BLKIO_WEIGHT_WARNING, supports_io_weight

    if request.blkio_weight > 0 and not supports_io_weight():
        warnings.append(BLKIO_WEIGHT_WARNING)
        request.blkio_weight = 0
    if request.blkio_weight and not 10 <= request.blkio_weight <= 1000:
        raise ContainerRuntimeError("Range of blkio weight is from 10 to 1000", exit_code=1)
    if request.restart_policy is not None:
        _check_restart(request.restart_policy)
    return warnings


def _invalid(message: str) -> ContainerRuntimeError:
    return ContainerRuntimeError(message, exit_code=1)


def check_memory_values(memory: int, memory_swap: int, reservation: int) -> None:
    """moby's checks of the memory values alone, for run and create too: the minimums, swap
    above memory, a reservation below the limit."""
    if memory and memory < MIN_MEMORY:
        raise _invalid("Minimum memory limit allowed is 6MB")
    if memory > 0 and memory_swap > 0 and memory_swap < memory:
        raise _invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
    if reservation and reservation < MIN_MEMORY:
        raise _invalid("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise _invalid("Minimum memory limit can not be less than memory reservation limit, see usage")


def _check_memory(r: UpdateRequest) -> list[str]:
    from composer.engine.runtime.cgroups import SWAP_WARNING, supports_swap_limit

    warnings = []
    check_memory_values(r.memory, r.memory_swap, r.memory_reservation)
    if r.memory > 0 and r.memory_swap not in (0, -1) and not supports_swap_limit():
        warnings.append(SWAP_WARNING)
        r.memory_swap = -1
    if r.kernel_memory:
        warnings.append(KERNEL_MEMORY_DEPRECATED)
        if not os.path.exists("/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes"):
            warnings.append(KERNEL_MEMORY_DISCARDED)
            r.kernel_memory = 0
        elif r.kernel_memory < MIN_KERNEL_MEMORY:
            raise _invalid("Minimum kernel memory limit allowed is 4MB")
    return warnings


def _check_cpu(r: UpdateRequest) -> None:
    if r.nano_cpus > 0 and r.cpu_period > 0:
        raise _invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if r.nano_cpus > 0 and r.cpu_quota > 0:
        raise _invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    count = os.cpu_count() or 1
    if r.nano_cpus < 0 or r.nano_cpus > count * 10**9:
        raise _invalid(f"Range of CPUs is from 0.01 to {count}.00, as there are only {count} CPUs available")
    if r.cpu_period and not 1000 <= r.cpu_period <= 1_000_000:
        raise _invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if 0 < r.cpu_quota < 1000:
        raise _invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if r.cpu_rt_period or r.cpu_rt_runtime:
        from composer.engine.runtime.cgroups import supports_realtime
        from composer.engine.runtime.cgroups.realtime import UNSUPPORTED

        if not supports_realtime():
            raise _invalid(UNSUPPORTED)
    if r.cpu_rt_period and r.cpu_rt_runtime and r.cpu_rt_runtime > r.cpu_rt_period:
        raise _invalid("cpu-rt-runtime cannot be higher than cpu-rt-period")
    if r.cpuset_cpus:
        _check_cpuset(r.cpuset_cpus, "cpus", "CPUs", "/sys/devices/system/cpu/online")
    if r.cpuset_mems:
        _check_cpuset(r.cpuset_mems, "mems", "memory nodes", "/sys/devices/system/node/online")


def parse_cpuset(text: str) -> set[int]:
    """``0-3,5`` -> {0, 1, 2, 3, 5}; ValueError when malformed."""
    chosen: set[int] = set()
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()) or (dash and int(high) < int(low)):
            raise ValueError(part)
        chosen.update(range(int(low), int(high if dash else low) + 1))
    return chosen


def _check_cpuset(text: str, kind: str, noun: str, online_file: str) -> None:
    """docker's cpuset checks: well-formed, and only CPUs (memory nodes) this host has."""
    try:
        wanted = parse_cpuset(text)
    except ValueError:
        raise _invalid(f"Invalid value {text} for cpuset {kind}: invalid format: {text}") from None
    try:
        with open(online_file) as handle:
            online = handle.read().strip()
    except OSError:
        online = "0"  # no NUMA directory: one node
    if not wanted <= parse_cpuset(online):
        raise _invalid(f"Requested {noun} are not available - requested {text}, available: {online}")


def _check_restart(policy: dict) -> None:
    name, count = policy.get("Name", ""), policy.get("MaximumRetryCount", 0)
    if name not in RESTART_NAMES:
        raise _invalid(f"invalid restart policy '{name}'")
    if count and name in ("always", "unless-stopped"):
        raise _invalid(f"maximum retry count cannot be used with restart policy '{name}'")
    if count < 0:
        raise _invalid("maximum retry count cannot be negative")


def merge(config: ContainerConfig, request: UpdateRequest) -> tuple[Resources, dict]:
    """The container's new limits and restart policy (moby's ``UpdateContainer``); raises
    ContainerStateError (docker's words) when the request conflicts with what the container has."""
    old = config.resources
    for mine, theirs, mine_name, their_name in (
            ("nano_cpus", "cpu_period", "Nano CPUs", "CPU Period"), ("nano_cpus", "cpu_quota", "Nano CPUs", "CPU Quota"),
            ("cpu_period", "nano_cpus", "CPU Period", "NanoCPUs"), ("cpu_quota", "nano_cpus", "CPU Quota", "NanoCPUs")):
        if getattr(request, mine) > 0 and getattr(old, theirs) > 0:
            raise ContainerStateError(f"Conflicting options: {mine_name} cannot be updated as {their_name} "
                                      "has already been set")
    if request.memory and old.memory_swap and request.memory > old.memory_swap and not request.memory_swap:
        raise ContainerStateError("Memory limit should be smaller than already set memoryswap limit, "
                                  "update the memoryswap at the same time")
    new = Resources(**old.to_dict())
    for name in request.changed():
        setattr(new, name, max(getattr(request, name), 0) if name == "pids_limit" else getattr(request, name))
    # what the kernel would refuse (docker leaves it to runc, or to the next start of a stopped container)
    if new.memory_swap > 0 and new.memory <= 0:
        raise ContainerStateError("You should always set the Memory limit when using Memoryswap limit, see usage")
    if new.memory > 0 and new.memory_swap > 0 and new.memory_swap < new.memory:
        raise ContainerStateError("Minimum memoryswap limit should be larger than memory limit, see usage")
    policy = config.restart_policy
    if request.restart_policy is not None:
        if request.restart_policy["Name"] != "no" and config.auto_remove:
            raise ContainerStateError("Restart policy cannot be updated because AutoRemove is enabled for the container")
        policy = request.restart_policy
    return new, policy


def update(reference: str, request: UpdateRequest) -> list[str]:
    """Update the container named (or id-prefixed) ``reference``, docker's ``ContainerUpdate``:
    the request is checked before the container is looked up; returns docker's warnings."""
    from composer.engine.runtime.state import find_container, now_iso, supervisor_alive, write_json_atomic

    warnings = check_request(request)
    cdir = find_container(reference)
    container_id = cdir.id
    state = cdir.read_state()
    if state.get("Status") in (*LIVE, "restarting") and not supervisor_alive(state):
        from composer.engine.runtime.containers import current_state

        current_state(cdir, state)  # its supervisor died: "exited" first (this takes the lock itself)
    try:
        with cdir.lock():
            document = cdir.read_config()
            config = ContainerConfig.from_dict(document)
            live = cdir.read_state().get("Status") in LIVE
            try:
                resources, policy = merge(config, request)
                if live:
                    _apply_live(config, resources, request.changed())
            except ComposerError as error:
                raise _cannot_update(container_id, error)
            document["resources"], document["restart_policy"] = resources.to_dict(), policy
            write_json_atomic(cdir.config, document)
        cdir.write_state(UpdatedAt=now_iso())  # ``events`` shows docker's ``update``
    except FileNotFoundError:  # removed meanwhile
        from composer.errors import ContainerNotFound

        raise ContainerNotFound(f"No such container: {reference}") from None
    return warnings  # (a start that read the old config meanwhile: its supervisor catches up, apply_changes)


def _cannot_update(container_id: str, error: ComposerError) -> ComposerError:
    """docker's wrapping of an update's failure."""
    error.message = f"Cannot update container {container_id}: {error.message}"
    return error


def _apply_live(config: ContainerConfig, resources: Resources, changed: frozenset[str]) -> None:
    """Write the new limits to the running container's cgroup; on failure put back the old ones
    (best effort: the kernel may refuse some of those too) and raise."""
    from composer.engine.runtime.cgroups import manager_for

    cgroup = manager_for(config.id)
    try:
        cgroup.update(resources, changed)
    except ComposerError:
        try:
            cgroup.update(config.resources, changed)
        except ComposerError:
            pass
        raise


def apply_changes(cgroup, old: Resources, new: Resources) -> None:
    """The supervisor's catch-up: write to a live cgroup the limits where ``new`` (config.json now)
    differs from ``old`` (what the life started with); best effort, as the update was reported done."""
    changed = frozenset(name for name in Resources._fields if getattr(old, name) != getattr(new, name))
    try:
        cgroup.update(new, changed)
    except (ComposerError, OSError):
        pass
