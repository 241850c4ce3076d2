"""The cgroup v2 backend on the real kernel, where a unified hierarchy is mounted.

On this project's hybrid hosts the v2 mount (/sys/fs/cgroup/unified) has no resource controllers,
so this covers create / join / inspect / remove and the error for a limit that cannot be set;
on a pure v2 host (/sys/fs/cgroup/cgroup.controllers) the limits themselves are checked too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from composer.engine.runtime.cgroups.v2 import CgroupV2, blkio_to_io_weight
from composer.engine.runtime.config import Resources
from composer.errors import CgroupError

pytestmark = pytest.mark.root


def _v2_root() -> str:
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(f"{root}/cgroup.controllers"):
            return root
    pytest.skip("no cgroup v2 hierarchy mounted")


@pytest.fixture
def manager():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    cgroup = CgroupV2(_v2_root(), f"composer-test/{os.getpid()}")
    yield cgroup
    for path in (cgroup.path, os.path.dirname(cgroup.path)):
        try:
            os.rmdir(path)
        except OSError:
            pass


def test_create_join_remove(manager):
    available = open(f"{manager.root}/cgroup.controllers").read().split()
    limits = Resources(memory=64 << 20, pids_limit=10) if {"memory", "pids"} <= set(available) else Resources()
    manager.create(limits)
    process = subprocess.Popen(["sleep", "30"])
    try:
        manager.join(process.pid)
        assert str(process.pid) in open(f"{manager.path}/cgroup.procs").read().split()
        assert f"0::/composer-test/{os.getpid()}" in open(f"/proc/{process.pid}/cgroup").read()
        if limits.memory:
            assert open(f"{manager.path}/memory.max").read().strip() == str(64 << 20)
            assert open(f"{manager.path}/pids.max").read().strip() == "10"
        assert manager.oom_killed() is False
    finally:
        process.kill()
        process.wait()
    manager.remove()
    assert not os.path.exists(manager.path)
    manager.remove()  # tolerates absence


def test_unavailable_limit_is_a_clear_error(manager):
    available = open(f"{manager.root}/cgroup.controllers").read().split()
    if "memory" in available:
        pytest.skip("the memory controller is available here")
    with pytest.raises(CgroupError, match="memory.max"):
        manager.create(Resources(memory=64 << 20))


def test_device_filter_allows_only_the_rules(manager):
    manager.create(Resources(), device_rules=("c 10:229 r",))
    probe = ("import os\n"
             f"open({manager.path + '/cgroup.procs'!r}, 'w').write(str(os.getpid()))\n"
             "for path, flags in (('/dev/null', os.O_RDWR), ('/dev/fuse', os.O_RDONLY), ('/dev/fuse', os.O_RDWR),"
             " ('/dev/kmsg', os.O_RDONLY)):\n"
             "    try:\n"
             "        os.close(os.open(path, flags)); print(path, 'ok')\n"
             "    except OSError as error:\n"
             "        print(path, error.errno)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines() == ["/dev/null ok", "/dev/fuse ok", "/dev/fuse 1", "/dev/kmsg 1"], result.stderr
    manager.remove()


def test_v2_limits_through_container_run(image, state_root):
    """Every limit of ``container run`` in its v2 file, and pause as cgroup.freeze (pure v2 hosts)."""
    from composer.engine.runtime.cgroups import detect_setup
    from tests.integration.runtime.conftest import container_cgroup, start

    if detect_setup() != "unified":
        pytest.skip("this host's cgroups are v1 (hybrid): the v2 limit files are unit-tested in "
                    "tests/unit/runtime/test_cgroups.py, the v2 backend itself by the tests above")
    process = start(state_root, "--rm", "-i", "--name", "v2limits", "--network", "none", "--cpus", "0.5", "-c", "512",
                    "--cpuset-cpus", "0", "-m", "64m", "--memory-swap", "96m", "--memory-reservation", "32m",
                    "--pids-limit", "50", "--blkio-weight", "300", "busybox", "sh", "-c", "read x", stdin=True)
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    try:
        group = container_cgroup(state_root)
        expected = {"cpu.max": "50000 100000", "cpuset.cpus": "0", "memory.max": str(64 << 20),
                    "memory.swap.max": str(32 << 20), "memory.low": str(32 << 20), "pids.max": "50"}
        if os.path.exists(f"{group}/io.bfq.weight"):
            expected["io.bfq.weight"] = "default 300"
        elif os.path.exists(f"{group}/io.weight"):
            expected["io.weight"] = f"default {blkio_to_io_weight(300)}"
        assert {name: open(f"{group}/{name}").read().strip() for name in expected} == expected
        paused = subprocess.run([sys.executable, "-m", "composer", "container", "pause", "v2limits"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert paused.returncode == 0 and open(f"{group}/cgroup.freeze").read().strip() == "1", paused.stderr
        subprocess.run([sys.executable, "-m", "composer", "container", "unpause", "v2limits"], env=env, timeout=60)
        process.communicate("\n", timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
