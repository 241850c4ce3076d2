"""``volumes_from``: a service mounts another service's (or a named container's) volumes and
binds, in the donor's mode unless ``:ro``/``:rw`` says otherwise; its own mounts win."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

COMPOSE = """
services:
  donor:
    image: busybox
    command: ["sh", "-c", "echo shared > /named/f; echo anon > /anon/f; echo bound > /bound/f; {loop}"]
    volumes: [named:/named, /anon, ./host:/bound]
  reader:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    volumes_from: ["donor:ro"]
  writer:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    volumes_from: [donor]
    volumes: [other:/named]
volumes:
  named: {}
  other: {}
"""


def test_service_volumes_are_shared(project, state_root):
    (project.directory / "host").mkdir()
    project.write(COMPOSE)
    project("up", "-d")
    for path, text in (("/named/f", "shared"), ("/anon/f", "anon"), ("/bound/f", "bound")):
        result = project("exec", "-T", "reader", "sh", "-c", f"timeout 20 sh -c \"while [ ! -s {path} ]; do sleep 0.1; done\"; cat {path}")
        assert result.stdout == text + "\n"
    refused = project("exec", "-T", "reader", "touch", "/anon/x", ok=False)
    assert refused.returncode != 0 and "Read-only" in refused.stderr
    project("exec", "-T", "writer", "touch", "/anon/x")  # the donor's mode: read-write
    assert project("exec", "-T", "writer", "ls", "/named").stdout == ""  # its own volume wins
    assert (project.directory / "host" / "f").read_text() == "bound\n"
    project("restart", "-t", "1", "donor")
    project("exec", "-T", "donor", "test", "-e", "/anon/x")  # the same anonymous volume after a restart
    project("down", "-v", "-t", "1")
    assert list((state_root / "volumes").iterdir()) == []


def test_container_volumes_are_shared(project, composer):
    project.write("""
    services:
      app:
        image: busybox
        command: ["sh", "-c", "{loop}"]
        volumes_from: ["container:keeper:ro"]
    """)
    made = composer("container", "run", "-d", "--name", "keeper", "-v", "kept:/kept", "busybox",
                    "sh", "-c", "echo kept > /kept/f; sleep 1000")
    assert made.returncode == 0, made.stderr
    try:
        project("up", "-d")
        result = project("exec", "-T", "app", "sh", "-c", "timeout 20 sh -c 'while [ ! -s /kept/f ]; do sleep 0.1; done'; cat /kept/f")
        assert result.stdout == "kept\n"
    finally:
        project("down", "-t", "1", ok=False)
        composer("container", "rm", "-f", "-v", "keeper")
        composer("volume", "rm", "kept")


def test_missing_donor_container_is_named(project):
    project.write("""
    services:
      app:
        image: busybox
        command: ["true"]
        volumes_from: ["container:nobody"]
    """)
    result = project("up", "-d", ok=False)
    assert result.returncode != 0 and "no such container nobody" in result.stderr
    assert "Traceback" not in result.stderr
