"""cgroups behind one interface: ``detect_setup()``, ``manager_for()`` and ``discard_unsupported()``."""

from __future__ import annotations

import os

from composer.engine.runtime.cgroups.base import CgroupManager
from composer.engine.runtime.config import Resources

CGROUP_ROOT = "/sys/fs/cgroup"
PARENT = "composer"


def detect_setup(root: str = CGROUP_ROOT) -> str:
    """"unified" (v2 only), "hybrid" (v1 controllers + an empty v2 at unified/) or "legacy"."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return "unified"
    if os.path.isdir(os.path.join(root, "unified")):
        return "hybrid"
    return "legacy"


def manager_for(container_id: str, root: str = CGROUP_ROOT, setup: str | None = None) -> CgroupManager:
    """The cgroup manager of a container on this host (hybrid hosts use the v1 controllers)."""
    setup = setup or detect_setup(root)
    name = f"{PARENT}/{container_id}"
    if setup == "unified":
        from composer.engine.runtime.cgroups.v2 import CgroupV2

        return CgroupV2(root, name)
    from composer.engine.runtime.cgroups.v1 import CgroupV1

    return CgroupV1(root, name)


BLKIO_WEIGHT_WARNING = "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
SWAP_WARNING = ("Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
                "Memory limited without swap.")
SWAPPINESS_WARNING = ("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. "
                      "Memory swappiness discarded.")
OOM_KILL_DISABLE_WARNING = "Your kernel does not support OomKillDisable. OomKillDisable discarded."
WEIGHT_DEVICE_WARNING = "Your kernel does not support BlkioWeightDevice. Weight-device discarded."
OOM_NO_LIMIT_WARNING = ("OOM killer is disabled for the container, but no memory limit is set, this can result in "
                        "the system running out of resources.")


def supports_io_weight(root: str = CGROUP_ROOT, setup: str | None = None) -> bool:
    """Whether a container's cgroup can take a block IO weight: v1 ``blkio.weight`` (CFQ) or BFQ's
    ``blkio.bfq.weight`` (only in child cgroups: its statistics files show it at the root); v2: the
    io controller."""
    setup = setup or detect_setup(root)
    if setup == "unified":
        with open(os.path.join(root, "cgroup.controllers")) as handle:
            return "io" in handle.read().split()
    blkio = os.path.join(root, "blkio")
    return any(os.path.exists(os.path.join(blkio, name)) for name in ("blkio.weight", "blkio.bfq.io_service_bytes"))


def discard_unsupported(resources: Resources, root: str = CGROUP_ROOT) -> list[str]:
    """docker's create-time check: a limit this host cannot apply is dropped (set to 0) with a
    warning for the user, not refused; returns the warnings."""
    warnings = []
    setup = detect_setup(root)
    if resources.memory > 0 and resources.memory_swap not in (0, -1) and not supports_swap_limit(root, setup):
        resources.memory_swap = -1
        warnings.append(SWAP_WARNING)
    if resources.blkio_weight and not supports_io_weight(root, setup):
        resources.blkio_weight = 0
        warnings.append(BLKIO_WEIGHT_WARNING)
    if resources.memory_swappiness >= 0 and setup == "unified":  # v2 has no swappiness
        resources.memory_swappiness = -1
        warnings.append(SWAPPINESS_WARNING)
    if resources.oom_kill_disable and setup == "unified":
        resources.oom_kill_disable = False
        warnings.append(OOM_KILL_DISABLE_WARNING)
    elif resources.oom_kill_disable and not resources.memory:
        warnings.append(OOM_NO_LIMIT_WARNING)
    if resources.blkio_throttle.get("weight") and setup != "unified" \
            and not os.path.exists(os.path.join(root, "blkio", "blkio.weight_device")):  # CFQ's only, as docker
        resources.blkio_throttle = {k: v for k, v in resources.blkio_throttle.items() if k != "weight"}
        warnings.append(WEIGHT_DEVICE_WARNING)
    return warnings


def supports_swap_limit(root: str = CGROUP_ROOT, setup: str | None = None) -> bool:
    """v1: swap accounting (``memory.memsw.*``, off unless the kernel has it); v2 writes
    memory.swap.max where the cgroup has it."""
    if (setup or detect_setup(root)) == "unified":
        return True
    return os.path.exists(os.path.join(root, "memory", "memory.memsw.limit_in_bytes"))


def supports_realtime(root: str = CGROUP_ROOT, setup: str | None = None) -> bool:
    """Whether containers' cgroups take ``--cpu-rt-period``/``--cpu-rt-runtime``: v1's cpu
    controller with RT_GROUP_SCHED (cpu.rt_runtime_us); v2 has no real-time controller."""
    if (setup or detect_setup(root)) == "unified":
        return False
    from composer.engine.runtime.cgroups.realtime import supported

    return supported(os.path.join(root, "cpu"))
