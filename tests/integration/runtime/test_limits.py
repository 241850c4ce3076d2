"""cgroup limits enforced on the real kernel: memory (OOM 137), pids, cpu, ulimits, oom score."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.runtime.conftest import container_cgroup, start

pytestmark = pytest.mark.root


def test_out_of_memory_is_137_and_recorded(run, state_root):
    result = run("-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                 "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived")
    assert result.returncode == 137, result.stdout + result.stderr
    (directory,) = (state_root / "containers").iterdir()
    inspect = subprocess.run([sys.executable, "-m", "composer", "container", "inspect", directory.name],
                             capture_output=True, text=True, timeout=60, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    state = json.loads(inspect.stdout)[0]["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137, state


def test_pids_limit_stops_forks(run):
    result = run("--rm", "--pids-limit", "4", "busybox", "sh", "-c",
                 "for i in 1 2 3 4 5 6; do sleep 2 & done; wait; echo done")
    assert "can't fork" in result.stderr or "Resource temporarily unavailable" in result.stderr, result.stderr


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read().strip()


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/cpu"), reason="needs cgroup v1 controllers")
def test_v1_limit_files_while_running(image, state_root):
    from composer.engine.runtime.cgroups import SWAP_WARNING, supports_swap_limit

    process = start(state_root, "--rm", "--cpus", "0.5", "-c", "512", "--cpuset-cpus", "0", "-m", "64m",
                    "--memory-swap", "96m", "--memory-reservation", "32m", "--pids-limit", "50", "busybox", "sleep", "3")
    try:
        cpu = container_cgroup(state_root, "cpu") + "/"
        name = os.path.basename(cpu.rstrip("/"))
        assert _read(f"{cpu}cpu.cfs_quota_us") == "50000"
        assert _read(f"{cpu}cpu.shares") == "512"
        assert _read(f"/sys/fs/cgroup/cpuset/composer/{name}/cpuset.cpus") == "0"
        assert _read(f"/sys/fs/cgroup/memory/composer/{name}/memory.limit_in_bytes") == str(64 << 20)
        assert _read(f"/sys/fs/cgroup/memory/composer/{name}/memory.soft_limit_in_bytes") == str(32 << 20)
        memsw = f"/sys/fs/cgroup/memory/composer/{name}/memory.memsw.limit_in_bytes"
        assert not os.path.exists(memsw) or _read(memsw) == str(96 << 20)  # swap accounting may be off
        assert _read(f"/sys/fs/cgroup/pids/composer/{name}/pids.max") == "50"
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0
        assert (SWAP_WARNING in err) is not supports_swap_limit(), err  # docker's warning without memsw
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not os.path.exists(cpu)


def test_ulimit_and_oom_score_adj(run):
    result = run("--rm", "--ulimit", "nofile=100:200", "--oom-score-adj", "300", "busybox", "sh", "-c",
                 "ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj")
    assert result.stdout.split() == ["100", "200", "300"], result.stderr


def test_bad_limits_are_clear_errors(run):
    bad = run("--rm", "-m", "lots", "busybox", "true")
    assert bad.returncode != 0 and "--memory" in bad.stderr and "Traceback" not in bad.stderr
    assert run("--rm", "--ulimit", "nofile", "busybox", "true").returncode != 0
    cpuset = run("--rm", "--cpuset-cpus", "99", "busybox", "true")
    assert cpuset.returncode == 125 and "cpuset.cpus" in cpuset.stderr


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/blkio"), reason="needs the cgroup v1 blkio controller")
def test_blkio_weight_applied_or_discarded_with_docker_warning(image, state_root):
    """CFQ's blkio.weight or BFQ's blkio.bfq.weight takes --blkio-weight; a kernel with neither gets
    docker's warning on stderr and the container runs without the weight (not an error)."""
    from composer.engine.runtime.cgroups import BLKIO_WEIGHT_WARNING, supports_io_weight

    process = start(state_root, "--rm", "-i", "--network", "none", "--blkio-weight", "300", "busybox", "sh", "-c",
                    "read x; echo ran", stdin=True)
    try:
        blkio = container_cgroup(state_root, "blkio")
        files = [f"{blkio}/{n}" for n in ("blkio.weight", "blkio.bfq.weight") if os.path.exists(f"{blkio}/{n}")]
        if supports_io_weight():
            assert _read(files[0]) == "300"
        out, err = process.communicate("\n", timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0 and out == "ran\n", err
    assert (BLKIO_WEIGHT_WARNING in err) is not supports_io_weight(), err


def test_container_sees_its_own_cgroup_limits(run):
    """/sys/fs/cgroup as docker shows it: the container's own cgroup at the root of each hierarchy
    (a program can read its limits), read-only."""
    from composer.engine.runtime.cgroups import detect_setup

    files = ("memory.max", "pids.max") if detect_setup() == "unified" else \
        ("memory/memory.limit_in_bytes", "pids/pids.max")
    result = run("--rm", "--network", "none", "-m", "64m", "--pids-limit", "33", "busybox", "sh", "-c",
                 f"cat /sys/fs/cgroup/{files[0]} /sys/fs/cgroup/{files[1]}; echo 40 > /sys/fs/cgroup/{files[1]};"
                 " echo rc=$?")
    assert result.stdout.split() == [str(64 << 20), "33", "rc=1"], result.stdout + result.stderr
    assert "Read-only file system" in result.stderr
