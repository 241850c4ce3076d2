"""Detached containers on the real kernel: supervision, logs, exec, stop, restarts, health."""

from __future__ import annotations

import glob
import json
import os
import signal
import time

import pytest

from tests.integration.lifecycle.conftest import supervisor_pid

pytestmark = pytest.mark.root


def _inspect(cli, name: str) -> dict:
    return json.loads(cli("container", "inspect", name, check=True).stdout)[0]


def test_detached_container_survives_the_cli(cli, state_root):
    result = cli("container", "run", "-d", "--name", "bg", "busybox", "sleep", "60", check=True)
    container_id = result.stdout.strip()
    assert len(container_id) == 64
    info = _inspect(cli, "bg")
    assert info["State"]["Status"] == "running" and info["State"]["Pid"] > 0
    supervisor = supervisor_pid(state_root, container_id)
    assert os.getsid(supervisor) != os.getsid(0)  # its own session, not the CLI's
    with open(f"/proc/{info['State']['Pid']}/stat") as handle:  # started by a launcher, kept by the supervisor
        assert int(handle.read().rpartition(")")[2].split()[1]) == supervisor
    assert cli("container", "ls", "-q").stdout.split() == [container_id[:12]]
    assert cli("container", "rm", "bg").returncode == 1  # running
    assert cli("container", "rm", "-f", "bg").returncode == 0
    deadline = time.monotonic() + 5
    while _alive(supervisor) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(supervisor)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_chatty_logs_are_complete_and_ordered(cli):
    script = "seq 1 100000; echo oops >&2; printf partial"  # 590 kB as fast as busybox writes it
    cli("container", "run", "-d", "--name", "chatty", "busybox", "sh", "-c", script, check=True)
    assert cli("container", "wait", "chatty").stdout.strip() == "0"
    logs = cli("container", "logs", "chatty")
    assert logs.stdout == "".join(f"{i}\n" for i in range(1, 100001)) + "partial"
    assert logs.stderr == "oops\n"
    tail = cli("container", "logs", "--tail", "3", "chatty")  # the last 3 records of both streams
    assert (tail.stdout, tail.stderr) == ("100000\npartial", "oops\n")
    stamped = cli("container", "logs", "-t", "--tail", "3", "chatty").stdout
    assert stamped.startswith("20") and stamped.endswith("Z partial") and "Z 100000\n" in stamped


def test_follow_ends_with_the_container(cli):
    cli("container", "run", "-d", "--name", "tick", "busybox", "sh", "-c",
        "for i in 1 2 3; do echo $i; sleep 0.3; done", check=True)
    followed = cli("container", "logs", "-f", "tick", timeout=30)
    assert followed.stdout == "1\n2\n3\n"
    assert _inspect(cli, "tick")["State"]["Status"] == "exited"


def test_exec_shares_the_pid_namespace(cli):
    cli("container", "run", "-d", "--name", "box", "busybox", "sleep", "60", check=True)
    pid = _inspect(cli, "box")["State"]["Pid"]
    result = cli("container", "exec", "-e", "X=42", "-w", "/tmp", "box", "sh", "-c",
                 "cat /proc/1/cmdline | tr '\\0' ' '; echo; readlink /proc/self/ns/pid; echo $X $(pwd); exit 7")
    assert result.returncode == 7
    cmdline, namespace, rest = result.stdout.splitlines()
    assert cmdline.strip() == "sleep 60"
    assert namespace == os.readlink(f"/proc/{pid}/ns/pid")
    assert rest == "42 /tmp"
    assert cli("container", "exec", "box", "no-such-command").returncode == 127


def test_stop_of_a_process_ignoring_sigterm_takes_the_timeout(cli):
    cli("container", "run", "-d", "--name", "stubborn", "busybox", "sh", "-c",
        "trap '' TERM; while true; do sleep 0.1; done", check=True)
    began = time.monotonic()
    assert cli("container", "stop", "-t", "1", "stubborn").returncode == 0
    assert time.monotonic() - began >= 1.0
    state = _inspect(cli, "stubborn")["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 137


def test_on_failure_2_restarts_exactly_twice(cli):
    cli("container", "run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c",
        "echo run; exit 3", check=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait returns at the first exit; the policy goes on after it
        info = _inspect(cli, "flaky")
        if info["State"]["Status"] == "exited" and info["RestartCount"] == 2:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # a third restart would have happened by now (back-off 400 ms)
    info = _inspect(cli, "flaky")
    assert info["RestartCount"] == 2 and info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 3
    assert cli("container", "logs", "flaky").stdout == "run\n" * 3


def test_restart_backoff_doubles_from_100ms(cli):
    from composer.engine.runtime.describe import epoch

    cli("container", "run", "-d", "--name", "crashy", "--restart", "always", "busybox", "sh", "-c",
        "echo up; exit 1", check=True)
    deadline = time.monotonic() + 30
    while _inspect(cli, "crashy")["RestartCount"] < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    cli("container", "stop", "-t", "0", "crashy", check=True)
    stamps = [epoch(line.split()[0]) for line in cli("container", "logs", "-t", "crashy").stdout.splitlines()]
    assert len(stamps) >= 5
    # a life's line is logged before its exit is recorded, and the next life starts at least
    # the back-off after that: 100 ms, 200, 400, 800 (docker's), however slow the machine is
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    assert all(gap >= 0.1 * 2 ** n for n, gap in enumerate(gaps[:6])), gaps


def test_stopped_container_is_not_restarted(cli):
    cli("container", "run", "-d", "--name", "keeper", "--restart", "always", "busybox", "sleep", "60", check=True)
    assert cli("container", "stop", "-t", "0", "keeper").returncode == 0
    time.sleep(0.5)
    info = _inspect(cli, "keeper")
    assert info["State"]["Status"] == "exited" and info["RestartCount"] == 0


def test_healthcheck_goes_healthy_then_unhealthy(cli, state_root):
    from composer.engine.runtime import containers

    os.environ["COMPOSER_ROOT"] = str(state_root)  # the API in this process (state_root set it too)
    cli("container", "run", "-d", "--name", "doc", "--health-cmd", "test -f /tmp/ok", "--health-interval",
        "200ms", "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 60",
        check=True)
    container_id = containers.resolve("doc")
    seen = [containers.status_key(containers.ContainerDir(container_id))]
    while seen[-1] not in ("unhealthy", "exited") and len(seen) < 5:
        seen.append(containers.wait_health_change(container_id, seen[-1], timeout=10))
    assert seen == ["starting", "healthy", "unhealthy"] or seen == ["healthy", "unhealthy"]
    health = _inspect(cli, "doc")["State"]["Health"]
    assert health["Status"] == "unhealthy" and health["FailingStreak"] >= 2
    assert health["Log"][-1]["ExitCode"] == 1
    assert "(unhealthy)" in cli("container", "ls").stdout


def test_supervisor_killed_leaves_nothing_behind(cli, state_root):
    container_id = cli("container", "run", "-d", "--name", "orphan", "busybox", "sleep", "60",
                       check=True).stdout.strip()
    pid = _inspect(cli, "orphan")["State"]["Pid"]
    os.kill(supervisor_pid(state_root, container_id), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")  # PDEATHSIG took PID 1 down
    listing = cli("container", "ls", "-a", "--format", "{{.Names}} {{.State}}").stdout
    assert listing == "orphan exited\n"
    assert _inspect(cli, "orphan")["State"]["ExitCode"] == 137
    assert not glob.glob(f"/sys/fs/cgroup/*/composer/{container_id}")
    assert cli("container", "rm", "orphan").returncode == 0
    assert not (state_root / "containers" / container_id).exists()


def test_pause_unpause_and_kill(cli):
    cli("container", "run", "-d", "--name", "ice", "busybox", "sh", "-c",
        "trap 'exit 5' USR1; while true; do sleep 0.1; done", check=True)
    assert cli("container", "pause", "ice").returncode == 0
    assert _inspect(cli, "ice")["State"]["Status"] == "paused"
    assert cli("container", "exec", "ice", "true").returncode == 1
    assert cli("container", "unpause", "ice").returncode == 0
    assert cli("container", "kill", "-s", "USR1", "ice").returncode == 0
    assert cli("container", "wait", "ice").stdout.strip() == "5"
    assert cli("container", "kill", "ice").returncode == 1  # not running


def test_create_start_and_log_rotation(cli, state_root):
    container_id = cli("container", "create", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
                       "busybox", "sh", "-c", "seq 1 2000", check=True).stdout.strip()
    assert _inspect(cli, "rot")["State"]["Status"] == "created"
    conflict = cli("container", "create", "--name", "rot", "busybox", "true")
    assert conflict.returncode == 1 and 'The container name "/rot" is already in use' in conflict.stderr
    assert cli("container", "start", "rot").returncode == 0
    cli("container", "wait", "rot")
    files = sorted(p.name for p in (state_root / "containers" / container_id).glob("*-json.log*"))
    assert files == [f"{container_id}-json.log", f"{container_id}-json.log.1"]
    lines = cli("container", "logs", "rot").stdout.split()
    assert lines[-1] == "2000" and len(lines) < 2000
    assert lines == [str(n) for n in range(int(lines[0]), 2001)]


def test_restart_keeps_an_rm_container_and_stop_removes_it(cli):
    cli("container", "run", "-d", "--rm", "--name", "keep", "busybox", "sleep", "60", check=True)
    first = _inspect(cli, "keep")["State"]["Pid"]
    assert cli("container", "restart", "-t", "1", "keep").returncode == 0
    state = _inspect(cli, "keep")["State"]
    assert state["Running"] and state["Pid"] != first
    cli("container", "stop", "-t", "1", "keep", check=True)
    deadline = time.monotonic() + 5
    while cli("container", "ls", "-aq").stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cli("container", "ls", "-aq").stdout.strip() == ""


def test_cp_into_a_container_of_another_user_arrives_owned_by_root(cli, tmp_path):
    cli("container", "run", "-d", "-u", "65534:65534", "--name", "nobody", "busybox", "sleep", "60", check=True)
    source = tmp_path / "note.txt"
    source.write_text("hello\n")
    cli("container", "cp", str(source), "nobody:/tmp", check=True)
    listing = cli("container", "exec", "nobody", "stat", "-c", "%u:%g %n", "/tmp/note.txt", check=True).stdout
    assert listing.strip() == "0:0 /tmp/note.txt"
    back = tmp_path / "back.txt"
    cli("container", "cp", "nobody:/tmp/note.txt", str(back), check=True)
    assert back.read_text() == "hello\n"


def test_cp_into_a_new_name_a_directory_and_over_a_file(cli, tmp_path):
    cli("container", "run", "-d", "--name", "cpdest", "busybox", "sleep", "60", check=True)
    source = tmp_path / "note.txt"
    source.write_text("hello\n")
    cli("container", "cp", str(source), "cpdest:/tmp/renamed.txt", check=True)  # a new name in an existing dir
    cli("container", "exec", "cpdest", "sh", "-c", "echo old > /tmp/existing", check=True)
    cli("container", "cp", str(source), "cpdest:/tmp/existing", check=True)  # over an existing file
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "leaf").write_text("leaf\n")
    cli("container", "cp", str(tree), "cpdest:/tmp/copied", check=True)  # a directory under a new name
    cli("container", "cp", str(tree), "cpdest:/tmp/copied", check=True)  # then into that directory
    shown = cli("container", "exec", "cpdest", "sh", "-c",
                "cat /tmp/renamed.txt /tmp/existing /tmp/copied/sub/leaf /tmp/copied/tree/sub/leaf; ls -a /tmp",
                check=True).stdout
    assert shown.startswith("hello\nhello\nleaf\nleaf\n") and ".composer-cp" not in shown
    missing = cli("container", "cp", str(source), "cpdest:/nowhere/x")
    assert missing.returncode == 1 and "Could not find the file /nowhere in container" in missing.stderr
    assert cli("container", "cp", str(source), "cpdest:/tmp/newdir/").returncode == 1


def test_anonymous_volume_is_named_at_create_and_kept_across_restarts(cli):
    cli("container", "run", "-d", "-v", "/data", "--name", "anon", "busybox", "sh", "-c",
        "echo x >> /data/runs; sleep 60", check=True)
    [volume] = [m["Name"] for m in _inspect(cli, "anon")["Mounts"]]
    assert len(volume) == 64
    cli("container", "restart", "-t", "0", "anon", check=True)
    assert [m["Name"] for m in _inspect(cli, "anon")["Mounts"]] == [volume]
    deadline = time.monotonic() + 5  # the restarted shell appends its line first thing
    while cli("container", "exec", "anon", "cat", "/data/runs").stdout.count("x") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cli("container", "exec", "anon", "cat", "/data/runs", check=True).stdout.count("x") == 2
    cli("container", "rm", "-f", "-v", "anon", check=True)
    assert volume not in cli("volume", "ls", "-q").stdout.split()


def test_a_failed_start_reports_the_exec_error_and_leaves_nothing(cli):
    kept = cli("container", "run", "-d", "--name", "bad", "busybox", "/nonexistent")
    assert kept.returncode == 127 and "/nonexistent" in kept.stderr
    assert _inspect(cli, "bad")["State"]["Status"] == "created"  # docker keeps it as created
    for _ in range(2):
        removed = cli("container", "run", "-d", "--rm", "busybox", "/nonexistent")
        assert removed.returncode == 127 and "internal error" not in removed.stderr
    assert cli("container", "ls", "-aq").stdout.split() == [_inspect(cli, "bad")["Id"][:12]]
