"""Exit codes of Compose commands as Docker Compose 2.40's (checked on dockerd 20.10/docker 28): every
error exits 1 (a container that cannot start, a missing image); ``run`` and ``exec`` return their
command's own code, and ``exec`` the exec's 126/127; docker's commands keep docker's codes."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

PROJECT = """
services:
  ok:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    network_mode: none
  bad:
    image: busybox
    command: nosuchcmd
    network_mode: none
    profiles: [bad]
  missing:
    image: nosuchimage:1
    pull_policy: never
    profiles: [missing]
"""
NOT_FOUND = 'exec: "nosuchcmd": executable file not found in $PATH'


def test_errors_of_compose_commands_exit_1(project):
    project.write(PROJECT)
    for command in (("up", "-d", "bad"), ("start", "bad"), ("restart", "bad"), ("run", "--rm", "bad"),
                    ("run", "-d", "bad")):
        result = project("--profile", "bad", *command, ok=False)
        assert (result.returncode, NOT_FOUND in result.stderr) == (1, True), (command, result.stderr)
    for command in (("up", "-d", "missing"), ("create", "missing"), ("run", "--rm", "missing")):
        result = project("--profile", "missing", *command, ok=False)
        assert (result.returncode, "nosuchimage:1" in result.stderr) == (1, True), (command, result.stderr)
    docker_start = project("container", "start", f"{project.name}-bad-1", ok=False)
    assert docker_start.returncode == 1 and NOT_FOUND in docker_start.stderr  # docker start: 1 as well
    docker_run = project("container", "run", "--rm", "--network", "none", "busybox", "nosuchcmd", ok=False)
    assert docker_run.returncode == 127 and NOT_FOUND in docker_run.stderr  # docker run: 127


def test_run_and_exec_return_the_commands_code(project):
    project.write(PROJECT)
    assert project("run", "--rm", "ok", "sh", "-c", "exit 3", ok=False).returncode == 3
    project("up", "-d", "ok")
    assert project("exec", "ok", "sh", "-c", "exit 4", ok=False).returncode == 4
    missing = project("exec", "ok", "nosuchcmd", ok=False)
    assert missing.returncode == 127 and NOT_FOUND in missing.stdout, missing.stderr  # the exec's (today's moby)
    assert project("exec", "ok", "/etc/passwd", ok=False).returncode == 126
