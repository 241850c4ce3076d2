"""What a remover killed half-way leaves in the root's ``removing/``: the next ``rm`` or prune
deletes it, but never an entry whose remover still runs, whose container exists, with a mount
inside or that a process uses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _leftover(state_root: Path, name: str) -> Path:
    """A half-deleted container directory as ``ContainerDir.remove`` leaves it."""
    entry = state_root / "removing" / name
    (entry / "rootfs" / "etc").mkdir(parents=True)
    (entry / "rootfs" / "etc" / "hostname").write_text("gone\n")
    (entry / "state.json").write_text("{}")
    return entry


def test_rm_finishes_a_killed_removal(state_root: Path, image) -> None:
    entry = _leftover(state_root, f"{'a' * 64}.{_dead_pid()}")
    created = cli(state_root, "container", "create", "busybox", "true")
    assert created.returncode == 0, created.stderr
    removed = cli(state_root, "container", "rm", created.stdout.strip())
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists() and list((state_root / "removing").iterdir()) == []


def test_only_surely_abandoned_entries_go(state_root: Path, tmp_path: Path) -> None:
    from composer.engine.runtime import libc, removing

    gone = _leftover(state_root, f"{'b' * 64}.{_dead_pid()}")
    removing_now = _leftover(state_root, f"{'c' * 64}.{os.getpid()}")  # its remover runs
    container = state_root / "containers" / ("d" * 64)
    container.mkdir(parents=True)
    existing = _leftover(state_root, f"{'d' * 64}.{_dead_pid()}")  # its container exists
    mounted = _leftover(state_root, f"{'e' * 64}.{_dead_pid()}")
    used = _leftover(state_root, f"{'f' * 64}.{_dead_pid()}")
    holder = subprocess.Popen(["sleep", "60"], cwd=used / "rootfs")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mounted / "rootfs")], check=True)
    try:
        assert removing.sweep(str(state_root / "containers")) == [gone.name]
        assert all(entry.is_dir() for entry in (removing_now, existing, mounted, used))
    finally:
        holder.kill()
        holder.wait()
        libc.umount(str(mounted / "rootfs"), libc.MNT_DETACH)
    container.rmdir()
    left = removing.sweep(str(state_root / "containers"))
    assert sorted(left) == sorted([existing.name, mounted.name, used.name])
    assert [entry.name for entry in (state_root / "removing").iterdir()] == [removing_now.name]


def test_a_command_sweeps_a_root_once(state_root: Path) -> None:
    """``down``/``prune`` remove many containers: the first removal sweeps, the others do not
    (each sweep may scan /proc)."""
    from composer.engine.runtime import removing

    containers = str(state_root / "containers")
    first = _leftover(state_root, f"{'a' * 64}.{_dead_pid()}")
    removing.sweep_once(containers)
    assert not first.exists()
    second = _leftover(state_root, f"{'b' * 64}.{_dead_pid()}")
    removing.sweep_once(containers)
    assert second.is_dir()
    assert removing.sweep(containers) == [second.name]
