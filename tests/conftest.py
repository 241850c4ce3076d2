"""Shared fixtures: a private state root per test, helpers to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def state_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary COMPOSER_ROOT so tests never touch /var/lib/composer. At the end its containers
    and networks are removed; a bridge or nftables table of it still on the host then fails the
    test (``tests/fixtures/leftovers.py``)."""
    from tests.fixtures.leftovers import host_leftovers, release_state_root, remove_leftovers

    root = tmp_path / "composer-root"
    root.mkdir()
    monkeypatch.setenv("COMPOSER_ROOT", str(root))
    yield root
    kept = release_state_root(root)
    leftovers = host_leftovers(root)
    if kept or leftovers:
        remove_leftovers(root, leftovers)
        pytest.fail(f"the test's state root left {', '.join(kept + leftovers)} on the host after its teardown")


def run_composer(*args: str, cwd: Path | None = None, input: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the composer CLI in a subprocess and capture its output."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "composer", *args],
        cwd=cwd, input=input, env=full_env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def composer():
    """The ``run_composer`` helper as a fixture."""
    return run_composer


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox root filesystem directory, built once per test session (read-only by convention)."""
    from tests.fixtures.rootfs import build_busybox_rootfs

    return build_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")
from tests.fixtures.images import busybox_image, busybox_tar, debian_tarball  # noqa: E402,F401
from tests.fixtures.registry import auth_registry, docker_config, registry  # noqa: E402,F401
