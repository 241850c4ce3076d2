"""A restarted container whose program's execve fails: each failed life is recorded by its
supervisor alone. The launcher used to record it too, with ``SupervisorPid: 0``: every reader
(``inspect``) then took the live supervisor for dead, marked the container exited and killed its
cgroup, now and then the next life's PID 1 before its exec (an exit 137 among the exit 1s)."""

from __future__ import annotations

import json
import time

import pytest

from composer.engine.runtime.state import supervisor_alive

pytestmark = pytest.mark.root


def test_the_supervisor_stays_the_keeper_of_a_container_restarting_after_exec_failures(cli, state_root, tmp_path):
    (tmp_path / "garbage").write_bytes(b"\x01\x02 not a program\n")
    (tmp_path / "garbage").chmod(0o755)
    cid = cli("container", "run", "-d", "--name", "relaunched", "--restart", "on-failure:20", "--network", "none",
              "-v", f"{tmp_path}:/f", "busybox", "/f/garbage", check=True).stdout.strip()
    try:
        deadline = time.monotonic() + 60
        while True:
            state = json.loads((state_root / "containers" / cid / "state.json").read_text())
            if state.get("RestartCount", 0) >= 1 and state.get("Status") == "restarting":
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.02)
        assert supervisor_alive(state), state  # its keeper, as it records
        shown = json.loads(cli("container", "inspect", "relaunched", check=True).stdout)[0]["State"]
        assert shown["Error"] == "" and shown["Status"] in ("restarting", "running", "exited")
        if shown["Status"] == "exited":
            assert shown["ExitCode"] == 1  # a failed exec's life, never a kill's 137
    finally:
        cli("container", "rm", "-f", "relaunched")


def test_a_refused_restart_keeps_the_first_life_and_its_supervisor_record(cli, state_root, tmp_path):
    """A restarted life refused (a link to a container that stopped meanwhile) is the supervisor's
    to record: the launcher used to drop SupervisorPid (and StartedAt) while it still ran."""
    cli("container", "run", "-d", "--name", "linked", "busybox", "sleep", "60", check=True)
    cid = cli("container", "run", "-d", "--name", "linker", "--link", "linked:al", "--restart", "on-failure:3",
              "-v", f"{tmp_path}:/f", "busybox", "sh", "-c", "while [ ! -e /f/go ]; do sleep 0.05; done; exit 3",
              check=True).stdout.strip()
    try:
        first = json.loads((state_root / "containers" / cid / "state.json").read_text())
        cli("container", "stop", "-t", "0", "linked", check=True)
        (tmp_path / "go").touch()
        deadline = time.monotonic() + 60
        keeper = first["SupervisorPid"]
        while True:
            state = json.loads((state_root / "containers" / cid / "state.json").read_text())
            if not supervisor_alive(first):
                break
            assert state.get("SupervisorPid") in (keeper, 0), state  # never dropped while it runs
            assert time.monotonic() < deadline, state
            time.sleep(0.01)
        assert state["Status"] == "exited" and "Cannot link to a non running container" in state["Error"]
        assert state["StartedAt"] == first["StartedAt"]  # the life that ran
    finally:
        cli("container", "rm", "-f", "linker", "linked")
