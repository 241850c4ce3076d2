"""Pure helpers of the runtime: secure_join, capabilities, users, /etc files, mount parsing."""

from __future__ import annotations

import os

import pytest

from composer.engine.runtime import capabilities
from composer.engine.runtime.etcfiles import hosts_text, write_etc_files
from composer.engine.runtime.mounts import check_bind_source, parse_mount_flag, parse_volume_flag
from composer.engine.runtime.paths import secure_join
from composer.engine.runtime.rootfs import overlay_options
from composer.engine.runtime.userdb import resolve_user
from composer.errors import ContainerRuntimeError, ContainerStateError, MountError, UsageError


def test_secure_join_stays_inside(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/../../../../etc/passwd", root / "etc/abs")
    os.symlink("../../../../../etc", root / "etc/rel")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    assert secure_join(str(root), "/etc/abs") == f"{root}/etc/passwd"
    assert secure_join(str(root), "/etc/rel/shadow") == f"{root}/etc/shadow"
    assert secure_join(str(root), "../../x/./y") == f"{root}/x/y"
    with pytest.raises(OSError):
        secure_join(str(root), "/loop1")


def test_default_capabilities_match_docker():
    assert capabilities.effective_mask([], []) == 0xA80425FB
    assert capabilities.effective_mask(["ALL"], ["NET_RAW"]) & (1 << 13) == 0
    assert capabilities.effective_mask([], ["ALL"]) == 0
    with pytest.raises(ContainerRuntimeError, match="unknown capability"):
        capabilities.effective_mask(["NOPE"], [])


def test_resolve_user(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:100:101:app:/home/app:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\napp:x:101:\nextra:x:200:app,other\n")
    assert resolve_user("", str(tmp_path)) == (0, 0, [0], "/root")
    assert resolve_user("app", str(tmp_path)) == (100, 101, [101, 200], "/home/app")
    assert resolve_user("app:root", str(tmp_path)) == (100, 0, [0, 200], "/home/app")
    assert resolve_user("4242:4343", str(tmp_path)) == (4242, 4343, [4343], "/")
    with pytest.raises(ContainerRuntimeError, match="nobody"):
        resolve_user("nobody", str(tmp_path))


def test_etc_files(tmp_path):
    write_etc_files(str(tmp_path), "web", "none", ["db:10.0.0.2"], address=None, resolv_conf="nameserver 1.1.1.1\n")
    assert (tmp_path / "hostname").read_text() == "web\n"
    assert "10.0.0.2\tdb" in (tmp_path / "hosts").read_text()
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 1.1.1.1\n"
    assert hosts_text("web", "172.17.0.2", []).endswith("172.17.0.2\tweb\n")


def test_overlay_lowerdir_is_top_first():
    assert overlay_options(["/bottom", "/top"], "/u", "/w") == "lowerdir=/top:/bottom,upperdir=/u,workdir=/w"


def test_mount_parsing_and_sources(tmp_path):
    assert parse_volume_flag("/a:/b:ro,rshared").propagation == "rshared"
    with pytest.raises(UsageError):
        parse_volume_flag("a:relative")
    with pytest.raises(UsageError):
        parse_mount_flag("type=bind,target=/x")
    with pytest.raises(UsageError):
        parse_mount_flag("type=nfs,target=/x")
    missing = parse_mount_flag(f"type=bind,src={tmp_path}/nope,dst=/x")
    with pytest.raises(MountError, match=f"{tmp_path}/nope"):
        check_bind_source(missing)
    created = parse_volume_flag(f"{tmp_path}/new:/x")
    check_bind_source(created)
    assert (tmp_path / "new").is_dir()


def test_tmpfs_flags():
    from composer.engine.runtime import libc
    from composer.engine.runtime.config import Mount
    from composer.engine.runtime.rootfs import tmpfs_flags

    flags, data = tmpfs_flags(Mount(type="tmpfs", target="/t", options="size=1m,exec,mode=1777"))
    assert data == "size=1m,mode=1777"
    assert flags & libc.MS_NOSUID and flags & libc.MS_NODEV and not flags & libc.MS_NOEXEC


def test_container_names():
    from composer.engine.runtime.state import check_name

    check_name("web_1.a-b")
    for bad in ("../etc", "a/b", "-x", "x", ".hidden", "a b"):
        with pytest.raises(ContainerStateError, match=r"^Invalid container name \(.*\), only \[a-zA-Z0-9\]"):
            check_name(bad)


def test_volume_subpath_parsing():
    assert parse_mount_flag("type=volume,src=v,dst=/m,volume-subpath=a/b").subpath == "a/b"
    assert parse_mount_flag("type=volume,src=v,dst=/m,volume-subpath=a/../b").subpath == "a/../b"  # stays inside
    for bad in ("/abs", "../up", "a/../../up"):
        with pytest.raises(UsageError, match="subpath must be a relative path within the volume"):
            parse_mount_flag(f"type=volume,src=v,dst=/m,volume-subpath={bad}")
    with pytest.raises(UsageError, match="unexpected key 'volume-driver'"):
        parse_mount_flag("type=volume,src=v,dst=/m,volume-driver=nfs")
    assert parse_mount_flag("type=bind,src=/h,dst=/m,consistency=cached").source == "/h"  # ignored, as docker
    assert parse_mount_flag("type=volume,src=v,dst=/m,volume-driver=local").source == "v"


def test_cgroup_hierarchies_from_mounts():
    from composer.engine.runtime.rootfs import cgroup_hierarchies

    hybrid = ("tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
              "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
              "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
              "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,xattr,name=systemd 0 0\n"
              "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n"
              "proc /proc proc rw 0 0\n")
    assert cgroup_hierarchies(hybrid) == [("cpu,cpuacct", "cgroup", "cpu,cpuacct"), ("memory", "cgroup", "memory")]
    assert cgroup_hierarchies("cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nsdelegate 0 0\n") == [("", "cgroup2", "")]


def test_co_mounted_cgroup_controllers_get_docker_s_links(tmp_path, monkeypatch):
    """/sys/fs/cgroup/cpu,cpuacct in the container: ``cpu`` and ``cpuacct`` link to it, as docker's."""
    from composer.engine.runtime import libc, rootfs

    monkeypatch.setattr(rootfs, "CGROUP_ROOT", str(tmp_path))
    monkeypatch.setattr(libc, "mount", lambda *args: None)
    rootfs.mount_cgroups([("cpu,cpuacct", "cgroup", "cpu,cpuacct"), ("memory", "cgroup", "memory")], True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpu", "cpu,cpuacct", "cpuacct", "memory"]
    assert (tmp_path / "cpu").readlink().name == "cpu,cpuacct" and not (tmp_path / "memory").is_symlink()
