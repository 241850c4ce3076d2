"""A build first removes what killed builds left: scratch directories (views unmounted first)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from composer.engine.build.leftovers import remove_killed_builds, scratch_prefix
from composer.engine.runtime import libc
from composer.engine.runtime.state import ContainerDir

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


KILLED_WHILE_CREATED = """
import os, signal, sys
from pathlib import Path
from composer.engine.build.running import step_config
from composer.engine.runtime.linux import ForegroundRun
from composer.engine.runtime.state import write_json_atomic

config = step_config([Path(sys.argv[1])], ["true"], [], cwd="/", user="", network="none")
run = ForegroundRun(config)
run.prepare()
write_json_atomic(run.cdir.config, config.to_dict())  # start()'s first write: the container is "created"
print(config.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the build dies before the container starts
"""


def _created_by_a_killed_build(rootfs: Path) -> str:
    import sys

    child = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATED, str(rootfs)], capture_output=True,
                           text=True, timeout=60)
    assert child.returncode == -9, child.stderr
    return child.stdout.strip()


def test_a_step_container_left_created_by_a_killed_build_is_removed(busybox_rootfs: Path, state_root: Path) -> None:
    from composer.engine.runtime.containers import list_containers
    from composer.engine.runtime.state import names_root

    container_id = _created_by_a_killed_build(busybox_rootfs)
    listed = {info.id: info.state for info in list_containers(all=True)}
    assert listed == {container_id: "created"}  # what `ps -a` showed for good before
    assert remove_killed_builds(state_root / "images/tmp") == 1
    assert list_containers(all=True) == [] and os.listdir(names_root()) == []
    assert not (state_root / "containers" / container_id).exists()


def test_a_live_builders_created_step_container_is_kept(busybox_rootfs: Path, state_root: Path) -> None:
    """Labelled with this (running) process as its builder: not a leftover, whatever its state."""
    from composer.engine.build.running import step_config
    from composer.engine.runtime.containers import remove
    from composer.engine.runtime.linux import create_state

    config = step_config([busybox_rootfs], ["true"], [], cwd="/", user="", network="none")
    create_state(config, ContainerDir(config.id))
    try:
        assert remove_killed_builds(state_root / "images/tmp") == 0
        assert os.path.isfile(ContainerDir(config.id).config)
    finally:
        remove(config.id, force=True)


def test_a_step_state_dir_without_config_goes_only_once_abandoned(state_root: Path) -> None:
    """Killed between claiming the name and writing config.json: removed after ABANDONED_AFTER."""
    import time

    from composer.engine.build.leftovers import ABANDONED_AFTER, CONTAINER_PREFIX
    from composer.engine.runtime.state import claim_name, names_root

    container_id = "e" * 64
    name = f"{CONTAINER_PREFIX}{container_id[:12]}"
    claim_name(name, container_id)
    cdir = ContainerDir(container_id)
    cdir.create()
    assert remove_killed_builds(state_root / "images/tmp") == 0 and os.path.isdir(cdir.path)
    old = time.time() - ABANDONED_AFTER - 5
    os.utime(cdir.path, (old, old))
    assert remove_killed_builds(state_root / "images/tmp") == 1
    assert not os.path.exists(cdir.path) and name not in os.listdir(names_root())


def test_a_step_name_claimed_without_a_state_dir_goes_once_abandoned(state_root: Path) -> None:
    """Killed between claiming the name and making the directory: the name is released too."""
    import time

    from composer.engine.build.leftovers import ABANDONED_AFTER, CONTAINER_PREFIX
    from composer.engine.runtime.state import claim_name, names_root

    container_id = "f" * 64
    name = f"{CONTAINER_PREFIX}{container_id[:12]}"
    claim_name(name, container_id)
    assert remove_killed_builds(state_root / "images/tmp") == 0 and name in os.listdir(names_root())
    old = time.time() - ABANDONED_AFTER - 5
    os.utime(os.path.join(names_root(), name), (old, old))
    assert remove_killed_builds(state_root / "images/tmp") == 1
    assert name not in os.listdir(names_root()) and not os.path.exists(ContainerDir(container_id).path)


def test_builder_prune_removes_killed_builds_and_dangling_cache(busybox_rootfs: Path, state_root: Path,
                                                                composer) -> None:
    """`builder prune -f`: a killed build's step container goes, and a cache entry whose record
    the store lost (dangling); `-a` then drops the entries that still have one."""
    from composer.engine.build.cache import CacheIndex
    from composer.engine.build.executor import builder_root
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.containers import list_containers

    _created_by_a_killed_build(busybox_rootfs)
    cache, store = CacheIndex(builder_root() / "cache"), ImageStore()
    dangling, kept = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    cache.record(dangling, "sha256:" + "3" * 64)
    cache.record(kept, store.blobs.put(b'{"record": 1}'))
    pruned = composer("builder", "prune", "-f")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith(f"Deleted build cache objects:\n{'1' * 64}\n\nTotal reclaimed space: ")
    assert list_containers(all=True) == [] and [key for key, _ in cache.entries()] == [kept]
    assert composer("builder", "prune", "-a", "-f").returncode == 0
    assert list(cache.entries()) == []


def test_image_prune_removes_a_killed_builds_step_container(busybox_rootfs: Path, state_root: Path,
                                                            composer) -> None:
    from composer.engine.runtime.containers import list_containers

    _created_by_a_killed_build(busybox_rootfs)
    pruned = composer("image", "prune", "-f")
    assert pruned.returncode == 0, pruned.stderr
    assert list_containers(all=True) == []


def test_prune_prompts_are_dockers_and_no_answer_removes_nothing(state_root: Path, composer) -> None:
    """`builder prune` and `image prune` without -f ask as docker does; "n" (or no answer) keeps all."""
    from composer.engine.build.cache import CacheIndex
    from composer.engine.build.executor import builder_root

    cache = CacheIndex(builder_root() / "cache")
    cache.record("sha256:" + "1" * 64, "sha256:" + "3" * 64)  # dangling: `builder prune -f` would drop it
    asked = composer("builder", "prune", input="n\n")
    assert (asked.returncode, asked.stdout) == (0, "WARNING! This will remove all dangling build cache.\n"
                                                   "Are you sure you want to continue? [y/N] ")
    assert composer("builder", "prune", "-a", input="").stdout.startswith("WARNING! This will remove all build cache.\n")
    assert [key for key, _ in cache.entries()] == ["sha256:" + "1" * 64]
    asked = composer("image", "prune", input="")
    assert (asked.returncode, asked.stdout) == (0, "WARNING! This will remove all dangling images.\n"
                                                   "Are you sure you want to continue? [y/N] ")
