"""``run`` as compose's e2e suite states it: ports only with ``-p``/``--service-ports``, piped stdin
reaches the one-off (no TTY, ``--tty`` refused), a ``--rm`` one-off stopped from outside is removed,
``--pull``/``--build`` act once per image, and a one-off does not abort an attached ``up``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests.integration.compose.conftest import WEB

pytestmark = [pytest.mark.root]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def published(project, name_part: str) -> set[int]:
    return {p["PublishedPort"] for r in project.ps("-a") if name_part in r["Name"] for p in r["Publishers"]
            if p["PublishedPort"]}


def test_run_publishes_ports_only_when_asked(project):
    model, adhoc = free_port(), free_port()
    project.write(f"""
        services:
          back:
            image: busybox
            command: ["sh", "-c", "{{loop}}"]
            ports: ["{model}:80"]
        """)
    project("run", "-d", "--name", "adhoc", "-p", f"{adhoc}:80", "back", "sh", "-c", "sleep 30")
    project("run", "-d", "--name", "model", "--service-ports", "back", "sh", "-c", "sleep 30")
    project("run", "-d", "--name", "plain", "back", "sh", "-c", "sleep 30")
    assert published(project, "adhoc") == {adhoc}
    assert published(project, "model") == {model}
    assert published(project, "plain") == set()


def test_piped_stdin_reaches_the_one_off_without_a_tty(project):
    project.write("""
        services:
          piped:
            image: busybox
        """)
    run = [sys.executable, "-m", "composer", "run", "--rm", "piped"]
    echoed = subprocess.run([*run, "cat"], input="piped-content\n", capture_output=True, text=True,
                            cwd=project.directory, timeout=60)
    assert (echoed.returncode, echoed.stdout) == (0, "piped-content\n")
    probe = subprocess.run([*run, "sh", "-c", "test -t 0 && echo TTY || echo No TTY detected; exit 3"],
                           input="", capture_output=True, text=True, cwd=project.directory, timeout=60)
    assert (probe.returncode, probe.stdout) == (3, "No TTY detected\n")
    refused = subprocess.run([*run[:-1], "--tty", "piped", "true"], input="x", capture_output=True, text=True,
                             cwd=project.directory, timeout=60)
    assert refused.returncode == 1 and "stdin is not a terminal" in refused.stderr
    assert project.ps("-a") == []  # --rm removed both one-offs


def test_rm_one_off_stopped_from_outside_is_removed(project):
    project.write(WEB)
    started = project("run", "--rm", "-d", "web").stdout.strip()  # its id, as compose prints it
    assert [r["Name"][:13] for r in project.ps("-a") if started.startswith(r["ID"])] == ["proj-web-run-"]
    project("container", "stop", "-t", "5", started)
    deadline = time.monotonic() + 10
    while any(started.startswith(r["ID"]) for r in project.ps("-a")):
        assert time.monotonic() < deadline, "the --rm one-off was not removed"
        time.sleep(0.1)


def test_run_pull_never_and_build_once(project):
    project.write("""
        services:
          base:
            build: {context: ., dockerfile_inline: "FROM busybox\\nENV LEVEL=base"}
            command: ["sh", "-c", "{loop}"]
          app:
            build: {context: ., dockerfile_inline: "FROM busybox\\nENV LEVEL=app"}
            depends_on: [base]
          ghost:
            image: ghost-image:never
        """)
    missing = project("run", "--rm", "--pull", "never", "ghost", "true", ok=False)
    assert missing.returncode != 0 and "not found locally" in missing.stderr
    result = project("--progress", "plain", "run", "--build", "--rm", "app", "sh", "-c", "echo $LEVEL")
    assert result.stdout == "app\n"
    built = [line for line in result.stderr.splitlines() if " Built" in line]
    assert len([b for b in built if "proj-base" in b]) == 1 and len([b for b in built if "proj-app" in b]) == 1


def test_a_one_off_does_not_abort_an_attached_up(project):
    project.write("""
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo web up; {loop}"]
        """)
    up = project.popen("up", "--abort-on-container-exit")
    try:
        deadline = time.monotonic() + 60
        while not [r for r in project.ps() if r["Service"] == "web" and r["State"] == "running"]:
            assert time.monotonic() < deadline and up.poll() is None, "up did not start web"
            time.sleep(0.1)
        assert project("run", "--rm", "web", "sh", "-c", "exit 4", ok=False).returncode == 4
        time.sleep(1)
        assert up.poll() is None, "the one-off's exit aborted the attached up"
    finally:
        up.terminate()
        up.communicate(timeout=60)


def test_run_skips_an_optional_dependency_of_an_inactive_profile(project):
    project.write("""
        services:
          foo:
            image: busybox
            command: ["echo", "foo"]
            depends_on:
              bar: {condition: service_started, required: false}
          bar:
            image: busybox
            profiles: [not-required]
        """)
    assert project("run", "--rm", "foo").stdout == "foo\n"
    assert project.ps("-a") == []  # bar never materialized
