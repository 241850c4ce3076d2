"""A project volume's local ``driver_opts`` (Compose 2.40 passes them to dockerd as they are
written): a host directory bound, a tmpfs, mounted for the running containers, gone with
``down``; the host directory's files stay after ``down -v``."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.root]

PROJECT = """
services:
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    volumes: [data:/d, scratch:/t]
volumes:
  data:
    driver_opts: {type: none, o: bind, device: DEVICE}
  scratch:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=1m,mode=0700"}
"""


def _mounted(state_root) -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        return sorted(line.split()[4] for line in handle if line.split()[4].startswith(str(state_root) + "/"))


def test_driver_opts_mount_the_project_volumes(project, state_root):
    host = project.directory / "mydata"
    host.mkdir()
    (host / "seed").write_text("seed\n")
    project.write(PROJECT.replace("DEVICE", str(host)))
    project("up", "-d")
    assert project("exec", "web", "cat", "/d/seed").stdout == "seed\n"
    assert project("exec", "web", "sh", "-c", "echo made > /d/made; stat -c %a /t").stdout == "700\n"
    volumes = state_root / "volumes"
    assert _mounted(state_root) == [str(volumes / "proj_data/_data"), str(volumes / "proj_scratch/_data")]
    shown = json.loads(project("volume", "inspect", "proj_scratch").stdout)[0]
    assert shown["Options"] == {"device": "tmpfs", "o": "size=1m,mode=0700", "type": "tmpfs"}
    project("down", "-v", "-t", "1")
    assert _mounted(state_root) == [] and sorted(p.name for p in host.iterdir()) == ["made", "seed"]


def test_a_relative_device_is_not_the_project_directory(project, state_root):
    (project.directory / "mydata").mkdir()
    project.write(PROJECT.replace("DEVICE", "./mydata"))
    failed = project("up", "-d", ok=False)
    assert failed.returncode != 0
    assert (f"error while mounting volume '{state_root}/volumes/proj_data/_data': failed to mount local volume: "
            f"mount ./mydata:{state_root}/volumes/proj_data/_data, flags: 0x1000: no such file or directory"
            ) in failed.stderr
    assert _mounted(state_root) == []


def test_bad_driver_opts_are_refused_before_anything_is_created(project, state_root):
    project.write(PROJECT.replace("DEVICE", "/srv").replace("device: tmpfs, ", ""))
    failed = project("up", "-d", ok=False)
    assert failed.returncode == 1 and 'create proj_scratch: missing required option: "device"' in failed.stderr
    assert "volumes.scratch.driver_opts" in failed.stderr
    assert project("volume", "ls", "-q").stdout == "" and project("ps", "-a", "-q").stdout == ""
