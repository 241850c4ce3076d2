"""describe's inspect JSON stays cheap to build: it imports neither rootfs nor ctypes (compose ps
and down describe every container of the project through it)."""

from __future__ import annotations

import subprocess
import sys

from composer.engine.runtime import config, rootfs

PROGRAM = """
import sys
from composer.engine.runtime.config import ContainerConfig, Mount
from composer.engine.runtime.describe import inspect_dict
data = ContainerConfig(id="a" * 64, name="p-web-1", image="busybox", image_id="sha256:" + "b" * 64, layers=["/l"],
                       args=["true"], env=[], publish=["8080:80"],
                       mounts=[Mount(type="volume", target="/data", source="p_data")]).to_dict()
details = inspect_dict(data, {"Status": "exited"})
print(len(details["HostConfig"]["MaskedPaths"]), "ctypes" in sys.modules, "composer.engine.runtime.rootfs" in sys.modules)
"""


def test_inspect_shows_the_paths_rootfs_masks_without_importing_it():
    assert rootfs.MASKED_PATHS is config.MASKED_PATHS and rootfs.READONLY_PATHS is config.READONLY_PATHS
    ran = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == [str(len(config.MASKED_PATHS)), "False", "False"], ran.stderr
