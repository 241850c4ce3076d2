"""``--rm`` containers get a volatile overlay (no sync of the upper filesystem when they exit)."""

from __future__ import annotations

import os

import pytest

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.linux import ForegroundRun

pytestmark = pytest.mark.root


def _config(image, container_id: str, command: str) -> ContainerConfig:
    return ContainerConfig(id=container_id, name="volatile", image=image.name, image_id=image.id,
                           layers=[str(p) for p in image.layer_dirs], args=["sh", "-c", command], env=[],
                           network="none", auto_remove=True)


def test_volatile_rootfs_can_start_again(image, state_root):
    container_id = os.urandom(32).hex()
    first = ForegroundRun(_config(image, container_id, "grep -c volatile /proc/mounts; touch /tmp/mark"))
    try:
        first.start(first.prepare())
        assert first.wait().exit_code == 0
    finally:
        first.config.auto_remove = False  # keep the directory for a second life (a restart)
        first.cleanup()
    marker = state_root / "containers" / container_id / "work" / "work" / "incompat" / "volatile"
    assert marker.is_dir()  # overlay's sign of a volatile mount, which would refuse the next mount
    second = ForegroundRun(_config(image, container_id, "test -e /tmp/mark"))
    try:
        second.start(second.prepare_launch())
        assert second.wait().exit_code == 0  # mounted again, with the first life's files
    finally:
        second.cleanup()
    assert not (state_root / "containers" / container_id).exists()
