"""docker/compose pkg/e2e intents about the lifecycle commands (pause, start, stop, restart, rm,
scale, --no-deps, orphans), in our own words and projects (docs/e2e-intents.md maps them)."""

from __future__ import annotations

import pytest

from tests.integration.compose.conftest import PROJECTS

pytestmark = [pytest.mark.root]

STACK = (PROJECTS / "lifecycle" / "compose.yaml").read_text()


def states(project) -> dict[str, str]:
    return {r["Name"]: r["State"] for r in project.ps("-a")}


def ids(project) -> dict[str, str]:
    return {r["Name"]: r["ID"] for r in project.ps("-a")}


def test_pause_unpause_and_their_errors(project):
    """TestPause, TestPauseServiceNotRunning, TestPauseServiceAlreadyPaused, TestPauseServiceDoesNotExist."""
    project.write(STACK)
    project("up", "-d", "db", "web")
    project("pause", "lone")  # no container: nothing to do
    project("pause", "web")
    assert states(project) == {"proj-db-1": "running", "proj-web-1": "paused"}
    again = project("pause", "web", ok=False)
    assert again.returncode != 0 and "paused" in again.stderr
    unknown = project("pause", "nope", ok=False)
    assert unknown.returncode != 0 and "no such service: nope" in unknown.stderr
    before = ids(project)
    project("unpause", "web")
    assert states(project)["proj-web-1"] == "running" and ids(project) == before  # resumed in place


def test_stop_start_restart_keep_the_same_containers(project):
    """TestStartStop, TestStartStopWithDependencies, TestStartSingleServiceAndDependency,
    TestStopAlreadyStopped, TestStartAlreadyRunning, TestRestart."""
    project.write(STACK)
    project("create")
    assert set(states(project).values()) == {"created"}
    project("start", "web")  # and its dependency, nothing else
    assert states(project) == {"proj-db-1": "running", "proj-lone-1": "created", "proj-web-1": "running"}
    project("start", "web")  # already running: fine
    before = ids(project)
    project("stop", "-t", "1", "web")  # only the requested service
    assert states(project)["proj-web-1"] == "exited" and states(project)["proj-db-1"] == "running"
    project("stop", "-t", "1", "web")  # already stopped: fine
    project("start")
    assert set(states(project).values()) == {"running"} and ids(project) == before
    project("stop", "-t", "1", "lone")
    project("restart", "-t", "1", "lone")  # an exited service comes back, same container
    assert states(project)["proj-lone-1"] == "running" and ids(project) == before


def test_lifecycle_commands_leave_one_offs_alone(project):
    """TestStartStopWithOneOffs, TestCascadeIgnoresOneOffContainer (a one-off is not a service container)."""
    project.write(STACK)
    project("up", "-d")
    project("run", "-d", "--name", "proj-extra", "lone")
    project("stop", "-t", "1")
    oneoff = [r for r in project.ps("-a") if r["Name"] == "proj-extra"]
    assert oneoff and oneoff[0]["State"] == "running"
    project("start")
    project("restart", "-t", "1")
    assert [r["State"] for r in project.ps("-a") if r["Name"] == "proj-extra"] == ["running"]


def test_rm_stop_force(project):
    """TestRm: rm -s -f removes the selected service's containers, or every service's."""
    project.write(STACK)
    project("up", "-d")
    project("rm", "-s", "-f", "lone")
    assert "proj-lone-1" not in states(project) and len(states(project)) == 2
    project("rm", "-s", "-f")
    assert states(project) == {}


def test_scale_keeps_numbers_and_never_recreates(project):
    """TestScaleBasicCases, TestScaleUpAndDownPreserveContainerNumber, TestScaleDoesntRecreate,
    TestScaleWithDepsCases."""
    project.write(STACK)
    project("up", "-d", "web")
    first = ids(project)["proj-web-1"]
    project("scale", "web=3")
    assert ids(project)["proj-web-1"] == first  # scaling up adds, never recreates
    project("scale", "web=2")
    project("scale", "web=3")
    assert sorted(n for n in states(project) if "web" in n) == ["proj-web-1", "proj-web-2", "proj-web-3"]
    project("stop", "-t", "1", "db")
    project("scale", "--no-deps", "web=1")
    assert states(project)["proj-db-1"] == "exited"  # --no-deps leaves the dependency alone
    project("scale", "web=1")
    assert states(project)["proj-db-1"] == "running"  # a plain scale reconciles it


def test_no_deps(project):
    """TestUpNoDeps, TestRecreateWithNoDeps, TestNoDepsVolumeFrom."""
    project.write(STACK)
    project("up", "-d", "--no-deps", "web")
    assert list(states(project)) == ["proj-web-1"]
    project("up", "-d")
    db = ids(project)["proj-db-1"]
    project("up", "-d", "--force-recreate", "--no-deps", "web")
    assert ids(project)["proj-db-1"] == db and states(project)["proj-db-1"] == "running"
    project.write(STACK.replace("depends_on: [db]", "volumes_from: [db]"))
    project("up", "-d")
    project("rm", "-s", "-f", "db")
    gone = project("up", "-d", "--no-deps", "--force-recreate", "web", ok=False)
    assert gone.returncode != 0 and "db" in gone.stderr and "Traceback" not in gone.stderr


def test_down_remove_orphans_scoped_to_a_service(project):
    """TestRemoveOrphaned: down --remove-orphans SERVICE leaves the other services running."""
    project.write(STACK)
    project("up", "-d")
    project("down", "--remove-orphans", "-t", "1", "lone")
    assert states(project) == {"proj-db-1": "running", "proj-web-1": "running"}


def test_remove_orphans_from_dotenv(project):
    """TestRemoveOrphans: COMPOSE_REMOVE_ORPHANS in the project's .env makes up remove orphans."""
    project.write(STACK)
    project("up", "-d", "lone")
    project.write(STACK.replace("  lone:", "  alone:"))
    (project.directory / ".env").write_text("COMPOSE_REMOVE_ORPHANS=true\n")
    project("up", "-d", "alone")
    assert list(states(project)) == ["proj-alone-1"]


def test_no_recreate_scale_up_keeps_stale_replicas_and_scale_down_drops_them_first(project):
    import os
    import subprocess
    import sys

    project.write("""
        services:
          web:
            image: busybox
            environment:
              VERSION: ${VERSION}
            command: ["sh", "-c", "{loop}"]
        """)

    def up(version: str, *args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "composer", "up", "-d", *args], cwd=project.directory,
                                capture_output=True, text=True, env={**os.environ, "VERSION": version}, timeout=120)
        assert result.returncode == 0, result.stderr

    def replicas() -> dict[str, str]:
        return {r["Name"]: r["ID"] for r in project.ps()}

    up("1", "--scale", "web=2")
    first = replicas()
    up("2", "--scale", "web=4", "--no-recreate")
    assert sorted(replicas()) == ["proj-web-1", "proj-web-2", "proj-web-3", "proj-web-4"]
    assert {n: i for n, i in replicas().items() if n in first} == first  # the stale ones were left alone
    fresh = {n: i for n, i in replicas().items() if n not in first}
    up("2", "--scale", "web=2")
    assert replicas() == fresh  # the stale replicas went, the up-to-date ones stayed as they were


def test_naming_a_profiled_service_enables_its_profile(project):
    """compose's TestActiveProfileViaTargetedService: up, stop and start of a service whose
    profile is not active enable that profile for it only; restart keeps acting on what exists."""
    project.write("""
        services:
          regular: {image: busybox, command: ["sh", "-c", "{loop}"]}
          profiled: {image: busybox, command: ["sh", "-c", "{loop}"], profiles: [debug]}
        """)
    project("up", "-d", "profiled")
    assert states(project) == {"proj-profiled-1": "running"}
    made = ids(project)
    project("stop", "-t", "1", "profiled")
    assert states(project) == {"proj-profiled-1": "exited"}
    project("start", "profiled")
    project("restart", "-t", "1")
    assert states(project) == {"proj-profiled-1": "running"} and ids(project) == made
