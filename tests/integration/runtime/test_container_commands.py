"""container ls / inspect / rm and name conflicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root


def test_inspect_ls_rm_and_name_conflict(run, state_root):
    assert run("--name", "web", "-l", "tier=front", "-v", "/anon", "busybox", "sh", "-c", "exit 2").returncode == 2
    conflict = run("--name", "web", "busybox", "true")
    assert conflict.returncode == 125 and 'The container name "/web" is already in use' in conflict.stderr
    (info,) = json.loads(cli(state_root, "container", "inspect", "web").stdout)
    assert info["Name"] == "/web" and info["State"]["ExitCode"] == 2 and info["State"]["Status"] == "exited"
    assert info["State"]["OOMKilled"] is False and info["Config"]["Labels"]["tier"] == "front"
    assert info["Mounts"][0]["Destination"] == "/anon"
    assert cli(state_root, "container", "ls").stdout.count("\n") == 1
    listing = cli(state_root, "container", "ls", "-a", "-q").stdout.split()
    assert listing == [info["Id"][:12]]
    assert cli(state_root, "container", "rm", "-v", "web").returncode == 0
    assert cli(state_root, "volume", "ls", "-q").stdout == ""
    assert cli(state_root, "container", "inspect", "web").returncode == 1
    assert run("--rm", "--name", "web", "busybox", "true").returncode == 0


def test_typer_path_delegates(run, state_root):
    result = cli(state_root, "container", "run", "--help")
    assert "Usage:  composer container run" in result.stdout


@pytest.mark.slow
def test_run_pulls_a_missing_image(run, state_root, registry, docker_config, tmp_path):
    import uuid

    name = f"{registry.host}/run-{uuid.uuid4().hex[:8]}:v1"
    assert cli(state_root, "image", "tag", "busybox", name).returncode == 0
    assert cli(state_root, "image", "push", "-q", name).returncode == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = subprocess.run([sys.executable, "-m", "composer", "container", "run", "--rm", "--network", "none", name, "echo", "pulled"],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, COMPOSER_ROOT=str(fresh)))
    assert result.stdout == "pulled\n", result.stderr
    assert f"Unable to find image '{name}' locally" in result.stderr
    never = subprocess.run([sys.executable, "-m", "composer", "container", "run", "--rm", "--pull", "never",
                            "nothing-here:v9", "true"], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, COMPOSER_ROOT=str(fresh)))
    assert never.returncode != 0 and "nothing-here" in never.stderr and "Unable to find" not in never.stderr


def test_stop_signal_is_what_stop_sends(image, state_root):
    """``--stop-signal``: ``container stop`` sends it (not SIGTERM) to PID 1."""
    started = cli(state_root, "container", "run", "-d", "--name", "sig", "--network", "none", "--stop-signal",
                        "USR1", "busybox", "sh", "-c", "trap 'exit 7' USR1; trap 'exit 9' TERM; while :; do sleep 1; done")
    assert started.returncode == 0, started.stderr
    try:
        assert cli(state_root, "container", "stop", "sig").returncode == 0
        state = json.loads(cli(state_root, "container", "inspect", "sig").stdout)[0]["State"]
        assert state["ExitCode"] == 7, state
    finally:
        cli(state_root, "container", "rm", "-f", "sig")


def test_start_leaves_config_json_alone(image, state_root):
    """``create`` writes config.json; a start changes nothing in it, so it does not write it again."""
    assert cli(state_root, "container", "create", "--name", "once", "--network", "none", "busybox",
                     "true").returncode == 0
    try:
        (directory,) = (state_root / "containers").iterdir()
        before = (directory / "config.json").stat().st_ino
        assert cli(state_root, "container", "start", "once").returncode == 0
        assert cli(state_root, "container", "wait", "once").stdout.strip() == "0"
        assert (directory / "config.json").stat().st_ino == before
    finally:
        cli(state_root, "container", "rm", "-f", "once")
