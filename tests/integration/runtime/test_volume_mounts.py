"""Local volumes with mount options (``volume create -o type=… -o o=… -o device=…``, Compose's
``driver_opts``): the filesystem is mounted on the volume's ``_data`` when its first user starts
and unmounted when the last one stops or by ``volume rm``, as dockerd's local driver does."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root


@pytest.fixture
def mounts_of(state_root: Path):
    """Mount points under this test's state root; whatever a failure left mounted goes at the end."""
    def mounted() -> list[str]:
        with open("/proc/self/mountinfo") as handle:
            return [line.split()[4] for line in handle if line.split()[4].startswith(str(state_root) + "/")]

    yield mounted
    for target in reversed(mounted()):
        os.system(f"umount -l '{target}'")


def _until(check, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_bind_volume_mounts_the_host_directory_while_used(run, state_root, tmp_path, mounts_of):
    host = tmp_path / "host"
    host.mkdir()
    (host / "in.txt").write_text("from host")
    created = cli(state_root, "volume", "create", "-o", "type=none", "-o", "o=bind", "-o", f"device={host}", "vb")
    assert created.stdout == "vb\n", created.stderr
    shown = json.loads(cli(state_root, "volume", "inspect", "vb").stdout)[0]
    assert shown["Options"] == {"device": str(host), "o": "bind", "type": "none"}
    assert list(shown) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]
    result = run("--rm", "-v", "vb:/d", "busybox", "sh", "-c", "cat /d/in.txt; echo out > /d/out.txt")
    assert result.stdout == "from host", result.stderr
    assert (host / "out.txt").read_text() == "out\n" and mounts_of() == []
    assert run("--name", "keeper", "-v", "vb:/d", "busybox", "true").returncode == 0
    (tmp_path / "copied.txt").write_text("copied")  # cp into the stopped container: its volume's device
    copied = cli(state_root, "container", "cp", str(tmp_path / "copied.txt"), "keeper:/d/copied.txt")
    assert copied.returncode == 0, copied.stderr
    assert (host / "copied.txt").read_text() == "copied" and mounts_of() == []
    out = cli(state_root, "container", "cp", "keeper:/d/in.txt", str(tmp_path / "back.txt"))
    assert out.returncode == 0 and (tmp_path / "back.txt").read_text() == "from host"
    assert cli(state_root, "container", "rm", "keeper").returncode == 0
    assert cli(state_root, "volume", "rm", "vb").returncode == 0
    assert sorted(os.listdir(host)) == ["copied.txt", "in.txt", "out.txt"]  # the volume went, the files stay


def test_tmpfs_volume_is_shared_until_its_last_user_stops(image, state_root, mounts_of):
    assert cli(state_root, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs",
               "-o", "o=size=1m,uid=1000", "vt").returncode == 0
    data = str(state_root / "volumes/vt/_data")
    names = ("one", "two")
    try:
        for name in names:
            started = cli(state_root, "container", "run", "-d", "--name", name, "-v", "vt:/d", "busybox", "sleep", "60")
            assert started.returncode == 0, started.stderr
        assert mounts_of() == [data]  # mounted once, for both
        assert cli(state_root, "container", "exec", "one", "sh", "-c", "echo x > /d/x").returncode == 0
        assert cli(state_root, "container", "exec", "two", "cat", "/d/x").stdout == "x\n"
        owner = cli(state_root, "container", "exec", "two", "stat", "-c", "%u", "/d").stdout
        assert owner == "1000\n"
        cli(state_root, "container", "stop", "-t", "0", "one")
        time.sleep(0.3)
        assert mounts_of() == [data]  # two still uses it
        cli(state_root, "container", "stop", "-t", "0", "two")
        assert _until(lambda: mounts_of() == [])
        assert cli(state_root, "container", "start", "one").returncode == 0
        assert cli(state_root, "container", "exec", "one", "ls", "/d").stdout == ""  # a new tmpfs
    finally:
        cli(state_root, "container", "rm", "-f", *names)
    assert _until(lambda: mounts_of() == [])


def test_a_device_that_cannot_be_mounted_is_dockers_error(run, state_root, tmp_path, mounts_of):
    assert cli(state_root, "volume", "create", "-o", "type=none", "-o", "o=bind",
               "-o", f"device={tmp_path / 'absent'}", "vbad").returncode == 0
    failed = run("--rm", "-v", "vbad:/d", "busybox", "true")
    data = state_root / "volumes/vbad/_data"
    assert failed.returncode == 127
    assert (f"error while mounting volume '{data}': failed to mount local volume: mount {tmp_path / 'absent'}:{data}, "
            "flags: 0x1000: no such file or directory") in failed.stderr
    assert mounts_of() == [] and not any((state_root / "containers").iterdir())
    assert cli(state_root, "volume", "create", "-o", "type=nosuchfs", "-o", "device=x", "vfs").returncode == 0
    failed = run("--rm", "-v", "vfs:/d", "busybox", "true")
    assert failed.returncode == 125 and f"mount x:{state_root / 'volumes/vfs/_data'}: no such device" in failed.stderr
    refused = cli(state_root, "volume", "create", "-o", "type=tmpfs", "vx")
    assert refused.returncode == 1 and refused.stderr.startswith('Error response from daemon: create vx: missing '
                                                                 'required option: "device"')
    assert "vx" not in cli(state_root, "volume", "ls", "-q").stdout
