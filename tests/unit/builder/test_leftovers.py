"""A build first removes what killed builds left: scratch directories (views unmounted first)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from composer.engine.build.leftovers import remove_killed_builds, scratch_prefix
from composer.engine.runtime import libc

pytestmark = pytest.mark.root


def test_a_dead_builds_scratch_goes_with_its_mounted_view(tmp_path: Path, state_root: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    dead, mine = tmp_path / f"build-{gone.pid}-abc", tmp_path / f"{scratch_prefix()}def"
    view = dead / "view-1"
    view.mkdir(parents=True)
    mine.mkdir()
    (tmp_path / "unpack-xyz").mkdir()
    libc.mount("tmpfs", str(view), "tmpfs")
    try:
        remove_killed_builds(tmp_path)
        with open("/proc/self/mountinfo") as handle:
            assert str(view) not in handle.read()
    finally:
        if os.path.ismount(view):
            libc.umount(str(view), libc.MNT_DETACH)
    assert not dead.exists() and mine.is_dir() and (tmp_path / "unpack-xyz").is_dir()
