"""``cp`` with a stopped container mounts its filesystem itself: a start at the same time must not
mount it too. Both hold the container's mount lock (``ContainerDir.mount_lock``): a copy waits
for a start's PID 1 to run (and then copies by exec), a start waits for a copy to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.root


def _composer(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "composer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _status(state_root: Path, cid: str) -> str:
    return json.loads((state_root / "containers" / cid / "state.json").read_text()).get("Status", "")


@pytest.fixture
def stopped(cli):
    """A created busybox container (sleeps once started); its id. Removed at the end."""
    cid = cli("container", "create", "--name", "locked", "busybox", "sleep", "60", check=True).stdout.strip()
    yield cid
    cli("container", "rm", "-f", "locked")


def test_a_copy_waits_for_a_start_in_progress_then_copies_into_the_running_container(cli, stopped, state_root,
                                                                                       tmp_path):
    from composer.engine.runtime import containers

    (tmp_path / "payload").write_text("copied\n")
    handle = containers.prepare_start(stopped)  # PID 1 built, held before its exec: the start is under way
    copy = _composer("container", "cp", str(tmp_path / "payload"), "locked:/")
    try:
        time.sleep(0.5)
        waited = copy.poll() is None  # waiting for the start, not mounting beside it
    finally:
        handle.go()
    assert copy.wait(timeout=60) == 0, copy.stderr.read()
    assert waited
    assert _status(state_root, stopped) == "running"
    assert cli("container", "exec", "locked", "cat", "/payload", check=True).stdout == "copied\n"


def test_a_start_waits_for_a_copy_in_progress(cli, stopped, state_root):
    from composer.engine.runtime.state import ContainerDir

    with ContainerDir(stopped).mount_lock():  # as a copy of the stopped container holds it
        start = _composer("container", "start", "locked")
        time.sleep(0.5)
        waited = start.poll() is None and _status(state_root, stopped) != "running"
    assert start.wait(timeout=60) == 0, start.stderr.read()
    assert waited  # (checked once the start is over: no process of ours is left on a failure)
    assert _status(state_root, stopped) == "running"
