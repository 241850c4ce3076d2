"""The cgroup v2 backend on the real kernel, where a unified hierarchy is mounted.

On this project's hybrid hosts the v2 mount (/sys/fs/cgroup/unified) has no resource controllers,
so this covers create / join / inspect / remove and the error for a limit that cannot be set;
on a pure v2 host (/sys/fs/cgroup/cgroup.controllers) the limits themselves are checked too.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from composer.engine.runtime.cgroups.v2 import CgroupV2
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
    import sys

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
