"""Lifecycle behaviours found to differ from a real dockerd (issue 6, session 6): each pinned to
what docker does (see docs/parity.md)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root

TRAP_USR1 = 'trap "echo got-usr1; exit 7" USR1; echo up; while true; do sleep 0.1; done'


def _inspect(cli, name: str, *flags: str) -> dict:
    return json.loads(cli("container", "inspect", *flags, name, check=True).stdout)[0]


def _wait_for_output(cli, name: str, text: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while text not in cli("container", "logs", name).stdout:
        assert time.monotonic() < deadline, f"{name} never printed {text!r}"
        time.sleep(0.05)


def test_restart_and_stop_send_the_signal_given(cli):
    cli("container", "run", "-d", "--name", "sig", "busybox", "sh", "-c", TRAP_USR1, check=True)
    _wait_for_output(cli, "sig", "up")
    assert cli("container", "restart", "-s", "USR1", "-t", "30", "sig", check=True).stdout.strip() == "sig"
    assert "got-usr1" in cli("container", "logs", "sig").stdout  # the first life ended on USR1
    state = _inspect(cli, "sig")["State"]
    assert state["Status"] == "running"
    _wait_for_output(cli, "sig", "up\ngot-usr1\nup")
    cli("container", "stop", "--signal", "SIGUSR1", "sig", check=True)
    assert _inspect(cli, "sig")["State"]["ExitCode"] == 7
    bad = cli("container", "restart", "-s", "NOSUCH", "sig")
    assert bad.returncode == 1 and "Invalid signal: NOSUCH" in bad.stderr


def test_rm_link_removes_a_legacy_link_only(cli):
    cli("container", "run", "-d", "--name", "db", "busybox", "sleep", "60", check=True)
    cli("container", "create", "--name", "web", "--link", "db:store", "busybox", "true", check=True)
    assert _inspect(cli, "web")["HostConfig"]["Links"] == ["/db:/web/store"]
    assert cli("container", "rm", "-l", "/web/store", check=True).stdout.strip() == "/web/store"
    assert _inspect(cli, "web")["HostConfig"]["Links"] is None
    again = cli("container", "rm", "--link", "web/store")
    assert again.returncode == 1 and "No such container: web/store" in again.stderr
    own = cli("container", "rm", "-l", "web")
    assert own.returncode == 1 and "cannot remove the default link name" in own.stderr
    assert _inspect(cli, "web")["State"]["Status"] == "created"  # the containers stay


def test_inspect_size_and_flags_after_the_name(cli):
    cli("container", "run", "-d", "--name", "sz", "busybox", "sleep", "60", check=True)
    cli("container", "exec", "sz", "sh", "-c", "printf 12345 > /five", check=True)
    plain = _inspect(cli, "sz")
    assert "SizeRw" not in plain and "SizeRootFs" not in plain
    sized = _inspect(cli, "sz", "-s")
    assert sized["SizeRw"] == 5
    assert sized["SizeRootFs"] > 1_000_000  # the busybox image too
    keys = list(sized)
    assert keys[keys.index("GraphDriver") + 1:keys.index("Mounts")] == ["SizeRw", "SizeRootFs"]
    formatted = cli("container", "inspect", "sz", "--size", "--format", "{{.SizeRw}} {{.Name}}", check=True)
    assert formatted.stdout == "5 /sz\n"
    assert cli("container", "inspect", "sz", "-f", "{{.SizeRw}}", check=True).stdout == "<nil>\n"
    assert cli("container", "rm", "sz", "-f", check=True).stdout.strip() == "sz"
