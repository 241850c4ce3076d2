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


def test_a_user_container_named_like_a_build_step_is_kept(state_root: Path) -> None:
    """Only composer's own step containers (image "(build)") are removed: a user's container named
    composer-build-... whose supervisor died (a reboot) stays, as docker keeps it in ps -a."""
    import json

    from composer.engine.runtime.state import ContainerDir, claim_name

    gone = subprocess.Popen(["true"])
    gone.wait()
    container_id = "f" * 64
    cdir = ContainerDir(container_id)
    cdir.create()
    with open(cdir.config, "w") as handle:
        json.dump({"id": container_id, "name": "composer-build-mine", "image": "busybox", "image_id": ""}, handle)
    with open(cdir.state, "w") as handle:
        json.dump({"Status": "running", "Running": True, "Pid": gone.pid, "SupervisorPid": gone.pid}, handle)
    claim_name("composer-build-mine", container_id)
    remove_killed_builds(state_root / "images/tmp")
    assert os.path.isfile(cdir.config) and json.load(open(cdir.state))["Status"] == "running"


def test_a_view_under_a_path_with_a_space_is_unmounted_first(tmp_path: Path, state_root: Path) -> None:
    """mountinfo writes a space as \\040: the view is still found, unmounted, and the scratch removed."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    tmp = tmp_path / "my store" / "tmp"
    view = tmp / f"build-{gone.pid}-abc" / "view-1"
    view.mkdir(parents=True)
    libc.mount("tmpfs", str(view), "tmpfs")
    try:
        remove_killed_builds(tmp)
        assert not os.path.ismount(view)
    finally:
        if os.path.ismount(view):
            libc.umount(str(view), libc.MNT_DETACH)
    assert list(tmp.iterdir()) == []
