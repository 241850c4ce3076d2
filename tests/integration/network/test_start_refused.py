"""A start refused while the network is plugged in (a published port taken): by then PID 1 has
joined its cgroup and pivoted ("c" on the go pipe), and still nothing of it stays behind."""

from __future__ import annotations

import glob
import json
import socket

import pytest

pytestmark = pytest.mark.root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_start_leaves_the_container_created_without_cgroup_or_process(composer, busybox_image, manager):
    manager.create("refusenet")
    publish = f"127.0.0.1:{_free_port()}:80"
    try:
        first = composer("container", "run", "-d", "--name", "first", "--network", "refusenet", "-p", publish,
                         "busybox", "sleep", "60")
        assert first.returncode == 0, first.stderr
        second = composer("container", "run", "-d", "--name", "second", "--network", "refusenet", "-p", publish,
                          "busybox", "sleep", "60")
        assert second.returncode == 125 and "already allocated" in second.stderr, second.stderr
        state = json.loads(composer("container", "inspect", "second").stdout)[0]
        assert state["State"]["Status"] == "created" and state["State"]["Pid"] == 0
        assert glob.glob(f"/sys/fs/cgroup/*/composer/{state['Id']}") + glob.glob(
            f"/sys/fs/cgroup/composer/{state['Id']}") == []  # (v1, v2): its PID 1 was killed, its cgroup removed
        assert state["Id"] not in manager.get("refusenet").endpoints
    finally:
        composer("container", "rm", "-f", "first", "second")
