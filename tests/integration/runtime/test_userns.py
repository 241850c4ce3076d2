"""``--userns private``: a user namespace whose root is an unprivileged host id (docker's userns-remap)."""

from __future__ import annotations

import pytest

from composer.engine.runtime.userdb import ID_BLOCK, subordinate_range

pytestmark = pytest.mark.root


def test_root_inside_is_unprivileged_outside(run, state_root):
    first, count = subordinate_range("/etc/subuid")
    result = run("--name", "remapped", "--network", "none", "--userns", "private", "busybox", "sh", "-c",
                 "id -u; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /etc; touch /etc/made && echo made;"
                 " cat /proc/self/status | grep CapEff")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(first), str(min(count, ID_BLOCK))]  # the first free block
    assert lines[2:4] == ["0:0", "0:0"]  # the image's files are root's, through idmapped layers
    assert "made" in lines
    assert lines[-1].split()[1] == "00000000a80425fb"  # docker's default set, inside the namespace
    (directory,) = (state_root / "containers").iterdir()
    made = directory / "upper" / "etc" / "made"
    assert (made.stat().st_uid, made.stat().st_gid) == (first, subordinate_range("/etc/subgid")[0])


def test_private_userns_with_rm_and_default_devices(run, state_root):
    result = run("--rm", "--network", "none", "--userns", "private", "busybox", "sh", "-c",
                 "echo x > /dev/null && head -c 4 /dev/zero | wc -c && hostname")
    assert result.returncode == 0 and result.stdout.split()[0] == "4", result.stderr
    assert list((state_root / "containers").iterdir()) == []


@pytest.mark.parametrize("flag", [["--privileged"], ["--network", "host"], ["--pid", "host"]])
def test_private_userns_refuses_host_sharing(run, flag):
    result = run("--rm", "--userns", "private", *flag, "busybox", "true")
    assert result.returncode != 0 and "--userns private cannot be combined" in result.stderr


def test_each_container_maps_its_own_block_of_ids(run, state_root):
    """podman's --userns=auto: running containers never share host ids; a removed one's block is reused."""
    from tests.integration.runtime.conftest import start

    first, count = subordinate_range("/etc/subuid")
    if count < 2 * ID_BLOCK:
        pytest.skip("composer's subordinate range holds a single block")
    holder = start(state_root, "--rm", "--network", "none", "--userns", "private", "busybox", "sh", "-c",
                   "trap 'exit 0' TERM; cat /proc/self/uid_map; while :; do sleep 0.05; done")
    try:
        assert holder.stdout.readline().split() == ["0", str(first), str(ID_BLOCK)]
        second = run("--rm", "--network", "none", "--userns", "private", "busybox", "cat", "/proc/self/uid_map")
        assert second.stdout.split() == ["0", str(first + ID_BLOCK), str(ID_BLOCK)], second.stderr
    finally:
        holder.terminate()  # forwarded to its PID 1, which leaves; the CLI removes the container
        assert holder.wait(timeout=60) == 0, holder.stderr.read()
    again = run("--rm", "--network", "none", "--userns", "private", "busybox", "cat", "/proc/self/uid_map")
    assert again.stdout.split() == ["0", str(first), str(ID_BLOCK)], again.stderr


def test_bind_sources_the_mapped_root_cannot_reach(run, tmp_path):
    """A bind source under a 0700 directory: the runtime detaches it on the host (as runc opens such
    sources in its parent), so the mapped root gets it all the same; ``:ro`` still holds."""
    private = tmp_path / "private"
    (private / "data").mkdir(parents=True)
    private.chmod(0o700)
    (private / "data" / "file").write_text("hello\n")
    result = run("--rm", "--network", "none", "--userns", "private", "-v", f"{private}/data:/data:ro", "busybox",
                 "sh", "-c", "cat /data/file; touch /data/new && echo wrote")
    assert result.returncode != 0 and result.stdout.split() == ["hello"], result.stderr
    assert "Read-only file system" in result.stderr


def test_volumes_are_idmapped_and_shared_with_other_containers(run, state_root):
    """A named volume is mounted idmapped into the container's namespace: pre-filled from the image,
    writable by its root, and its files are root's for every container (whatever block it maps)."""
    made = run("--rm", "--network", "none", "--userns", "private", "-v", "shared:/etc", "busybox", "sh", "-c",
               "touch /etc/made && stat -c %u:%g /etc/made /etc/passwd")
    assert made.returncode == 0 and made.stdout.split() == ["0:0", "0:0"], made.stderr
    data = state_root / "volumes" / "shared" / "_data"
    assert (data / "made").stat().st_uid == 0 and (data / "passwd").exists()  # host root's, pre-filled
    seen = run("--rm", "--network", "none", "-v", "shared:/data", "busybox", "stat", "-c", "%u", "/data/made")
    assert seen.stdout.strip() == "0", seen.stderr


def test_volume_subpath_in_a_user_namespace(run):
    assert run("--rm", "--network", "none", "-v", "usub:/v", "busybox", "sh", "-c",
               "mkdir /v/d && echo hi > /v/d/f").returncode == 0
    result = run("--rm", "--network", "none", "--userns", "private", "--mount",
                 "type=volume,source=usub,target=/m,volume-subpath=d", "busybox", "sh", "-c", "cat /m/f; stat -c %u /m/f")
    assert result.stdout.split() == ["hi", "0"], result.stdout + result.stderr
