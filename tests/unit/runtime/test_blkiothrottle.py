"""Per-device I/O throttles: flag parsing, Compose's form, and the cgroup lines (no kernel)."""

from __future__ import annotations

import pytest

from composer.engine.runtime import blkiothrottle as B
from composer.errors import UsageError

THROTTLES = {"read_bps": [["/dev/vda", "254:0", 1048576]], "write_iops": [["/dev/vda", "254:0", 100]],
             "write_bps": [["/dev/vdb", "254:16", 2048]]}


def test_parse_flag():
    assert B.parse_flag("read_bps", "/dev/sda:1mb") == ("/dev/sda", 1048576)
    assert B.parse_flag("write_iops", "/dev/sda:100") == ("/dev/sda", 100)
    for bad in ("sda:1mb", "/dev/sda", "/dev/sda:fast"):
        with pytest.raises(UsageError, match="--device-read-bps"):
            B.parse_flag("read_bps", bad)


def test_compose_limits():
    blkio = {"weight": 300, "device_read_bps": [{"Path": "/dev/vda", "Rate": "1048576"}],
             "device_write_iops": [{"path": "/dev/vda", "rate": 100}]}
    assert B.compose_limits(blkio) == {"read_bps": (("/dev/vda", 1048576),), "write_iops": (("/dev/vda", 100),)}
    assert B.compose_limits(None) == {}


def test_cgroup_lines():
    assert B.v1_writes(THROTTLES) == [("blkio.throttle.read_bps_device", "254:0 1048576"),
                                      ("blkio.throttle.write_bps_device", "254:16 2048"),
                                      ("blkio.throttle.write_iops_device", "254:0 100")]
    assert B.v2_writes(THROTTLES) == [("io.max", "254:0 rbps=1048576 wiops=100"), ("io.max", "254:16 wbps=2048")]


def test_inspect_keys():
    shown = B.inspect(THROTTLES)
    assert shown["BlkioDeviceReadBps"] == [{"Path": "/dev/vda", "Rate": 1048576}]
    assert shown["BlkioDeviceReadIOps"] is None
