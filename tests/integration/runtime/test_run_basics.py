"""`container run` basics: exit codes, process semantics, isolation probes, --rm and state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.integration.runtime.conftest import start

pytestmark = pytest.mark.root


def test_true_and_exit_codes(run):
    assert run("--rm", "--network", "none", "busybox", "true").returncode == 0
    assert run("--rm", "busybox", "sh", "-c", "exit 3").returncode == 3
    missing = run("--rm", "busybox", "no-such-command")
    assert missing.returncode == 127
    assert 'exec: "no-such-command": executable file not found in $PATH' in missing.stderr
    assert run("--rm", "busybox", "/etc/passwd").returncode == 126
    assert run("--rm", "busybox", "/").returncode == 126


def test_output_and_killed_by_signal(run):
    result = run("--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 0")
    assert (result.stdout, result.stderr, result.returncode) == ("out\n", "err\n", 0)
    # outside a PID namespace the shell can SIGKILL itself: the exit code is 128 + 9
    assert run("--rm", "--pid", "host", "busybox", "sh", "-c", "kill -9 $$").returncode == 137


def test_isolation_probe(run, state_root):
    result = run("--rm", "busybox", "sh", "-c",
                 "echo pid=$$; hostname; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status;"
                 " cat /proc/mounts; ls /proc/self/fd")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "pid=1\n" in out
    assert "CapEff:\t00000000a80425fb" in out
    assert "NoNewPrivs:\t0" in out and "Seccomp:\t2" in out
    assert str(state_root) in out  # only as the overlay's options
    mount_points = [line.split()[1] for line in out.splitlines() if line.startswith(("overlay", "proc", "tmpfs", "/dev"))]
    assert not any(p.startswith(("/work", "/home", "/var/lib")) for p in mount_points)
    fds = out.strip().splitlines()[-1].split()
    assert set(fds) <= {"0", "1", "2", "3"}, fds  # 3 is ls's own directory


def test_hostname_env_workdir_user_entrypoint(run, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\nA=file\n")
    result = run("--rm", "-h", "box", "-e", "A=cli", "--env-file", str(env_file), "-w", "/srv/app",
                 "-u", "nobody", "busybox", "sh", "-c", "hostname; echo $A $FROM_FILE; pwd; id -u; id -g")
    assert result.stdout.split() == ["box", "cli", "yes", "/srv/app", "65534", "65534"], result.stderr
    groups = run("--rm", "-u", "root:wheel", "busybox", "id")
    assert "gid=10(wheel)" in groups.stdout
    entry = run("--rm", "--entrypoint", "echo", "busybox", "hello", "world")
    assert entry.stdout == "hello world\n"
    unknown = run("--rm", "-u", "nosuchuser", "busybox", "true")
    assert unknown.returncode == 125 and "nosuchuser" in unknown.stderr


def test_image_cmd_and_no_command(run):
    image_cmd = run("--rm", "busybox", input="echo not-read\n")  # the image's CMD: sh, stdin /dev/null
    assert image_cmd.returncode == 0 and image_cmd.stdout == ""
    assert run("--rm", "-i", "busybox", input="echo piped\n").stdout == "piped\n"
    assert run("--rm", "--entrypoint", "", "busybox").returncode == 125


def test_state_kept_without_rm(run, state_root):
    assert run("--name", "keep", "busybox", "sh", "-c", "exit 7").returncode == 7
    (directory,) = (state_root / "containers").iterdir()
    state = json.loads((directory / "state.json").read_text())
    assert state["Status"] == "exited" and state["ExitCode"] == 7 and state["OOMKilled"] is False
    assert json.loads((directory / "config.json").read_text())["name"] == "keep"
    run("--rm", "busybox", "true")
    assert len(list((state_root / "containers").iterdir())) == 1  # --rm left nothing


def test_network_modes(run):
    none = run("--rm", "--network", "none", "busybox", "ip", "-o", "link")
    assert [line.split(":")[1].strip() for line in none.stdout.splitlines()] == ["lo"]
    assert "UP" in none.stdout
    host = run("--rm", "--network", "host", "busybox", "hostname")
    assert host.stdout.strip() == os.uname().nodename
    resolv = run("--rm", "--network", "none", "busybox", "cat", "/etc/resolv.conf")
    assert resolv.stdout == open("/etc/resolv.conf").read()
    hosts = run("--rm", "-h", "web", "--add-host", "db:10.0.0.2", "busybox", "cat", "/etc/hosts")
    assert "10.0.0.2\tdb" in hosts.stdout and "127.0.0.1\tlocalhost" in hosts.stdout


def test_signals_are_forwarded(image, state_root):
    process = start(state_root, "--rm", "busybox", "sh", "-c",
                    "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done")
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 42
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_init_reaps_as_pid1(run):
    result = run("--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
    assert result.stdout.splitlines()[0].startswith("/sbin/docker-init -- sh"), result.stdout + result.stderr
    assert result.stdout.splitlines()[1] != "1"


def test_pid_host_shares_pids(run):
    result = run("--rm", "--pid", "host", "busybox", "sh", "-c", "echo $$")
    assert int(result.stdout) > 1


def test_unknown_flag_and_image(run):
    assert run("--no-such-flag", "busybox").returncode != 0
    missing = run("--rm", "--pull", "never", "no-such-image:1", "true")
    assert missing.returncode != 0 and "no-such-image" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_host_namespaces(run):
    ipc_ns = os.readlink("/proc/self/ns/ipc")
    uts = run("--rm", "--uts", "host", "busybox", "hostname")
    assert uts.stdout.strip() == os.uname().nodename
    ipc = run("--rm", "--ipc", "host", "--pid", "host", "busybox", "readlink", "/proc/self/ns/ipc")
    assert ipc.stdout.strip() == ipc_ns
    private = run("--rm", "--pid", "host", "busybox", "readlink", "/proc/self/ns/ipc")
    assert private.stdout.strip() != ipc_ns
    refused = run("--rm", "--ipc", "container:other", "busybox", "true")
    assert refused.returncode != 0 and "No such container: other" in refused.stderr


def test_host_environment_does_not_leak(run, monkeypatch):
    monkeypatch.setenv("COMPOSER_SECRET_TEST", "leak")
    result = run("--rm", "busybox", "env")
    assert "COMPOSER_SECRET_TEST" not in result.stdout
    assert sorted(line.split("=")[0] for line in result.stdout.split()) == ["HOME", "HOSTNAME", "PATH"]


def test_failed_create_leaves_nothing(run, state_root, tmp_path):
    result = run("--name", "broken", "--cpuset-cpus", "99", "busybox", "true")
    assert result.returncode == 125
    assert list((state_root / "containers").iterdir()) == []
    assert run("--rm", "--name", "broken", "busybox", "true").returncode == 0  # the name is free


def test_container_dies_with_its_runtime(image, state_root):
    """SIGKILL of the foreground CLI takes the container down (parent-death signal)."""
    import glob

    process = start(state_root, "--rm", "busybox", "sh", "-c", "echo ready; sleep 60")
    try:
        assert process.stdout.readline() == "ready\n"
        (container,) = [p.name for p in (state_root / "containers").iterdir()]
        pid = json.loads((state_root / "containers" / container / "state.json").read_text())["Pid"]
        process.kill()
        process.wait()
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for path in glob.glob(f"/sys/fs/cgroup/*/composer/{container}"):  # the CLI could not clean up
            _rmdir_when_reaped(path)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting for the host's init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _rmdir_when_reaped(path: str, timeout: float = 30) -> None:
    """rmdir a cgroup once the host's init has reaped its last zombie."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_cgroup_namespace(run):
    private = run("--rm", "busybox", "grep", "memory", "/proc/self/cgroup")
    assert private.stdout.strip().endswith("memory:/")
    host = run("--rm", "--cgroupns", "host", "busybox", "grep", "memory", "/proc/self/cgroup")
    assert "/composer/" in host.stdout


def test_dns_group_add_label_file_cidfile(run, tmp_path, state_root):
    labels = tmp_path / "labels"
    labels.write_text("tier=back\n")
    cidfile = tmp_path / "cid"
    result = run("--name", "dnsbox", "--dns", "10.0.0.53", "--dns-search", "example.org", "--dns-option", "ndots:2",
                 "--group-add", "wheel", "--group-add", "4242", "--label-file", str(labels), "--cidfile", str(cidfile),
                 "busybox", "sh", "-c", "cat /etc/resolv.conf; id -G")
    lines = result.stdout.splitlines()
    assert "nameserver 10.0.0.53" in lines and "search example.org" in lines and "options ndots:2" in lines
    assert lines[-1].split() == ["0", "10", "4242"], result.stderr
    config = json.loads((state_root / "containers" / cidfile.read_text() / "config.json").read_text())
    assert config["labels"]["tier"] == "back"
    again = run("--rm", "--cidfile", str(cidfile), "busybox", "true")
    assert again.returncode != 0 and "container ID file found" in again.stderr
    refused = run("--rm", "--network", "none", "-p", "80:80", "busybox", "true")
    assert refused.returncode != 0 and "needs a bridge network" in refused.stderr


@pytest.mark.slow
def test_bridge_network_through_the_network_layer(run, state_root, monkeypatch):
    """--network bridge joins composer.network's default bridge (the runtime's seam)."""
    monkeypatch.setenv("COMPOSER_ROOT", str(state_root))
    from composer.network.manager import NetworkManager

    try:
        result = run("--rm", "--network", "bridge", "-h", "web", "busybox", "sh", "-c",
                     "ip -o -4 addr show eth0; ip route; tail -1 /etc/hosts")
        assert result.returncode == 0, result.stderr
        address = result.stdout.split("inet ")[1].split("/")[0]
        assert "default via" in result.stdout and f"{address}\tweb" in result.stdout
        assert NetworkManager().get("bridge").endpoints == {}  # released when the container ended
        _check_published_port(state_root)
    finally:
        try:
            NetworkManager().remove("bridge", predefined_ok=True)
        except Exception:  # noqa: BLE001 - nothing was created
            pass


def _check_published_port(state_root) -> None:
    """-p 127.0.0.1:PORT:8080 reaches a server in the container."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start(state_root, "--rm", "--init", "--network", "bridge", "-p", f"127.0.0.1:{port}:8080",
                    "busybox", "sh", "-c", "mkdir /www && echo published > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www")
    try:
        assert process.stdout.readline() == "ready\n"
        deadline, body = time.monotonic() + 20, ""
        while time.monotonic() < deadline and not body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
        assert body == "published\n"
    finally:
        process.terminate()  # forwarded to tini, which stops httpd
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_failed_exec_keeps_a_created_container(run, state_root):
    result = run("--name", "noexec", "--network", "none", "busybox", "no-such-command")
    assert result.returncode == 127
    (directory,) = (state_root / "containers").iterdir()
    state = json.loads((directory / "state.json").read_text())
    assert (state["Status"], state["ExitCode"], state["Running"]) == ("created", 127, False)
    assert "executable file not found" in state["Error"]


def test_failure_while_the_runtime_builds_is_reported(run, state_root):
    """PID 1 failing before the runtime's go-ahead (its go pipe already closed) is a 125 with the
    child's message, never a silent 0 (a BrokenPipeError the CLI took for a closed stdout)."""
    for userns in ("host", "private", "private"):  # the userns path makes the child fail first more often
        result = run("--rm", "--network", "none", "--userns", userns, "--sysctl", "kernel.shm_rmid_forced=bogus",
                     "busybox", "true")
        assert result.returncode == 125, result.stderr
        assert "container init failed" in result.stderr and "shm_rmid_forced" not in result.stdout
    assert list((state_root / "containers").iterdir()) == []
