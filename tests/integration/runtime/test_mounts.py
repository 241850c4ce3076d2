"""Bind mounts, named and anonymous volumes, tmpfs, and paths that try to escape the container."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.root


def _volume(state_root, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "composer", "volume", *args], capture_output=True, text=True,
                          env=dict(os.environ, COMPOSER_ROOT=str(state_root)), timeout=60)


def test_bind_mounts(run, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "in.txt").write_text("from host")
    result = run("--rm", "-v", f"{host}:/mnt", "busybox", "sh", "-c", "cat /mnt/in.txt; echo out > /mnt/out.txt")
    assert result.stdout == "from host" and (host / "out.txt").read_text() == "out\n"
    readonly = run("--rm", "--mount", f"type=bind,source={host},target=/mnt,readonly", "busybox",
                   "touch", "/mnt/x")
    assert readonly.returncode != 0 and "Read-only" in readonly.stderr
    created = tmp_path / "made-by-v"
    assert run("--rm", "-v", f"{created}:/data", "busybox", "true").returncode == 0
    assert created.is_dir()
    missing = run("--rm", "--mount", f"type=bind,source={tmp_path / 'absent'},target=/data", "busybox", "true")
    assert missing.returncode == 125 and str(tmp_path / "absent") in missing.stderr
    assert not (tmp_path / "absent").exists()


def test_named_volume_persists_and_is_populated(run, state_root):
    assert run("--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/file").returncode == 0
    assert run("--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/file").stdout == "kept\n"
    populated = run("--rm", "-v", "etc:/etc", "busybox", "cat", "/etc/group")
    assert "wheel" in populated.stdout
    assert (state_root / "volumes/etc/_data/passwd").exists()
    listing = _volume(state_root, "ls", "-q")
    assert listing.stdout.split() == ["data", "etc"]


def test_anonymous_volume_removed_with_rm(run, state_root):
    assert run("--rm", "-v", "/anon", "busybox", "sh", "-c", "echo x > /anon/f").returncode == 0
    assert _volume(state_root, "ls", "-q").stdout == ""


def test_volume_commands(state_root, image, run):
    assert _volume(state_root, "create", "--label", "a=b", "v1").stdout == "v1\n"
    inspect = _volume(state_root, "inspect", "v1")
    assert '"Labels": {\n            "a": "b"' in inspect.stdout and "/volumes/v1/_data" in inspect.stdout
    assert run("--name", "user", "-v", "v1:/v", "busybox", "true").returncode == 0
    refused = _volume(state_root, "rm", "v1")
    assert refused.returncode != 0 and "in use" in refused.stderr
    assert _volume(state_root, "create", "v2").returncode == 0
    assert _volume(state_root, "prune", "-a", "-f").stdout == "Deleted Volumes:\nv2\n\nTotal reclaimed space: 0B\n"
    bad = _volume(state_root, "create", "../escape")
    assert bad.returncode != 0 and "includes invalid characters for a local volume name" in bad.stderr
    assert _volume(state_root, "inspect", "nope").returncode != 0


def test_tmpfs_and_shm_size(run):
    result = run("--rm", "--tmpfs", "/t:size=1m", "--shm-size", "8m", "busybox", "sh", "-c",
                 "grep -E ' /t | /dev/shm ' /proc/mounts")
    assert "size=1024k" in result.stdout and "size=8192k" in result.stdout, result.stdout + result.stderr


def test_crafted_image_cannot_escape(state_root, image, tmp_path, run):
    """An image whose /etc/hostname and mount targets are symlinks to host paths stays inside."""
    from composer.engine.images.store import ImageStore
    from tests.fixtures.rootfs import build_busybox_rootfs

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "hostname").write_text("untouched")
    rootfs = build_busybox_rootfs(tmp_path / "evil")
    depth = "../" * 20
    os.symlink(f"/{depth}{victim}/hostname".replace("//", "/"), rootfs / "etc/hostname")
    os.symlink(f"/{depth}{victim}", rootfs / "data")  # relative climbers are refused by the store
    os.symlink(f"/{depth}{victim}/vol", rootfs / "vol")
    ImageStore().import_rootfs(rootfs, "evil:latest")
    source = tmp_path / "src"
    source.mkdir()
    result = run("--rm", "-v", f"{source}:/data", "-v", "evilvol:/vol", "--tmpfs", "/data/sub",
                 "evil", "sh", "-c", "echo pwned > /data/f; echo pwned > /vol/g; cat /etc/hostname; true")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(victim)) == ["hostname"]
    assert (victim / "hostname").read_text() == "untouched"
    assert (source / "f").read_text() == "pwned\n"


def test_many_layers_overflow_the_option_page(state_root, image, run, tmp_path):
    """An image with 60 layers (lowerdir longer than a page) still mounts."""
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.config import ContainerConfig
    from composer.engine.runtime import libc
    from composer.engine.runtime.linux import run_foreground

    base = ImageStore().resolve("busybox")
    layers = [str(p) for p in base.layer_dirs]
    for index in range(60):
        layer = state_root / "images" / "snapshots" / f"{index:064x}"
        (layer / "layers").mkdir(parents=True)
        (layer / "layers" / f"l{index}").write_text(str(index))
        layers.append(str(layer))
    result = run("--rm", "busybox", "true")
    assert result.returncode == 0
    config = ContainerConfig(id="f" * 64, name="many-layers", image="x", image_id="x", layers=layers,
                             args=["sh", "-c", "test $(ls /layers | wc -l) = 60"], env=["PATH=/bin"], auto_remove=True)
    assert run_foreground(config).exit_code == 0
    assert not libc.get_child_subreaper()  # the caller's process is left as it was


def test_bind_propagation(run, tmp_path):
    """``bind-propagation=rshared`` makes the container's mount a shared one (a peer group in its
    mountinfo); the default (rprivate) shares nothing."""
    host = tmp_path / "shared"
    host.mkdir()
    probe = "grep ' /mnt ' /proc/self/mountinfo"
    shared = run("--rm", "--network", "none", "--mount", f"type=bind,source={host},target=/mnt,bind-propagation=rshared",
                 "busybox", "sh", "-c", probe)
    assert "shared:" in shared.stdout, shared.stdout + shared.stderr
    private = run("--rm", "--network", "none", "-v", f"{host}:/mnt", "busybox", "sh", "-c", probe)
    assert private.returncode == 0 and "shared:" not in private.stdout and "master:" not in private.stdout


def test_volume_subpath_stays_inside_the_volume(run, state_root):
    """``--mount ...,volume-subpath=``: a directory of the volume; ``..`` is refused, and symlinks in
    the volume resolve inside it (an absolute link to /etc means the volume's etc, not the host's)."""
    made = run("--rm", "--network", "none", "-v", "sub:/v", "busybox", "sh", "-c",
               "mkdir -p /v/dir && echo inside > /v/dir/file && ln -s /etc /v/hostetc && ln -s ../../../../.. /v/up")
    assert made.returncode == 0, made.stderr
    mount = "type=volume,source=sub,target=/m,volume-subpath="
    inside = run("--rm", "--network", "none", "--mount", mount + "dir", "busybox", "cat", "/m/file")
    assert inside.returncode == 0 and inside.stdout == "inside\n", inside.stderr
    climbing = run("--rm", "--network", "none", "--mount", mount + "../escape", "busybox", "true")
    assert climbing.returncode != 0 and "subpath must be a relative path within the volume" in climbing.stderr
    linked = run("--rm", "--network", "none", "--mount", mount + "hostetc", "busybox", "ls", "/m")
    assert linked.returncode != 0 and "cannot access volume subpath" in linked.stderr, linked.stdout
    up = run("--rm", "--network", "none", "--mount", mount + "up", "busybox", "ls", "/m")
    assert up.returncode == 0 and set(up.stdout.split()) == {"dir", "hostetc", "up"}, up.stdout + up.stderr
    assert "Traceback" not in climbing.stderr + linked.stderr
