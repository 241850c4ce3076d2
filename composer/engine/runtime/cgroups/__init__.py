"""cgroups behind one interface: ``detect_setup()`` and ``manager_for()``."""

from __future__ import annotations

import os

from composer.engine.runtime.cgroups.base import CgroupManager

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
