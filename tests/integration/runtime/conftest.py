"""Fixtures for runtime tests: the busybox image in a private state root and a CLI runner."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

CGROUP_GLOBS = ("/sys/fs/cgroup/*/composer/*", "/sys/fs/cgroup/composer/*")  # v1 controllers, pure v2


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
    before = _cgroups()

    def runner(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "composer", "container", "run", *args],
                              input=input, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, COMPOSER_ROOT=str(state_root)))

    yield runner
    ours = _container_ids(state_root)  # (other tests, maybe in other processes, make cgroups too)
    leaked = {p for p in _cgroups() - before if os.path.basename(p) in ours}
    for path in leaked:  # tidy up for the next test, then fail this one
        try:
            os.rmdir(path)
        except OSError:
            pass
    assert not leaked, leaked


def _cgroups() -> set[str]:
    return {path for pattern in CGROUP_GLOBS for path in glob.glob(pattern)}


def _container_ids(state_root: Path) -> set[str]:
    return {p.name for p in (state_root / "containers").glob("*")}


def cli(state_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``composer ARGS`` against this test's state root (output captured, 60 s at most)."""
    return subprocess.run([sys.executable, "-m", "composer", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def start(state_root: Path, *args: str, stdin: bool = False) -> subprocess.Popen:
    """Start ``container run ARGS`` in the background (the caller waits/kills it); ``stdin``: a pipe
    (with ``-i`` and a command such as ``read x``, the container lives until the test closes it)."""
    return subprocess.Popen([sys.executable, "-m", "composer", "container", "run", *args],
                            stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def container_cgroup(state_root: Path, controller: str = "", timeout: float = 20) -> str:
    """The cgroup directory (v1: of ``controller``; v2: ``controller`` "") of this test's only
    container, once its PID 1 is in it (other tests may be making containers meanwhile)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = [p.name for p in (state_root / "containers").glob("*")]
        path = os.path.join("/sys/fs/cgroup", controller, "composer", ids[0]) if ids else ""
        if path and os.path.exists(os.path.join(path, "cgroup.procs")):
            with open(os.path.join(path, "cgroup.procs")) as handle:
                if handle.read().strip():
                    return path
        time.sleep(0.05)
    raise AssertionError("the container's cgroup did not appear")
