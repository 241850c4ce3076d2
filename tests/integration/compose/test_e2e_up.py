"""docker/compose pkg/e2e intents about ``up`` (attached and detached), ``wait``, ``exec``, ``logs``
and the errors of unknown services, in our own words and projects (docs/e2e-intents.md)."""

from __future__ import annotations

import re

import pytest

from tests.integration.compose.conftest import PROJECTS

pytestmark = [pytest.mark.root]

CASCADE = (PROJECTS / "cascade" / "compose.yaml").read_text()


def states(project) -> dict[str, tuple[str, int]]:
    return {r["Service"]: (r["State"], r["ExitCode"]) for r in project.ps("-a")}


def test_abort_on_container_exit_and_failure(project):
    """TestCascadeStop, TestCascadeFail."""
    project.write(CASCADE.replace('["sh", "-c", "exit 111"]', '["true"]'))
    stopped = project("up", "--no-color", "--abort-on-container-exit", "running", "exit", timeout=60)
    assert stopped.returncode == 0 and "exit-1 exited with code 0" in stopped.stdout
    assert "Aborting on container exit..." in stopped.stderr and "Aborting" not in stopped.stdout  # as compose
    assert "  Created" in stopped.stderr and "  Started" not in stopped.stderr  # attached: no start lines
    assert states(project)["running"][0] == "exited"
    project("down", "-t", "1")
    project.write(CASCADE)
    failed = project("up", "--no-color", "--abort-on-container-failure", ok=False, timeout=60)
    assert failed.returncode == 111, failed.stderr
    assert "exit-1 exited with code 0" in failed.stdout and "fail-1 exited with code 111" in failed.stdout
    assert states(project)["running"][0] == "exited"


def test_exit_code_from(project):
    """TestUpExitCodeFrom, TestUpExitCodeFromContainerKilled (143: stopped by the abort)."""
    project.write("""
    services:
      test:
        image: busybox
        command: ["sleep", "1000"]
        init: true
      other:
        image: busybox
        command: ["sh", "-c", "sleep 0.5; exit 42"]
    """)
    assert project("up", "--exit-code-from", "other", ok=False, timeout=60).returncode == 42
    project("down", "-t", "1")
    assert project("up", "--exit-code-from", "test", ok=False, timeout=60).returncode == 143


def test_streams_stay_apart(project):
    """TestStdoutStderr: a container's stdout goes to stdout, its stderr to stderr."""
    project.write("""
    services:
      talk:
        image: busybox
        command: ["sh", "-c", "echo log to stdout; echo log to stderr >&2"]
    """)
    result = project("up", "--no-color", timeout=60)
    assert "log to stdout" in result.stdout and "log to stdout" not in result.stderr
    assert "log to stderr" in result.stderr and "log to stderr" not in result.stdout


def test_dependency_conditions(project):
    """TestInitContainer, TestUpWithDependencyExit, TestUpServiceUnhealthy,
    TestUpWithDependencyNotRequired, TestUpWait."""
    project.copy("conditions")
    result = project("up", "-d", "app", timeout=90)  # the optional dependency's failure is only a warning
    assert "optional" in result.stderr and [r["Service"] for r in project.ps() if r["Service"] == "app"]
    assert project("logs", "--no-log-prefix", "app").stdout == "initialized\n"
    project("down", "-v", "-t", "1")
    project.copy("conditions-failing")
    exited = project("up", "-d", "app", ok=False, timeout=90)
    assert exited.returncode != 0 and "db" in exited.stderr and "Traceback" not in exited.stderr
    unhealthy = project("up", "-d", "web", ok=False, timeout=90)
    assert unhealthy.returncode != 0 and "unhealthy" in unhealthy.stderr and "not yet" in unhealthy.stderr


def test_up_wait_timeout(project):
    """TestUpWaitTimeout: --wait-timeout fails once it expires instead of succeeding."""
    project.write("""
    services:
      slow:
        image: busybox
        command: ["sh", "-c", "{loop}"]
        healthcheck: {test: ["CMD", "false"], interval: 10s, start_period: 60s}
    """)
    result = project("up", "-d", "--wait", "--wait-timeout", "2", ok=False, timeout=60)
    assert result.returncode != 0 and "slow" in result.stderr


def test_wait_and_down_project(project):
    """TestWaitOnFaster, TestWaitOnSlower, TestWaitAndDrop."""
    project.write("""
    services:
      quick:
        image: busybox
        command: ["sh", "-c", "sleep 0.5; exit 4"]
      slow:
        image: busybox
        command: ["sh", "-c", "sleep 2; exit 5"]
      forever:
        image: busybox
        command: ["sh", "-c", "{loop}"]
    """)
    project("up", "-d")
    waited = project("wait", "slow", ok=False)  # after quick exited first
    assert waited.returncode == 5
    assert re.fullmatch('container "[0-9a-f]{64}" exited with status code 5\n', waited.stdout)  # Compose's words
    project("up", "-d")
    waited = project("wait", "quick", ok=False)  # while the others still run
    assert waited.returncode == 4 and waited.stdout.endswith(" exited with status code 4\n")
    project("up", "-d")
    dropped = project("wait", "--down-project", "quick", ok=False)
    assert dropped.stdout.strip().endswith("4")
    assert project.ps("-a") == []


def test_exec_prefers_service_container_and_logs_index(project):
    """TestLocalComposeExec, TestExec, TestLocalComposeExecOneOff, TestLocalComposeLogs (--index)."""
    project.write("""
    services:
      svc:
        image: busybox
        command: ["sh", "-c", "echo replica $$HOSTNAME; {loop}"]
    """)
    project("run", "-d", "--name", "proj-svc-run", "svc")
    alone = project("exec", "-T", "svc", "hostname")
    assert alone.returncode == 0  # only the one-off exists: exec reaches it
    project("up", "-d", "--scale", "svc=2")
    replica = project("exec", "-T", "svc", "sh", "-c", "hostname")
    assert replica.stdout.strip() == [r["ID"] for r in project.ps() if r["Name"] == "proj-svc-1"][0][:12]
    assert project("exec", "-T", "svc", "sh", "-c", "exit 7", ok=False).returncode == 7
    only = project("exec", "-T", "-e", "ONLY=1", "svc", "sh", "-c", "echo $ONLY $MISSING.").stdout
    assert only == "1 .\n"
    second = project("logs", "--no-log-prefix", "--index", "2", "svc").stdout
    assert second.count("replica") == 1


def test_unknown_services_are_refused(project):
    """TestEventsUnknownService, TestPs ("ps unknown"), TestPauseServiceDoesNotExist."""
    project.write("""
    services:
      svc:
        image: busybox
    """)
    for command in (("events", "not-a-service"), ("ps", "not-a-service"), ("logs", "not-a-service")):
        result = project(*command, ok=False, timeout=20)
        assert result.returncode == 1 and "no such service: not-a-service" in result.stderr, command


def test_ctrl_c_stops_the_attached_services_only(project):
    """TestUpDependenciesNotStopped: Ctrl-C on ``up app`` stops app (exit 130), not its dependency
    nor other containers of the project."""
    import signal

    project.write("""
    services:
      other:
        image: busybox
        command: ["sh", "-c", "{loop}"]
      dependency:
        image: busybox
        command: ["sh", "-c", "{loop}"]
      app:
        image: busybox
        command: ["sh", "-c", "echo hello app; {loop}"]
        depends_on: [dependency]
    """)
    project("up", "-d", "other")
    attached = project.popen("up", "--no-color", "app")
    try:
        while "hello app" not in attached.stdout.readline():
            assert attached.poll() is None, attached.stderr.read()
        attached.send_signal(signal.SIGINT)
        assert attached.wait(timeout=60) == 130
    finally:
        attached.kill()
        attached.communicate()
    assert {r["Service"]: r["State"] for r in project.ps("-a")} == {
        "app": "exited", "dependency": "running", "other": "running"}


def test_logs_of_surviving_services_keep_flowing_on_abort(project):
    """TestUpStopWithLogsMixed (its log part): what a service prints while the abort stops it is shown."""
    project.write("""
    services:
      service1:
        image: busybox
        command: ["sh", "-c", "sleep 1; echo bye"]
      service2:
        image: busybox
        command: ["sh", "-c", "trap 'echo stopping politely; exit 0' TERM; while :; do echo tick; sleep 0.2; done"]
    """)
    result = project("--ansi", "never", "up", "--abort-on-container-exit", timeout=60)
    assert "service1-1 exited with code 0" in result.stdout and "service2-1  | tick" in result.stdout
    assert "service2-1  | stopping politely" in result.stdout
    assert "Container proj-service1-1  Stopped" in result.stderr or "proj-service2-1  Stopped" in result.stderr


def test_dry_run_up_plans_a_missing_image_without_touching_anything(project):
    """compose's TestUpDryRunMissingImage: the plan pulls it; nothing is pulled, created or started."""
    project.write("""
        services:
          app: {image: "127.0.0.1:9/ghost:1"}
        """)
    result = project("--dry-run", "up", "-d")
    assert " DRY-RUN MODE -  Image 127.0.0.1:9/ghost:1  Pulling\n" in result.stderr
    assert project.ps("-a") == [] and "proj_default" not in project("network", "ls").stdout
