"""cgroup v1 and v2 backends against a temporary directory standing in for /sys/fs/cgroup."""

from __future__ import annotations

import os

from composer.engine.runtime.cgroups import detect_setup, manager_for
from composer.engine.runtime.cgroups.v2 import blkio_to_io_weight, shares_to_weight
from composer.engine.runtime.config import Resources

LIMITS = Resources(memory=64 << 20, memory_swap=128 << 20, memory_reservation=32 << 20, nano_cpus=1_500_000_000,
                   cpu_shares=512, cpuset_cpus="0-1", pids_limit=20, blkio_weight=500)


def _read(path) -> str:
    with open(path) as handle:
        return handle.read()


def test_detect_setup(tmp_path):
    assert detect_setup(str(tmp_path)) == "legacy"
    (tmp_path / "unified").mkdir()
    assert detect_setup(str(tmp_path)) == "hybrid"
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    assert detect_setup(str(tmp_path)) == "unified"


def test_v1_writes(tmp_path):
    for controller in ("memory", "cpu", "cpuset", "pids", "blkio"):
        (tmp_path / controller).mkdir()
    (tmp_path / "cpuset/cpuset.cpus").write_text("0-3\n")
    (tmp_path / "cpuset/cpuset.mems").write_text("0\n")
    manager = manager_for("abc", str(tmp_path), "hybrid")
    os.makedirs(tmp_path / "memory/composer/abc")
    (tmp_path / "memory/composer/abc/memory.memsw.limit_in_bytes").write_text("")
    (tmp_path / "blkio/composer/abc").mkdir(parents=True)
    (tmp_path / "blkio/composer/abc/blkio.weight").write_text("")
    manager.create(LIMITS)
    memory = tmp_path / "memory/composer/abc"
    assert _read(memory / "memory.limit_in_bytes") == str(64 << 20)
    assert _read(memory / "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert _read(memory / "memory.soft_limit_in_bytes") == str(32 << 20)
    assert _read(tmp_path / "cpu/composer/abc/cpu.cfs_quota_us") == "150000"
    assert _read(tmp_path / "cpu/composer/abc/cpu.shares") == "512"
    assert _read(tmp_path / "cpuset/composer/cpuset.cpus") == "0-3"  # parents inherit
    assert _read(tmp_path / "cpuset/composer/abc/cpuset.cpus") == "0-1"
    assert _read(tmp_path / "pids/composer/abc/pids.max") == "20"
    assert _read(tmp_path / "blkio/composer/abc/blkio.weight") == "500"
    assert len(manager.procs_files()) == 5
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert manager.oom_killed()


def test_v2_writes(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    manager = manager_for("abc", str(tmp_path))
    os.makedirs(tmp_path / "composer")
    (tmp_path / "composer/cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    group = tmp_path / "composer/abc"
    group.mkdir()
    (group / "memory.swap.max").write_text("max\n")  # (there with swap accounting)
    manager.create(LIMITS, privileged=True)  # (no device filter: that is an eBPF program, tested for real)
    assert _read(tmp_path / "cgroup.subtree_control") == "+cpu +cpuset +io +memory +pids"
    assert _read(group / "memory.max") == str(64 << 20)
    assert _read(group / "memory.swap.max") == str(64 << 20)
    assert _read(group / "memory.low") == str(32 << 20)
    assert _read(group / "cpu.max") == "150000 100000"
    assert _read(group / "cpu.weight") == str(shares_to_weight(512))
    assert _read(group / "cpuset.cpus") == "0-1"
    assert _read(group / "pids.max") == "20"
    assert _read(group / "io.weight") == f"default {blkio_to_io_weight(500)}"
    assert manager.procs_files() == [str(group / "cgroup.procs")]
    assert not manager.oom_killed()
    (group / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert manager.oom_killed()


def test_weight_conversions():
    assert shares_to_weight(2) == 1 and shares_to_weight(262144) == 10000 and shares_to_weight(1024) == 39
    assert blkio_to_io_weight(10) == 1 and blkio_to_io_weight(1000) == 10000


def _v2_manager(tmp_path, controllers: str = "cpuset cpu io memory pids"):
    (tmp_path / "cgroup.controllers").write_text(controllers + "\n")
    os.makedirs(tmp_path / "composer/abc")
    (tmp_path / "composer/cgroup.controllers").write_text(controllers + "\n")
    (tmp_path / "composer/abc/memory.swap.max").write_text("max\n")
    return manager_for("abc", str(tmp_path)), tmp_path / "composer/abc"


def test_v2_swap_variants_cpuset_mems_and_freeze(tmp_path):
    manager, group = _v2_manager(tmp_path)
    manager.create(Resources(memory=64 << 20, memory_swap=-1, cpuset_mems="0"), privileged=True)
    assert _read(group / "memory.swap.max") == "max"  # --memory-swap -1: unlimited swap
    assert _read(group / "cpuset.mems") == "0"
    manager.create(Resources(memory=64 << 20, memory_swap=64 << 20), privileged=True)
    assert _read(group / "memory.swap.max") == "0"  # swap limit = memory limit: no swap at all
    manager.freeze(True)
    assert _read(group / "cgroup.freeze") == "1"  # pause
    manager.freeze(False)
    assert _read(group / "cgroup.freeze") == "0"  # unpause


def test_v2_bfq_weight_takes_the_blkio_scale(tmp_path):
    manager, group = _v2_manager(tmp_path)
    (group / "io.bfq.weight").write_text("default 100\n")
    manager.create(Resources(blkio_weight=300), privileged=True)
    assert _read(group / "io.bfq.weight") == "300" and not (group / "io.weight").exists()


def test_v1_bfq_weight_and_freeze(tmp_path):
    for controller in ("blkio", "freezer"):
        (tmp_path / controller / "composer/abc").mkdir(parents=True)
    (tmp_path / "blkio/composer/abc/blkio.bfq.weight").write_text("100\n")
    (tmp_path / "freezer/composer/abc/freezer.state").write_text("THAWED\n")
    manager = manager_for("abc", str(tmp_path), "hybrid")
    manager.create(Resources(blkio_weight=300), privileged=True)
    assert _read(tmp_path / "blkio/composer/abc/blkio.bfq.weight") == "300"
    manager.freeze(True)
    assert _read(tmp_path / "freezer/composer/abc/freezer.state") == "FROZEN"


def test_unsupported_weight_is_discarded_with_dockers_warning(tmp_path):
    from composer.engine.runtime.cgroups import BLKIO_WEIGHT_WARNING, discard_unsupported

    (tmp_path / "unified").mkdir()
    (tmp_path / "blkio").mkdir()
    resources = Resources(blkio_weight=300, memory=1 << 20)
    assert discard_unsupported(resources, str(tmp_path)) == [BLKIO_WEIGHT_WARNING]
    assert resources.blkio_weight == 0 and resources.memory == 1 << 20
    (tmp_path / "blkio/blkio.bfq.io_service_bytes").write_text("")  # BFQ: its weight is in child cgroups
    assert discard_unsupported(Resources(blkio_weight=300), str(tmp_path)) == []
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu memory pids\n")
    assert discard_unsupported(Resources(blkio_weight=300), str(v2)) == [BLKIO_WEIGHT_WARNING]
    (v2 / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert discard_unsupported(Resources(blkio_weight=300), str(v2)) == []


def test_swap_limit_without_swap_accounting(tmp_path):
    """docker's warning where v1 has no memory.memsw files (the swap limit is dropped: -1); v2 does
    not write memory.swap.max where the cgroup has none."""
    from composer.engine.runtime.cgroups import SWAP_WARNING, discard_unsupported

    (tmp_path / "unified").mkdir()
    (tmp_path / "memory").mkdir()
    resources = Resources(memory=64 << 20, memory_swap=128 << 20)
    assert discard_unsupported(resources, str(tmp_path)) == [SWAP_WARNING] and resources.memory_swap == -1
    assert discard_unsupported(Resources(memory=64 << 20, memory_swap=-1), str(tmp_path)) == []
    (tmp_path / "memory/memory.memsw.limit_in_bytes").write_text("")
    assert discard_unsupported(Resources(memory=64 << 20, memory_swap=128 << 20), str(tmp_path)) == []
    (tmp_path / "v2").mkdir()
    manager, group = _v2_manager(tmp_path / "v2")
    (group / "memory.swap.max").unlink()
    manager.create(Resources(memory=64 << 20, memory_swap=128 << 20), privileged=True)
    assert _read(group / "memory.max") == str(64 << 20) and not (group / "memory.swap.max").exists()
