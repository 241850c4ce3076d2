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


def test_a_foreground_run_keeps_its_output_in_the_log(cli, state_root):
    shown = cli("container", "run", "--name", "fg", "busybox", "sh", "-c", "echo hi; echo oops >&2; printf tail")
    assert (shown.returncode, shown.stdout, shown.stderr) == (0, "hi\ntail", "oops\n")
    logs = cli("container", "logs", "fg", check=True)
    assert (logs.stdout, logs.stderr) == ("hi\ntail", "oops\n")
    info = _inspect(cli, "fg")
    assert info["LogPath"].endswith("-json.log") and info["State"]["Status"] == "exited"
    records = [json.loads(line) for line in open(info["LogPath"])]
    assert [(r["log"], r["stream"]) for r in records if r["stream"] == "stdout"] == [("hi\n", "stdout"),
                                                                                      ("tail", "stdout")]
    again = cli("container", "start", "-a", "fg", check=True)  # start -a shows what the log gets
    assert again.stdout == "hi\ntail"
    assert cli("container", "logs", "fg", check=True).stdout == "hi\ntailhi\ntail"
    quiet = cli("container", "run", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "x")
    assert quiet.stdout == "x\n"
    assert "does not support reading" in cli("container", "logs", "nolog").stderr


def test_a_foreground_run_whose_reader_leaves_still_logs_everything(cli, state_root):
    import os
    import subprocess
    import sys

    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    run = subprocess.Popen([sys.executable, "-m", "composer", "container", "run", "--name", "big", "busybox", "sh",
                            "-c", "seq 1 200000"], stdout=subprocess.PIPE, env=env)
    assert run.stdout.read(6) == b"1\n2\n3\n"
    run.stdout.close()  # as `| head` does
    assert run.wait(timeout=60) == 0
    lines = cli("container", "logs", "big", check=True).stdout.splitlines()
    assert lines[0] == "1" and lines[-1] == "200000" and len(lines) == 200000


def _unrunnable(tmp_path):
    """A directory with a file the kernel cannot exec and a script whose interpreter is missing."""
    (tmp_path / "garbage").write_bytes(b"\x01\x02 not a program\n")
    (tmp_path / "script").write_text("#!/no/such/interpreter\necho never\n")
    for name in ("garbage", "script"):
        (tmp_path / name).chmod(0o755)
    return f"{tmp_path}:/f"


def test_an_exec_failure_after_the_start_is_an_exit_1_as_runc_1_1(cli, tmp_path):
    volume = _unrunnable(tmp_path)
    for name, message in (("garbage", "exec /f/garbage: exec format error"),
                          ("script", "exec /f/script: no such file or directory")):
        shown = cli("container", "run", "--name", name, "--network", "none", "-v", volume, "busybox", f"/f/{name}")
        assert (shown.returncode, shown.stdout, shown.stderr) == (1, "", message + "\n")
        state = _inspect(cli, name)["State"]
        assert (state["Status"], state["ExitCode"], state["Error"]) == ("exited", 1, "")
        assert cli("container", "logs", name).stderr == message + "\n"
    started = cli("container", "start", "garbage")  # start: it runs (and ends) again
    assert started.returncode == 0 and started.stdout.strip() == "garbage"
    assert cli("container", "wait", "garbage", check=True).stdout.strip() == "1"
    detached = cli("container", "run", "-d", "--name", "again", "--restart", "on-failure:2", "--network", "none",
                   "-v", volume, "busybox", "/f/garbage")
    assert detached.returncode == 0 and len(detached.stdout.strip()) == 64
    _wait_for_restarts(cli, "again", 2)
    assert cli("container", "logs", "again").stderr == "exec /f/garbage: exec format error\n" * 3


def _wait_for_restarts(cli, name: str, count: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while True:
        info = _inspect(cli, name)
        if info["RestartCount"] == count and info["State"]["Status"] == "exited":
            assert (info["State"]["ExitCode"], info["State"]["Error"]) == (1, "")
            return
        assert time.monotonic() < deadline, f"RestartCount {info['RestartCount']}, State {info['State']!r}"
        time.sleep(0.05)


def test_a_program_refused_before_the_start_stays_created(cli, tmp_path):
    (tmp_path / "plain").write_text("not executable\n")
    for argv, code in ((["/f/plain"], 126), (["/f/missing"], 127)):
        result = cli("container", "run", "-d", "--name", f"c{code}", "--restart", "always", "--network", "none",
                     "-v", f"{tmp_path}:/f", "busybox", *argv)
        assert result.returncode == code and argv[0] in result.stderr
        state = _inspect(cli, f"c{code}")["State"]
        assert state["Status"] == "created" and state["ExitCode"] == code and argv[0] in state["Error"]


def test_top_passes_ps_options_through(cli):
    cli("container", "run", "-d", "--name", "tp", "busybox", "sleep", "60", check=True)
    pid = str(_inspect(cli, "tp")["State"]["Pid"])
    picked = cli("container", "top", "tp", "-o", "pid,comm", check=True).stdout.splitlines()
    assert picked[0].split() == ["PID", "COMMAND"] and picked[1].split() == [pid, "sleep"]
    assert cli("container", "top", "tp", "aux", check=True).stdout.split()[:2] == ["USER", "PID"]


def test_prune_refuses_an_unknown_filter_and_reports_what_it_reclaimed(cli):
    cli("container", "run", "--name", "wrote", "busybox", "sh", "-c", "printf 1234567 > /seven", check=True)
    cli("container", "create", "--name", "kept", "--label", "keep=yes", "busybox", check=True)
    for bad, message in (("name=wrote", "Invalid filter 'name'"), ("until=bogus", "failed to parse")):
        refused = cli("container", "prune", "-f", "--filter", bad)
        assert refused.returncode == 1 and message in refused.stderr
    assert len(cli("container", "ls", "-aq", check=True).stdout.split()) == 2  # nothing removed
    pruned = cli("container", "prune", "-f", "--filter", "label!=keep", check=True).stdout
    assert pruned.endswith("\n\nTotal reclaimed space: 7B\n")
    assert cli("container", "ls", "-a", "--format", "{{.Names}}", check=True).stdout == "kept\n"


def test_cp_links_streams_and_a_missing_path_as_dockers(cli, state_root, tmp_path):
    import io
    import os
    import subprocess
    import sys
    import tarfile

    cli("container", "run", "-d", "--name", "cp", "busybox", "sh", "-c",
        "mkdir /d && echo x > /d/f && ln -s /d/f /lnk && touch /ready && sleep 60", check=True)
    while cli("container", "exec", "cp", "test", "-e", "/ready").returncode:
        pass
    cli("container", "cp", "cp:/lnk", str(tmp_path / "as-link"), check=True)
    assert os.readlink(tmp_path / "as-link") == "/d/f"
    cli("container", "cp", "-L", "cp:/lnk", str(tmp_path / "followed"), check=True)
    assert (tmp_path / "followed").read_text() == "x\n"
    missing = cli("container", "cp", "cp:/nowhere", str(tmp_path))
    assert missing.returncode == 1 and missing.stderr.strip().endswith("Could not find the file /nowhere in container cp")
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    out = subprocess.run([sys.executable, "-m", "composer", "container", "cp", "cp:/d", "-"], capture_output=True,
                         env=env, timeout=60, check=True).stdout
    assert sorted(tarfile.open(fileobj=io.BytesIO(out)).getnames()) == ["d", "d/f"]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("from-stdin")
        info.size, info.uid = 3, 1234
        archive.addfile(info, io.BytesIO(b"in\n"))
    subprocess.run([sys.executable, "-m", "composer", "container", "cp", "-", "cp:/d"], input=buffer.getvalue(),
                   env=env, timeout=60, check=True)
    # (the stream's owner kept, as dockerd without -a: docker/cli#6870)
    assert cli("container", "exec", "cp", "stat", "-c", "%u %s", "/d/from-stdin", check=True).stdout == "1234 3\n"
    not_dir = subprocess.run([sys.executable, "-m", "composer", "container", "cp", "-", "cp:/d/f"],
                             input=buffer.getvalue(), env=env, timeout=60, capture_output=True, text=False)
    assert not_dir.returncode == 1 and b'destination "cp:/d/f" must be a directory' in not_dir.stderr


def test_a_renamed_running_container_answers_to_its_new_name(cli):
    cli("network", "create", "renames", check=True)
    cli("container", "run", "-d", "--name", "before", "--network", "renames", "busybox", "sleep", "60", check=True)
    cli("container", "rename", "before", "after", check=True)
    names = _inspect(cli, "after")["NetworkSettings"]["Networks"]["renames"]["DNSNames"]
    assert names[0] == "after" and "before" not in names
    looked_up = cli("container", "run", "--rm", "--network", "renames", "busybox", "sh", "-c",
                    "nslookup after >/dev/null && echo new-found; nslookup before >/dev/null || echo old-gone")
    assert looked_up.stdout.split() == ["new-found", "old-gone"], looked_up.stderr
    cli("container", "rm", "-f", "after", check=True)
    cli("network", "rm", "renames", check=True)


def test_run_attach_shows_only_the_streams_named(cli):
    script = "echo out; echo err >&2; exit 4"
    only_err = cli("container", "run", "--name", "ae", "-a", "STDERR", "busybox", "sh", "-c", script)
    assert (only_err.returncode, only_err.stdout, only_err.stderr) == (4, "", "err\n")
    logs = cli("container", "logs", "ae", check=True)
    assert (logs.stdout, logs.stderr) == ("out\n", "err\n")  # the log has both
    only_out = cli("container", "run", "--rm", "-a", "stdout", "busybox", "sh", "-c", script)
    assert (only_out.returncode, only_out.stdout, only_out.stderr) == (4, "out\n", "")
    bad = cli("container", "run", "--rm", "-a", "bogus", "busybox", "true")
    assert bad.returncode == 125 and "valid streams are STDIN, STDOUT and STDERR" in bad.stderr
    both = cli("container", "run", "-d", "-a", "stdout", "busybox", "true")
    assert both.returncode == 1 and "cannot specify both --attach and --detach" in both.stderr
    assert cli("container", "ls", "-aq", check=True).stdout.split() == [_inspect(cli, "ae")["Id"][:12]]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_what_pid_1_leaves_behind_in_the_host_pid_namespace_is_killed(cli):
    """``--pid host``: PID 1 is no namespace init, so its background processes would outlive it;
    runc kills them (docker: the container exits 0), the cgroup goes."""
    import time

    for mode in ("-d", "--name"):
        name = f"ph{mode.strip('-')}"
        argv = ["-d", "--name", name] if mode == "-d" else ["--name", name]
        result = cli("container", "run", *argv, "--pid", "host", "busybox", "sh", "-c", "sleep 60 & echo $!")
        assert result.returncode == 0, result.stderr
        assert cli("container", "wait", name, check=True).stdout.strip() == "0"
        left = int(cli("container", "logs", name, check=True).stdout.split()[0])
        deadline = time.monotonic() + 10
        while not _gone(left):
            assert time.monotonic() < deadline, f"pid {left} still runs"
            time.sleep(0.05)
        assert _inspect(cli, name)["State"]["Status"] == "exited"


def test_run_volumes_from_cpu_period_quota_and_sig_proxy(cli, tmp_path):
    cli("container", "run", "-d", "--name", "donor", "-v", "/data", "-v", f"{tmp_path}:/host:ro", "busybox", "sh",
        "-c", "echo shared > /data/x && touch /data/ready && sleep 60", check=True)
    while cli("container", "exec", "donor", "test", "-e", "/data/ready").returncode:
        pass
    shared = cli("container", "run", "--rm", "--volumes-from", "donor", "busybox", "sh", "-c",
                 "cat /data/x; touch /host/no 2>&1; true", check=True).stdout
    assert shared.startswith("shared\n") and "Read-only file system" in shared
    read_only = cli("container", "run", "--rm", "--volumes-from", "donor:ro", "busybox", "sh", "-c", "touch /data/y")
    assert read_only.returncode == 1 and "Read-only file system" in read_only.stderr
    missing = cli("container", "run", "--rm", "--volumes-from", "nosuch", "busybox", "true")
    assert missing.returncode == 125 and "No such container: nosuch" in missing.stderr
    quota = cli("container", "run", "--rm", "--sig-proxy=false", "-q", "--cpu-period", "100000", "--cpu-quota",
                "50000", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    assert quota.stdout.split() == ["50000", "100000"], quota.stderr
    for flags, message in ((["--cpus", "1", "--cpu-period", "5000"], "Nano CPUs and CPU Period cannot both be set"),
                           (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms"),
                           (["--cpu-quota", "10"], "CPU cfs quota can not be less than 1ms")):
        refused = cli("container", "run", "--rm", *flags, "busybox", "true")
        assert refused.returncode == 125 and message in refused.stderr
