"""Fixtures for runtime tests: the busybox image in a private state root and a CLI runner."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

CGROUP_GLOB = "/sys/fs/cgroup/*/composer/*"


def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")


@pytest.fixture
def image(state_root: Path, busybox_image):
    """busybox:latest in this test's store (the runtime tests' default image)."""
    _require_root()
    return busybox_image


@pytest.fixture
def run(image, state_root: Path):
    """Run ``composer container run ARGS`` in a subprocess; asserts no cgroup is left behind."""
    before = set(glob.glob(CGROUP_GLOB))

    def runner(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "composer", "container", "run", *args],
                              input=input, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, COMPOSER_ROOT=str(state_root)))

    yield runner
    ours = _container_ids(state_root)  # (other tests, maybe in other processes, make cgroups too)
    leaked = {p for p in set(glob.glob(CGROUP_GLOB)) - before if os.path.basename(p) in ours}
    for path in leaked:  # tidy up for the next test, then fail this one
        try:
            os.rmdir(path)
        except OSError:
            pass
    assert not leaked, leaked


def _container_ids(state_root: Path) -> set[str]:
    return {p.name for p in (state_root / "containers").glob("*")}


def start(state_root: Path, *args: str) -> subprocess.Popen:
    """Start ``container run ARGS`` in the background (the caller waits/kills it)."""
    return subprocess.Popen([sys.executable, "-m", "composer", "container", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
