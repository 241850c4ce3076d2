"""Per-device I/O throttles: flag parsing, Compose's form, and the cgroup lines (no kernel)."""

from __future__ import annotations

import pytest

from composer.engine.runtime import blkiothrottle as B
from composer.errors import UsageError

THROTTLES = {"read_bps": [["/dev/vda", "254:0", 1048576]], "write_iops": [["/dev/vda", "254:0", 100]],
             "write_bps": [["/dev/vdb", "254:16", 2048]], "weight": [["/dev/vda", "254:0", 200]]}


def test_parse_flag():
    assert B.parse_flag("read_bps", "/dev/sda:1mb") == ("/dev/sda", 1048576)
    assert B.parse_flag("write_iops", "/dev/sda:100") == ("/dev/sda", 100)
    for bad in ("sda:1mb", "/dev/sda", "/dev/sda:fast"):
        with pytest.raises(UsageError, match="--device-read-bps"):
            B.parse_flag("read_bps", bad)
    assert B.parse_flag("weight", "/dev/sda:200") == ("/dev/sda", 200)
    with pytest.raises(UsageError, match="invalid weight for device"):
        B.parse_flag("weight", "/dev/sda:5")


def test_compose_limits():
    blkio = {"weight": 300, "device_read_bps": [{"Path": "/dev/vda", "Rate": "1048576"}],
             "device_write_iops": [{"path": "/dev/vda", "rate": 100}],
             "weight_device": [{"Path": "/dev/vda", "Weight": 20}]}
    assert B.compose_limits(blkio) == {"read_bps": (("/dev/vda", 1048576),), "write_iops": (("/dev/vda", 100),),
                                       "weight": (("/dev/vda", 20),)}
    assert B.compose_limits(None) == {}


def test_cgroup_lines(tmp_path):
    assert B.v1_writes(THROTTLES) == [("blkio.throttle.read_bps_device", "254:0 1048576"),
                                      ("blkio.throttle.write_bps_device", "254:16 2048"),
                                      ("blkio.throttle.write_iops_device", "254:0 100"),
                                      ("blkio.weight_device", "254:0 200")]
    assert B.v2_writes(THROTTLES, str(tmp_path)) == [("io.max", "254:0 rbps=1048576 wiops=100"),
                                                     ("io.max", "254:16 wbps=2048"), ("io.weight", "254:0 200")]


def test_inspect_keys():
    shown = B.inspect(THROTTLES)
    assert shown["BlkioDeviceReadBps"] == [{"Path": "/dev/vda", "Rate": 1048576}]
    assert shown["BlkioDeviceReadIOps"] is None and list(shown)[0] == "BlkioWeightDevice"
    assert shown["BlkioWeightDevice"] == [{"Path": "/dev/vda", "Weight": 200}]


def test_weight_device_discarded_without_cfq(tmp_path):
    """docker's create-time check: no ``blkio.weight_device`` (v1) -> the weights go, with its warning."""
    from composer.engine.runtime.cgroups import WEIGHT_DEVICE_WARNING, discard_unsupported
    from composer.engine.runtime.config import Resources

    (tmp_path / "blkio").mkdir()  # a v1 hierarchy without CFQ's file
    (tmp_path / "memory").mkdir()
    resources = Resources(blkio_throttle={"weight": [["/dev/vda", "254:0", 200]], "read_bps": [["/dev/vda", "254:0", 1]]})
    assert discard_unsupported(resources, str(tmp_path)) == [WEIGHT_DEVICE_WARNING]
    assert resources.blkio_throttle == {"read_bps": [["/dev/vda", "254:0", 1]]}
    (tmp_path / "blkio" / "blkio.weight_device").write_text("")
    kept = Resources(blkio_throttle={"weight": [["/dev/vda", "254:0", 200]]})
    assert discard_unsupported(kept, str(tmp_path)) == [] and kept.blkio_throttle["weight"]


def _read(path) -> str:
    return path.read_text().strip()


def test_v1_manager_writes_memory_extras_and_throttles(tmp_path):
    """swappiness, oom_control and the per-device lines land in the container's v1 cgroup files."""
    import os

    from composer.engine.runtime.cgroups import manager_for
    from composer.engine.runtime.config import Resources

    for controller in ("memory", "blkio"):
        os.makedirs(tmp_path / controller / "composer/abc")
    manager = manager_for("abc", str(tmp_path), "hybrid")
    manager.create(Resources(memory_swappiness=7, oom_kill_disable=True, blkio_throttle={
        "read_bps": [["/dev/vda", "254:0", 1048576]], "weight": [["/dev/vda", "254:0", 200]]}), privileged=True)
    memory, blkio = tmp_path / "memory/composer/abc", tmp_path / "blkio/composer/abc"
    assert _read(memory / "memory.swappiness") == "7" and _read(memory / "memory.oom_control") == "1"
    assert _read(blkio / "blkio.throttle.read_bps_device") == "254:0 1048576"
    assert _read(blkio / "blkio.weight_device") == "254:0 200"


def test_v2_manager_writes_io_max(tmp_path):
    from composer.engine.runtime.cgroups import manager_for
    from composer.engine.runtime.config import Resources

    (tmp_path / "cgroup.controllers").write_text("io memory pids\n")
    (tmp_path / "composer").mkdir()
    (tmp_path / "composer/cgroup.controllers").write_text("io memory pids\n")
    manager_for("abc", str(tmp_path)).create(Resources(blkio_throttle={"write_iops": [["/dev/vda", "254:0", 100]]}),
                                             privileged=True)
    assert _read(tmp_path / "composer/abc/io.max") == "254:0 wiops=100"
