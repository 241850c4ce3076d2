"""The rest of issue 6's checklist on real containers: inspect's shape, exec's settings, OOM and
SIGTERM exits recorded by the supervisor, --log-driver none, image healthchecks, system verbs."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.root


def _inspect(cli, name: str) -> dict:
    return json.loads(cli("container", "inspect", name, check=True).stdout)[0]


def test_inspect_is_shaped_like_dockers(cli):
    cli("container", "run", "-d", "--name", "shape", "--restart", "on-failure:3", "-v", "/data", "-l", "k=v",
        "busybox", "sleep", "60", check=True)
    info = _inspect(cli, "shape")
    assert {"Id", "Created", "Name", "State", "Config", "HostConfig", "Mounts", "NetworkSettings",
            "RestartCount", "Image", "LogPath"} <= info.keys()
    assert {"Status", "Running", "Paused", "Restarting", "OOMKilled", "Pid", "ExitCode", "StartedAt",
            "FinishedAt"} <= info["State"].keys()
    assert info["Name"] == "/shape" and info["State"]["Running"] is True and info["RestartCount"] == 0
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert info["Config"]["Labels"]["k"] == "v" and info["Config"]["Cmd"] == ["sleep", "60"]
    assert info["Mounts"][0]["Destination"] == "/data" and info["Mounts"][0]["Type"] == "volume"
    assert info["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert cli("container", "inspect", "-f", "{{.State.Pid}} {{json .HostConfig.RestartPolicy}}",
               "shape").stdout.split()[0] == str(info["State"]["Pid"])


def test_exec_joins_the_cgroup_and_keeps_the_security_settings(cli):
    cli("container", "run", "-d", "--name", "sec", "--cap-drop", "NET_RAW", "busybox", "sleep", "60", check=True)
    script = "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/$$/status /proc/1/status | sed 's/.*status://'"
    lines = cli("container", "exec", "sec", "sh", "-c", script, check=True).stdout.splitlines()
    assert len(lines) == 6 and lines[:3] == lines[3:]  # the exec'd shell and PID 1 alike
    assert ["Seccomp:", "2"] in [line.split() for line in lines]
    assert cli("container", "exec", "-u", "65534:65534", "sec", "id", "-u").stdout == "65534\n"
    detached = cli("container", "exec", "-d", "sec", "sh", "-c", "sleep 0.2; touch /tmp/detached; exec sleep 30")
    assert detached.returncode == 0 and detached.stdout == ""
    deadline = time.monotonic() + 10
    while cli("container", "exec", "sec", "test", "-f", "/tmp/detached").returncode and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cli("container", "exec", "sec", "test", "-f", "/tmp/detached").returncode == 0
    assert "sleep 30" in cli("container", "top", "sec", check=True).stdout  # top lists the container's cgroup


def test_the_supervisor_records_oom_and_a_sigterm_exit(cli):
    cli("container", "run", "-d", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
        "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived", check=True)
    assert cli("container", "wait", "hog").stdout.strip() == "137"
    state = _inspect(cli, "hog")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    cli("container", "run", "-d", "--name", "polite", "busybox", "sh", "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.05; done", check=True)
    began = time.monotonic()
    cli("container", "stop", "-t", "60", "polite", check=True)
    assert time.monotonic() - began < 30  # ended by SIGTERM, not by the SIGKILL a minute later
    state = _inspect(cli, "polite")["State"]
    assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 0, False)


def test_log_driver_none_keeps_no_log(cli, state_root):
    container_id = cli("container", "run", "-d", "--log-driver", "none", "--name", "mute", "busybox", "echo", "hi",
                       check=True).stdout.strip()
    assert cli("container", "wait", "mute").stdout.strip() == "0"
    logs = cli("container", "logs", "mute")
    assert logs.returncode == 1 and "does not support reading" in logs.stderr
    assert not list((state_root / "containers" / container_id).glob("*-json.log*"))
    refused = cli("container", "run", "-d", "--log-driver", "syslog", "busybox", "true")
    assert refused.returncode != 0 and "'syslog' is not supported" in refused.stderr


def test_image_healthcheck_and_no_healthcheck(cli, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD [\"true\"]\n")
    cli("image", "build", "-q", "-t", "checked", str(tmp_path), check=True)
    cli("container", "run", "-d", "--name", "hc", "checked", "sleep", "60", check=True)
    cli("container", "run", "-d", "--name", "nohc", "--no-healthcheck", "checked", "sleep", "60", check=True)
    deadline = time.monotonic() + 20
    while _inspect(cli, "hc")["State"]["Health"]["Status"] != "healthy" and time.monotonic() < deadline:
        time.sleep(0.1)
    health = _inspect(cli, "hc")["State"]["Health"]
    assert health["Status"] == "healthy" and health["Log"][-1]["ExitCode"] == 0
    assert "Health" not in _inspect(cli, "nohc")["State"]
    assert "(healthy)" in cli("container", "ls", "--filter", "name=hc", "--format", "table").stdout
    cli("container", "run", "-d", "--name", "slow", "--health-cmd", "sleep 30", "--health-timeout", "300ms",
        "--health-interval", "200ms", "--health-retries", "1", "checked", "sleep", "60", check=True)
    while _inspect(cli, "slow")["State"]["Health"]["Status"] != "unhealthy" and time.monotonic() < deadline + 20:
        time.sleep(0.1)
    health = _inspect(cli, "slow")["State"]["Health"]
    assert health["Status"] == "unhealthy" and health["Log"][-1]["ExitCode"] == -1
    assert health["Log"][-1]["Output"] == "Health check exceeded timeout (300ms)"  # docker's words


def test_system_info_df_prune_and_version(cli, state_root):
    cli("container", "run", "-d", "--name", "up", "busybox", "sleep", "60", check=True)
    cli("container", "run", "-d", "--name", "done", "busybox", "true", check=True)
    cli("container", "wait", "done", check=True)
    info = json.loads(cli("system", "info", "-f", "json", check=True).stdout)
    assert (info["Containers"], info["ContainersRunning"], info["ContainersStopped"]) == (2, 1, 1)
    assert info["DockerRootDir"] == str(state_root) and info["CgroupSetup"] in ("legacy", "hybrid", "unified")
    df = cli("system", "df", check=True).stdout.splitlines()
    assert df[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"] and df[2].split()[1:3] == ["2", "1"]
    cli("network", "create", "lonely", check=True)
    cli("volume", "create", check=True)  # anonymous, used by nobody
    pruned = cli("system", "prune", "-f", "--volumes", check=True).stdout
    assert "Deleted Containers" in pruned and _inspect(cli, "up")["State"]["Running"]
    assert "Deleted Networks:\nlonely\n" in pruned and "Deleted Volumes:" in pruned  # as docker's
    assert pruned.splitlines()[-1].startswith("Total reclaimed space: ")
    assert cli("container", "inspect", "done").returncode == 1
    assert cli("network", "inspect", "lonely").returncode == 1 and not cli("volume", "ls", "-q").stdout.strip()
    version = cli("version", "--short", check=True).stdout.strip()
    shown = json.loads(cli("version", "-f", "json", check=True).stdout)  # compose: {"version":"v2.40.3"}
    assert version and shown == {"version": "v" + version}  # and --short 2.40.3
