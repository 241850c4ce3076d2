"""Fixtures for detached containers: the busybox image, a CLI runner, and a teardown that
force-removes every container the test made and checks nothing stayed behind."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

CGROUP_GLOB = "/sys/fs/cgroup/*/composer/{}"


@pytest.fixture
def cli(state_root: Path, busybox_image):
    """``cli(*args)`` runs ``composer ARGS`` against the test's state root."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))

    def run(*args: str, timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "composer", *args], capture_output=True, text=True,
                                env=env, timeout=timeout)
        if check:
            assert result.returncode == 0, (args, result.stderr)
        return result

    yield run
    ids = [p.name for p in (state_root / "containers").glob("*")]
    for container_id in ids:
        run("container", "rm", "-f", "-v", container_id)
    leaked = [path for cid in ids for path in glob.glob(CGROUP_GLOB.format(cid))]
    for path in leaked:
        os.rmdir(path)
    assert not leaked
    assert not list((state_root / "containers").glob("*"))
    deadline = time.monotonic() + 5  # the supervisors' zygote leaves once it has none
    while (state_root / "supervisor.sock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (state_root / "supervisor.sock").exists()


def supervisor_pid(state_root: Path, container_id: str) -> int:
    """The supervisor's pid from the container's state.json."""
    import json

    state = json.loads((state_root / "containers" / container_id / "state.json").read_text())
    return state["SupervisorPid"]
