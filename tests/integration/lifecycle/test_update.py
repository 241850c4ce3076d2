"""``composer update`` (docker update) on real containers: the live cgroup changes, inspect shows
the new limits, a stopped container gets them at its next start, a --restart change reaches the
running container's supervisor, and docker's errors (exit 1 when any container failed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from composer.engine.runtime.cgroups import detect_setup

pytestmark = pytest.mark.root


def _id(cli, name: str) -> str:
    return cli("container", "inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()


def _host_config(cli, name: str) -> dict:
    return json.loads(cli("container", "inspect", name, check=True).stdout)[0]["HostConfig"]


def _cgroup(cli, name: str, controller: str, file: str) -> str:
    """A cgroup file of the container (v1 hierarchies, or the one v2 directory)."""
    base = "/sys/fs/cgroup" if detect_setup() == "unified" else f"/sys/fs/cgroup/{controller}"
    return Path(f"{base}/composer/{_id(cli, name)}/{file}").read_text().strip()


def _v1_only() -> None:
    if detect_setup() == "unified":
        pytest.skip("reads cgroup v1 file names")


def test_running_container_limits_change_live_and_show_in_inspect(cli):
    _v1_only()
    cli("container", "run", "-d", "--name", "upd", "busybox", "sleep", "60", check=True)
    result = cli("update", "-m", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--pids-limit", "42",
                 "-c", "512", "--memory-reservation", "32m", "upd")
    assert (result.returncode, result.stdout, result.stderr) == (0, "upd\n", "")
    assert _cgroup(cli, "upd", "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert _cgroup(cli, "upd", "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert _cgroup(cli, "upd", "cpu", "cpu.cfs_quota_us") == "50000"
    assert _cgroup(cli, "upd", "cpu", "cpu.cfs_period_us") == "100000"
    assert _cgroup(cli, "upd", "cpu", "cpu.shares") == "512"
    assert _cgroup(cli, "upd", "pids", "pids.max") == "42"
    host = _host_config(cli, "upd")
    assert (host["Memory"], host["MemorySwap"], host["NanoCpus"], host["PidsLimit"], host["CpuShares"],
            host["MemoryReservation"]) == (64 << 20, 128 << 20, 500_000_000, 42, 512, 32 << 20)
    # raising memory above the current memory+swap: the kernel needs memsw written first
    assert cli("container", "update", "-m", "200m", "--memory-swap", "300m", "--pids-limit", "-1", "upd").returncode == 0
    assert _cgroup(cli, "upd", "memory", "memory.limit_in_bytes") == str(200 << 20)
    assert _cgroup(cli, "upd", "pids", "pids.max") == "max"
    assert _host_config(cli, "upd")["PidsLimit"] is None
    assert cli("container", "exec", "upd", "true").returncode == 0  # still alive and well
    cli("container", "pause", "upd", check=True)  # a paused container's cgroup takes them too
    assert cli("update", "--cpuset-cpus", "0", "upd", check=True).stdout == "upd\n"
    assert _cgroup(cli, "upd", "cpuset", "cpuset.cpus") == "0"
    assert cli("container", "inspect", "-f", "{{.State.Status}} {{.HostConfig.CpusetCpus}}", "upd").stdout == "paused 0\n"
    cli("container", "unpause", "upd", check=True)


def test_stopped_container_update_applies_at_next_start(cli):
    _v1_only()
    cli("container", "create", "--name", "later", "busybox", "sleep", "60", check=True)
    result = cli("update", "--cpu-quota", "20000", "--cpu-period", "50000", "--pids-limit", "7", "later")
    assert (result.returncode, result.stdout) == (0, "later\n")
    host = _host_config(cli, "later")
    assert (host["CpuQuota"], host["CpuPeriod"], host["PidsLimit"]) == (20000, 50000, 7)
    cli("container", "start", "later", check=True)
    assert _cgroup(cli, "later", "cpu", "cpu.cfs_quota_us") == "20000"
    assert _cgroup(cli, "later", "cpu", "cpu.cfs_period_us") == "50000"
    assert _cgroup(cli, "later", "pids", "pids.max") == "7"
    cli("container", "restart", "-t", "0", "later", check=True)  # a restart keeps them
    assert _cgroup(cli, "later", "pids", "pids.max") == "7"


def test_restart_policy_reaches_the_running_supervisor(cli):
    script = "test -f /once && exec sleep 60; touch /once; while [ ! -f /go ]; do sleep 0.05; done; exit 3"
    cli("container", "run", "-d", "--name", "flap", "busybox", "sh", "-c", script, check=True)  # 2nd life stays
    assert cli("update", "--restart", "always", "--pids-limit", "33", "flap", check=True).stdout == "flap\n"
    cli("container", "exec", "flap", "touch", "/go", check=True)
    assert _host_config(cli, "flap")["RestartPolicy"] == {"Name": "always", "MaximumRetryCount": 0}
    deadline = time.monotonic() + 20
    count = 0
    while time.monotonic() < deadline and count < 1:
        count = int(cli("container", "inspect", "-f", "{{.RestartCount}}", "flap", check=True).stdout)
        time.sleep(0.1)
    assert count >= 1  # exited with 3 and restarted by its (unrestarted) supervisor
    deadline = time.monotonic() + 20  # the new life's cgroup has the updated limit
    while cli("container", "inspect", "-f", "{{.State.Running}}", "flap").stdout.strip() != "true":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _cgroup(cli, "flap", "pids", "pids.max") == "33"


def test_restart_policy_no_stops_the_restarts_of_a_running_container(cli):
    cli("container", "run", "-d", "--name", "calm", "--restart", "always", "busybox", "sh", "-c",
        "while [ ! -f /quit ]; do sleep 0.05; done; exit 5", check=True)
    cli("update", "--restart", "no", "calm", check=True)
    cli("container", "exec", "calm", "touch", "/quit", check=True)
    assert cli("container", "wait", "calm").stdout == "5\n"
    assert cli("container", "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "calm").stdout == "exited 0\n"


def test_memory_below_usage_is_refused_and_nothing_changes(cli):
    _v1_only()
    cli("container", "run", "-d", "--name", "full", "-m", "100m", "--memory-swap", "100m", "busybox", "sh", "-c",
        "dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null; touch /tmp/ready; sleep 60", check=True)
    deadline = time.monotonic() + 20
    while cli("container", "exec", "full", "test", "-f", "/tmp/ready").returncode and time.monotonic() < deadline:
        time.sleep(0.1)
    result = cli("update", "-m", "10m", "--memory-swap", "10m", "full")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error response from daemon: Cannot update container {_id(cli, 'full')}: "
                                    "unable to set memory limit to 10485760 (current usage: ")
    assert _host_config(cli, "full")["Memory"] == 100 << 20
    assert _cgroup(cli, "full", "memory", "memory.limit_in_bytes") == str(100 << 20)


def test_errors_are_dockers(cli):
    cli("container", "run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "60", check=True)
    cli("container", "create", "--name", "cpus", "--cpus", "0.5", "busybox", "true", check=True)
    full = _id(cli, "cpus")
    result = cli("update", "--pids-limit", "9", "cpus", "nope", "gone")
    assert result.returncode == 1 and result.stdout == "cpus\ngone\n"
    assert result.stderr == "Error response from daemon: No such container: nope\n"
    result = cli("update", "--cpu-quota", "50000", "cpus")
    assert result.returncode == 1 and result.stderr == (
        f"Error response from daemon: Cannot update container {full}: Conflicting options: CPU Quota cannot be "
        "updated as NanoCPUs has already been set\n")
    result = cli("update", "--restart", "always", "gone")
    assert result.returncode == 1 and "Restart policy cannot be updated because AutoRemove is enabled" in result.stderr
    assert cli("update", "--restart", "no", "gone").returncode == 0
    checks = {("-m", "1m"): "Minimum memory limit allowed is 6MB",
              ("-m", "50m", "--memory-swap", "30m"): "Minimum memoryswap limit should be larger than memory limit",
              ("--cpus", "1", "--cpu-period", "5000"): "Nano CPUs and CPU Period cannot both be set",
              ("--cpu-period", "500"): "CPU cfs period can not be less than 1ms",
              ("--cpuset-cpus", "999"): "Requested CPUs are not available - requested 999, available: ",
              ("--restart", "bogus"): "invalid restart policy 'bogus'",
              ("--restart", "always:3"): "maximum retry count cannot be used with restart policy 'always'"}
    for flags, message in checks.items():
        result = cli("update", *flags, "cpus")
        assert result.returncode == 1 and message in result.stderr, (flags, result.stderr)
    assert "you must provide one or more flags" in cli("update", "cpus").stderr
    assert cli("update", "-m", "20x", "cpus").returncode == 125
    assert _host_config(cli, "cpus")["PidsLimit"] == 9  # only the successful update stuck


def test_cpu_shares_the_kernel_would_clamp_are_refused(cli):
    _v1_only()
    cli("container", "run", "-d", "--name", "share", "busybox", "sleep", "60", check=True)
    result = cli("update", "-c", "1", "share")
    assert result.returncode == 1 and "the minimum allowed cpu-shares is 2" in result.stderr
    assert _cgroup(cli, "share", "cpu", "cpu.shares") == "1024"  # put back
    assert _host_config(cli, "share")["CpuShares"] == 0
    started = cli("container", "run", "-d", "--name", "tiny", "--cpu-shares", "1", "busybox", "sleep", "60")
    assert started.returncode != 0 and "the minimum allowed cpu-shares is 2" in started.stderr  # as runc's start


@pytest.fixture
def rt_budget():
    """The real-time budget of composer's parent cgroup, given back after the test."""
    if detect_setup() == "unified" or not Path("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists():
        pytest.skip("needs cgroup v1 with real-time group scheduling")
    parent = Path("/sys/fs/cgroup/cpu/composer/cpu.rt_runtime_us")
    before = parent.read_text().strip() if parent.exists() else "0"
    yield
    try:
        parent.write_text(before)
    except OSError:
        pass  # another real-time group still there (not ours)


def test_realtime_period_and_runtime_are_applied_live_and_at_the_next_start(cli, rt_budget, state_root):
    cli("container", "run", "-d", "--name", "rt", "busybox", "sleep", "60", check=True)
    try:
        result = cli("update", "--cpu-rt-period", "100000", "--cpu-rt-runtime", "10000", "rt")
        assert (result.returncode, result.stdout, result.stderr) == (0, "rt\n", "")
        state = json.loads((state_root / "containers" / _id(cli, "rt") / "state.json").read_text())
        assert state["UpdatedAt"]  # what ``events`` turns into docker's ``update``
        assert _cgroup(cli, "rt", "cpu", "cpu.rt_period_us") == "100000"
        assert _cgroup(cli, "rt", "cpu", "cpu.rt_runtime_us") == "10000"
        assert int(Path("/sys/fs/cgroup/cpu/composer/cpu.rt_runtime_us").read_text()) >= 100_000  # its 10 %
        host = _host_config(cli, "rt")
        assert (host["CpuRealtimePeriod"], host["CpuRealtimeRuntime"]) == (100000, 10000)
        refused = cli("update", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000", "rt")
        assert refused.returncode == 1 and "cpu-rt-runtime cannot be higher than cpu-rt-period" in refused.stderr
        for _ in range(3):  # the previous life's cgroup still counts in its parent until the kernel releases it
            cli("container", "restart", "-t", "0", "rt", check=True)  # a new cgroup gets them at its creation
            assert _cgroup(cli, "rt", "cpu", "cpu.rt_runtime_us") == "10000"
    finally:
        cli("container", "rm", "-f", "rt")
