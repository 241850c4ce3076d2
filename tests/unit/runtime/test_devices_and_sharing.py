"""--device parsing and resolution, the v1 device rules, container:NAME namespace flags, cgroup self-join."""

from __future__ import annotations

import pytest

from composer.engine.runtime.config import parse_device
from composer.engine.runtime import libc
from composer.engine.runtime.cgroups import manager_for
from composer.engine.runtime.config import ContainerConfig, Device, Resources
from composer.engine.runtime.namespaces import clone_flags
from composer.engine.runtime.netjoin import network_joins
from composer.engine.runtime.rootfs import device_nodes, overlay_options
from composer.errors import ContainerRuntimeError, UsageError


@pytest.mark.parametrize(("flag", "expected"), [
    ("/dev/fuse", Device(path_on_host="/dev/fuse", path_in_container="/dev/fuse", permissions="rwm")),
    ("/dev/sda:/dev/xvdc", Device(path_on_host="/dev/sda", path_in_container="/dev/xvdc", permissions="rwm")),
    ("/dev/sda:/dev/xvdc:r", Device(path_on_host="/dev/sda", path_in_container="/dev/xvdc", permissions="r")),
    ("/dev/sda:rw", Device(path_on_host="/dev/sda", path_in_container="/dev/sda", permissions="rw")),
])
def test_parse_device(flag, expected):
    assert parse_device(flag) == expected


@pytest.mark.parametrize("flag", ["sda", "/dev/a:/dev/b:/dev/c", "/dev/a:xyz", "/dev/a:b"])
def test_parse_device_refuses(flag):
    with pytest.raises(UsageError, match="invalid device mapping"):
        parse_device(flag)


def test_device_nodes_from_the_host(tmp_path):
    (node,) = device_nodes([Device(path_on_host="/dev/null", path_in_container="/dev/n", permissions="rw")])
    assert (node.path, node.kind, node.major, node.minor, node.cgroup_rule()) == ("/dev/n", "c", 1, 3, "c 1:3 rw")
    (tmp_path / "file").write_text("")
    with pytest.raises(ContainerRuntimeError, match="is not a device node"):
        device_nodes([Device(path_on_host=str(tmp_path / "file"))])
    with pytest.raises(ContainerRuntimeError, match="/dev/no-such-device"):
        device_nodes([Device(path_on_host="/dev/no-such-device")])


def test_v1_device_rules_and_self_join_files(tmp_path):
    for controller in ("devices", "pids"):
        (tmp_path / controller).mkdir()
    manager = manager_for("c1", root=str(tmp_path), setup="hybrid")
    manager.create(Resources(), device_rules=("c 10:229 rwm",))
    assert (tmp_path / "devices/composer/c1/devices.allow").read_text().endswith("c 10:200 rwmc 10:229 rwm")  # a write per rule
    assert sorted(manager.self_join_files()) == [str(tmp_path / "devices/composer/c1/tasks"),
                                                 str(tmp_path / "pids/composer/c1/tasks")]
    assert manager_for("c1", root=str(tmp_path), setup="unified").self_join_files() == []


def _config(**fields) -> ContainerConfig:
    return ContainerConfig(id="x", name="x", image="i", image_id="i", layers=[], args=["true"], env=[], **fields)


def test_container_modes_share_instead_of_unsharing():
    flags = clone_flags(_config(pid_mode="container:a", ipc_mode="container:a", network="container:a"))
    assert not flags & (libc.CLONE_NEWPID | libc.CLONE_NEWIPC | libc.CLONE_NEWNET)
    assert flags & libc.CLONE_NEWNS and flags & libc.CLONE_NEWUTS
    assert network_joins(_config(network="container:a")) == []


def test_volatile_overlay_only_when_asked():
    assert overlay_options(["/a", "/b"], "/u", "/w") == "lowerdir=/b:/a,upperdir=/u,workdir=/w"
    assert overlay_options(["/a"], "/u", "/w", volatile=True).endswith(",volatile")


def test_config_round_trip_keeps_devices():
    config = _config(devices=[Device(path_on_host="/dev/fuse")])
    assert ContainerConfig.from_dict(config.to_dict()).devices == config.devices


def test_subordinate_range(tmp_path):
    from composer.engine.runtime.userdb import DEFAULT_SUBORDINATE_RANGE, subordinate_range

    path = tmp_path / "subuid"
    path.write_text("alice:100000:65536\ncomposer:200000:70000\n")
    assert subordinate_range(str(path)) == (200000, 70000)
    assert subordinate_range(str(path), owner="bob") == DEFAULT_SUBORDINATE_RANGE
    assert subordinate_range(str(tmp_path / "missing")) == DEFAULT_SUBORDINATE_RANGE


def test_compose_devices_become_runtime_devices():
    """convert keeps the long syntax's target and permissions; the adapter parses them like --device."""
    from composer.engine.runtime.config import parse_device

    short, long_form, bare = ("/dev/null:/dev/mynull", "/dev/fuse:/dev/f:r", "/dev/kvm")
    assert parse_device(short).to_dict() == {"path_on_host": "/dev/null", "path_in_container": "/dev/mynull",
                                             "permissions": "rwm"}
    assert parse_device(long_form).permissions == "r"
    assert parse_device(bare).path_in_container == "/dev/kvm"


def test_id_blocks_are_per_container_and_reused(state_root):
    """--userns private: each container its own 65536 ids; its own block again on restart; a
    removed container's block is free; a full range is a clear error."""
    import pytest

    from composer.engine.runtime.userdb import ID_BLOCK, claim_id_block
    from composer.errors import ContainerRuntimeError

    ranges = ((100000, 3 * ID_BLOCK), (200000, 3 * ID_BLOCK))
    assert claim_id_block("e", (100000, 1000), (100000, 1000)) == (100000, 100000, 1000)  # a small range: one block
    for name in ("a", "b", "c"):  # (e has no state dir: its claim is stale)
        (state_root / "containers" / name).mkdir(parents=True)
    assert claim_id_block("a", *ranges) == (100000, 200000, ID_BLOCK)
    assert claim_id_block("b", *ranges) == (100000 + ID_BLOCK, 200000 + ID_BLOCK, ID_BLOCK)
    assert claim_id_block("a", *ranges) == (100000, 200000, ID_BLOCK)  # a restart keeps its ids
    assert claim_id_block("c", *ranges)[0] == 100000 + 2 * ID_BLOCK
    (state_root / "containers" / "d").mkdir()
    with pytest.raises(ContainerRuntimeError, match="no free subordinate ids"):
        claim_id_block("d", *ranges)
    (state_root / "containers" / "b").rmdir()  # b was removed: its block goes to d
    assert claim_id_block("d", *ranges)[0] == 100000 + ID_BLOCK


def test_id_block_claims_are_links_both_ways(state_root, monkeypatch):
    """A claim reads the blocks only up to the first free one, and a restart only its own link."""
    import os

    from composer.engine.runtime import userdb

    ranges = ((100000, 4 * userdb.ID_BLOCK), (200000, 4 * userdb.ID_BLOCK))
    for name in ("a", "b"):
        (state_root / "containers" / name).mkdir(parents=True)
        userdb.claim_id_block(name, *ranges)
    claims = state_root / "userns"
    assert os.readlink(claims / "1") == "b" and os.readlink(claims / "by-id" / "b") == "1"
    (state_root / "containers" / "a").rmdir()
    (state_root / "containers" / "c").mkdir()
    read: list[str] = []
    real_link = userdb._link
    monkeypatch.setattr(userdb, "_link", lambda path: read.append(os.path.basename(path)) or real_link(path))
    assert userdb.claim_id_block("c", *ranges)[0] == 100000  # a's block: a was removed
    assert read == ["c", "0", "0"]  # its own (none), block 0 (free), block 0's stale holder
    assert not (claims / "by-id" / "a").exists() and os.readlink(claims / "by-id" / "c") == "0"
    read.clear()
    assert userdb.claim_id_block("b", *ranges)[0] == 100000 + userdb.ID_BLOCK
    assert read == ["b", "1"]  # a restart: its link and the block's, nothing else
