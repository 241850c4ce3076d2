"""``cp`` with a stopped container mounts its filesystem itself: a start at the same time must not
mount it too. Both hold the container's mount lock (``ContainerDir.mount_lock``): a copy waits
for a start's PID 1 to run (and then copies by exec), a start waits for a copy to end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from contextlib import contextmanager
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


def _until_held(cid: str, deadline: float = 30) -> None:
    """Wait (at most ``deadline`` s) until another process holds the container's mount lock."""
    from composer.engine.runtime.state import ContainerDir

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with ContainerDir(cid).mount_lock(timeout=0):
                pass
        except TimeoutError:
            return
        time.sleep(0.05)
    raise AssertionError(f"nobody took the mount lock of {cid[:12]} in {deadline} s")


@contextmanager
def _streaming_copy(state_root: Path, cid: str):
    """A copy into the stopped container ``locked`` that holds its mount lock until the block ends
    (its tar stream comes then); the copy's process, ended and checked (exit 0)."""
    copy = subprocess.Popen([sys.executable, "-m", "composer", "container", "cp", "-", "locked:/"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    try:
        _until_held(cid)  # the copy mounted the stopped container: it waits for our tar stream
        yield copy
    finally:
        stream = io.BytesIO()
        with tarfile.open(fileobj=stream, mode="w") as archive:
            member = tarfile.TarInfo("streamed")
            member.size = 3
            archive.addfile(member, io.BytesIO(b"ok\n"))
        copy.communicate(stream.getvalue(), timeout=60)
    assert copy.returncode == 0, copy.stderr


@pytest.fixture
def short_lock_wait(monkeypatch):
    """Every command (and the supervisors they fork) waits 1 s for a mount lock (else 30 s).
    Requested before ``cli``, which copies the environment."""
    monkeypatch.setenv("COMPOSER_LOCK_WAIT", "1")


def test_a_copy_gives_up_on_a_held_container_with_a_clear_error(short_lock_wait, cli, stopped, tmp_path):
    from composer.engine.runtime.state import ContainerDir

    (tmp_path / "payload").write_text("late\n")
    with ContainerDir(stopped).mount_lock():  # a start or a copy that does not end
        copy = cli("container", "cp", str(tmp_path / "payload"), "locked:/", timeout=20)
    assert copy.returncode == 1
    assert "is busy: its start, its removal or another copy has held its filesystem for 1 s" in copy.stderr
    assert "Traceback" not in copy.stderr
    cli("container", "cp", str(tmp_path / "payload"), "locked:/", check=True)  # free again


def test_a_start_gives_up_on_a_copy_that_holds_the_container(short_lock_wait, cli, stopped, state_root):
    with _streaming_copy(state_root, stopped):
        start = cli("container", "start", "locked", timeout=20)
    assert start.returncode != 0 and "a copy has held its filesystem for 1 s" in start.stderr, start.stderr
    state = json.loads(cli("container", "inspect", "locked", check=True).stdout)[0]["State"]
    assert state["Status"] == "created" and "a copy has held" in state["Error"]
    cli("container", "start", "locked", check=True)
    assert _status(state_root, stopped) == "running"
    assert cli("container", "exec", "locked", "cat", "/streamed", check=True).stdout == "ok\n"


def test_a_removal_waits_for_a_copy_of_the_stopped_container(cli, stopped, state_root):
    with _streaming_copy(state_root, stopped):
        rm = _composer("container", "rm", "locked")
        time.sleep(0.5)
        waited = rm.poll() is None and (state_root / "containers" / stopped / "config.json").exists()
    assert rm.wait(timeout=60) == 0, rm.stderr.read()
    assert waited  # (checked once both are over: no process of ours is left on a failure)
    assert not (state_root / "containers" / stopped).exists()


def test_a_removal_gives_up_on_a_copy_that_holds_the_container(short_lock_wait, cli, stopped, state_root):
    with _streaming_copy(state_root, stopped):
        rm = cli("container", "rm", "-f", "locked", timeout=20)
    assert rm.returncode == 1 and "is busy: a copy has held its filesystem for 1 s" in rm.stderr, rm.stderr
    assert "Traceback" not in rm.stderr
    assert cli("container", "inspect", "locked").returncode == 0  # all there still
    cli("container", "rm", "locked", check=True)


def test_an_exit_is_recorded_even_if_the_mount_lock_stays_held(short_lock_wait, cli, state_root):
    from composer.engine.runtime.state import ContainerDir, supervisor_alive

    cid = cli("container", "run", "-d", "--name", "held", "busybox", "sleep", "60", check=True).stdout.strip()
    cdir = ContainerDir(cid)
    with cdir.mount_lock():
        stop = cli("container", "stop", "-t", "0", "held", timeout=20)
        deadline = time.monotonic() + 10
        while supervisor_alive(cdir.read_state()) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert stop.returncode == 0, stop.stderr
    state = cdir.read_state()
    assert (state["Status"], state["ExitCode"], state["SupervisorPid"]) == ("exited", 137, 0)
    assert "the exit is recorded without it" in (state_root / "containers" / cid / "supervisor.log").read_text()


def test_a_copy_into_a_running_container_leaves_the_mount_lock_free(cli, state_root):
    from composer.engine.runtime.state import ContainerDir

    cid = cli("container", "run", "-d", "--name", "streamed", "busybox", "sleep", "60", check=True).stdout.strip()
    copy = subprocess.Popen([sys.executable, "-m", "composer", "container", "cp", "-", "streamed:/tmp"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    try:
        procs = Path(f"/sys/fs/cgroup/pids/composer/{cid}/cgroup.procs")
        deadline = time.monotonic() + 30
        while len(procs.read_text().split()) < 2:  # the copy runs: its tar in the container waits for our stream
            assert copy.poll() is None and time.monotonic() < deadline, "the copy's tar never ran"
            time.sleep(0.05)
        with ContainerDir(cid).mount_lock(timeout=5):  # (its exit could be recorded meanwhile)
            pass
    finally:
        copy.stdin.close()
        copy.wait(timeout=30)
