"""gc's cleaning of the store's tmp/: mounts inside an entry are detached before anything is
removed, links are never followed out of the store, a live build's scratch stays."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from composer.engine.images.catalog import _clean_tmp
from composer.engine.images.store import ImageStore
from composer.engine.runtime.mountinfo import is_mount_point
from composer.engine.runtime import libc

pytestmark = pytest.mark.root


def _aged(path: Path, seconds: float = 7200) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A host directory whose file must survive a bind mount of it being cleaned away."""
    path = tmp_path / "host"
    path.mkdir()
    (path / "precious").write_text("keep me")
    return path


@pytest.fixture
def tmp(state_root: Path) -> Path:
    path = ImageStore().root / "tmp"
    path.mkdir(parents=True)
    return path


def test_a_dead_builds_mounted_view_is_detached_and_the_host_dir_under_it_kept(tmp: Path, host: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    view = tmp / f"build-{gone.pid}-abc" / "view-1"
    view.mkdir(parents=True)
    libc.mount(str(host), str(view), None, libc.MS_BIND)  # what a dead build could leave mounted
    try:
        assert _clean_tmp(ImageStore()) >= 0
        assert not is_mount_point(view) and not view.parent.exists()
    finally:
        if is_mount_point(view):
            libc.umount(str(view), libc.MNT_DETACH)
    assert (host / "precious").read_text() == "keep me"


def test_an_old_unpack_dir_with_a_mount_inside_is_detached_first(tmp: Path, host: Path) -> None:
    inner = tmp / "unpack-old" / "deep" / "point"
    inner.mkdir(parents=True)
    libc.mount(str(host), str(inner), None, libc.MS_BIND)
    _aged(tmp / "unpack-old")
    try:
        _clean_tmp(ImageStore())
        assert not (tmp / "unpack-old").exists()
    finally:
        if is_mount_point(inner):
            libc.umount(str(inner), libc.MNT_DETACH)
    assert (host / "precious").read_text() == "keep me"


def test_a_link_entry_is_removed_never_followed(tmp: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("x" * 1000)
    link = tmp / "unpack-link"
    link.symlink_to(outside)
    _aged(link)
    assert _clean_tmp(ImageStore()) == len(str(outside))  # the link itself, not its target
    assert not os.path.lexists(link) and (outside / "file").is_file()


def test_a_live_builds_old_scratch_and_a_young_entry_stay(tmp: Path) -> None:
    live = tmp / f"build-{os.getpid()}-abc"
    live.mkdir()
    _aged(live)
    young = tmp / "unpack-new"
    young.mkdir()
    _clean_tmp(ImageStore())
    assert live.is_dir() and young.is_dir()


def test_an_entry_whose_mount_cannot_be_detached_is_left_whole(tmp: Path, host: Path, monkeypatch) -> None:
    """A mount that stays (umount refused) keeps its entry: removing it would go through the mount."""
    inner = tmp / "unpack-stuck" / "point"
    inner.mkdir(parents=True)
    libc.mount(str(host), str(inner), None, libc.MS_BIND)
    _aged(tmp / "unpack-stuck")
    try:
        with monkeypatch.context() as patched:
            patched.setattr(libc, "umount", lambda *_: (_ for _ in ()).throw(OSError(1, "refused")))
            assert _clean_tmp(ImageStore()) == 0
        assert is_mount_point(inner) and (inner / "precious").is_file()
    finally:
        if is_mount_point(inner):
            libc.umount(str(inner), libc.MNT_DETACH)
    assert (host / "precious").read_text() == "keep me"
