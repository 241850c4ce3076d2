"""Seccomp compilation (docker and our format, cached) and the volume store."""

from __future__ import annotations

import json

import pytest

from composer.engine.runtime import seccomp
from composer.engine.volumes import VolumeStore, copy_tree
from composer.errors import ContainerRuntimeError, VolumeError


def test_default_profile_compiles_and_caches(state_root):
    program = seccomp.filter_for(seccomp.DEFAULT_PROFILE, 0xA80425FB)
    assert len(program) % 8 == 0 and len(program) > 800
    assert seccomp.filter_for(seccomp.DEFAULT_PROFILE, 0xA80425FB) == program
    assert len(list((state_root / "cache/seccomp").glob("*.bpf"))) == 1
    assert seccomp.filter_for(seccomp.DEFAULT_PROFILE, 0xA80425FB | (1 << 21)) != program


def test_docker_format_translation():
    docker = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["s390_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]}
    ours = seccomp._from_docker(docker)
    assert [r["names"] for r in ours["rules"]] == [["read"], ["mount"], ["clone"]]
    assert ours["rules"][1]["ifCap"] == "SYS_ADMIN"
    assert ours["rules"][2]["args"] == [[0, "masked_eq", 2114060288, 0]]


def test_bad_profile(tmp_path, state_root):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ContainerRuntimeError, match="bad.json"):
        seccomp.filter_for(str(bad), 0)
    with pytest.raises(ContainerRuntimeError, match="missing.json"):
        seccomp.filter_for(str(tmp_path / "missing.json"), 0)


def test_volume_store(state_root, tmp_path):
    store = VolumeStore()
    meta = store.create("data", {"a": "b"})
    assert meta["Name"] == "data" and meta["Mountpoint"].endswith("/volumes/data/_data")
    assert store.create("data")["Labels"] == {"a": "b"}  # idempotent
    assert store.claim_population("data") and not store.claim_population("data")
    assert "Populated" not in meta and "Populated" not in store.inspect("data")
    record = store.ensure("fresh")  # a start's read: volume.json as it is, handed to claim_population
    assert record["Populated"] is False and "Mountpoint" not in record
    assert store.claim_population("fresh", record) and not store.claim_population("fresh")
    store.remove("fresh")
    store.create("anon", {"com.docker.volume.anonymous": ""})
    assert [v["Name"] for v in store.list()] == ["anon", "data"]
    with pytest.raises(VolumeError, match="in use"):
        store.remove("data", {"data"})
    assert store.prune(set()) == ["anon"]
    store.remove("data")
    assert store.list() == []
    for name in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(VolumeError):
            store.create(name)


def test_volume_names_of_a_config():
    from composer.engine.runtime.config import ContainerConfig, Mount

    config = ContainerConfig(id="c", name="n", image="i", image_id="", layers=[], args=[], env=[], mounts=[
        Mount(type="volume", target="/b", source="b"), Mount(type="volume", target="/a", source="a"),
        Mount(type="volume", target="/a2", source="a"), Mount(type="bind", target="/h", source="/h"),
        Mount(type="volume", target="/x", source="f00", anonymous=True), Mount(type="tmpfs", target="/t")])
    assert config.volume_names() == ["a", "b", "f00"]
    assert config.volume_names(anonymous=False) == ["a", "b"]


def test_copy_tree_keeps_links_and_modes(tmp_path):
    source, target = tmp_path / "s", tmp_path / "t"
    (source / "d").mkdir(parents=True)
    (source / "d/f").write_text("x")
    (source / "d/f").chmod(0o640)
    (source / "link").symlink_to("/etc/passwd")
    target.mkdir()
    copy_tree(str(source), str(target))
    assert (target / "d/f").read_text() == "x" and (target / "d/f").stat().st_mode & 0o777 == 0o640
    assert (target / "link").is_symlink() and str((target / "link").readlink()) == "/etc/passwd"
    assert json.dumps(sorted(p.name for p in target.iterdir())) == '["d", "link"]'
