"""Compose parity checked against Docker Compose 2.40.3 / docker 28 (docs/parity-compose.md,
session 7): ``exec -i=false``, ``expose:`` in ``Config.ExposedPorts``, the typer-free ``start``,
``stop``, ``restart``, ``pause``, ``unpause``, ``kill`` and ``rm`` (same lines as typer's), and
``--dry-run`` doing nothing for them and for ``down``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.compose.conftest import WEB
from tests.integration.compose.test_compose_fast import _run

pytestmark = [pytest.mark.root]

TWO = WEB + """    expose: ["80", "90/udp"]
    ports: ["127.0.0.1::81"]
  db:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    network_mode: none
"""

LIFECYCLE = [("stop", "-t", "1", "web"), ("start", "web"), ("restart", "-t", "1", "--no-deps", "web"),
             ("pause", "web"), ("unpause", "web"), ("kill", "-s", "KILL", "web"), ("rm", "-f", "web"),
             ("-p", "proj", "up", "-d", "web"), ("--project-name=proj", "stop", "--timeout=1"),
             ("-f", "compose.yaml", "rm", "-fs", "db"), ("ls", "-a"), ("ls", "--filter", "name=pr", "-q", "-a")]


def test_exec_interactive_false_gives_the_command_no_stdin(project):
    project.write(TWO)
    project("up", "-d", "db")

    def cat(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "composer", "exec", "-T", *flags, "db", "cat"], input="hello",
                              cwd=project.directory, capture_output=True, text=True, timeout=60)

    assert cat().stdout == "hello"
    for flags in (("-i=false",), ("--interactive=false",), ("--interactive=0", "-d=f")):
        result = cat(*flags)
        assert (result.returncode, result.stdout) == (0, ""), (flags, result.stderr)
    refused = cat("-i=maybe")
    assert refused.returncode == 1
    assert refused.stderr == ('invalid argument "maybe" for "-i, --interactive" flag: strconv.ParseBool: '
                              'parsing "maybe": invalid syntax\n')


def test_expose_reaches_the_containers_exposed_ports(project):
    project.write(TWO)
    project("up", "-d", "web")
    shown = project("container", "inspect", "proj-web-1", "--format", "{{json .Config.ExposedPorts}}").stdout
    assert json.loads(shown) == {"80/tcp": {}, "81/tcp": {}, "90/udp": {}}  # the published port's too
    listed = json.loads(project("ps", "--format", "json").stdout)  # as compose 2.40: exposed ports listed
    published = listed["Publishers"][1]["PublishedPort"]
    assert listed["Publishers"] == [
        {"URL": "", "TargetPort": 80, "PublishedPort": 0, "Protocol": "tcp"},
        {"URL": "127.0.0.1", "TargetPort": 81, "PublishedPort": published, "Protocol": "tcp"},
        {"URL": "", "TargetPort": 90, "PublishedPort": 0, "Protocol": "udp"}]
    assert listed["Ports"] == f"80/tcp, 90/udp, 127.0.0.1:{published}->81/tcp"
    assert project("port", "web", "80").stdout == ":0\n"


def test_lifecycle_fast_paths_print_what_typer_prints(project):
    project.write(TWO)
    outputs = {}
    for route in ("fast", "typer"):
        project("up", "-d")
        outputs[route] = [_run(project, route, argv) for argv in LIFECYCLE]
        project("down", "-t", "0")
    for argv, fast, typer in zip(LIFECYCLE, outputs["fast"], outputs["typer"]):
        assert typer[3] and not fast[3], argv  # (typer imported by the typer route only)
        assert (fast[0], fast[1], sorted(fast[2].splitlines())) == (typer[0], typer[1],
                                                                    sorted(typer[2].splitlines())), argv
    assert outputs["fast"][0][2].split("\n")[:2] == [" Container proj-web-1 Stopping",  # (spaces squeezed)
                                                     " Container proj-web-1 Stopped"]
    assert outputs["fast"][6][1] == "Going to remove proj-web-1\n"


def test_bool_flags_take_a_value_as_pflag_does(project):
    project.write(TWO)
    project("up", "-d", "db")
    project("stop", "-t", "0", "db")
    assert project("ps", "--all=true", "-q").stdout == project("ps", "-a", "-q").stdout != ""
    assert project("ps", "--all=false", "-q").stdout == ""


def test_dry_run_stops_nothing_and_removes_nothing(project):
    project.write(TWO)
    project("up", "-d")
    for argv in (("--dry-run", "stop"), ("stop", "--dry-run", "web"), ("--dry-run", "rm", "-fs"),
                 ("kill", "--dry-run"), ("--dry-run", "down"), ("down", "--dry-run", "-v"), ("up", "--dry-run", "-d")):
        result = project(*argv)
        lines = [line for line in result.stderr.splitlines() if line != "No stopped containers"]  # (rm -s: none was)
        assert all(line.startswith(" DRY-RUN MODE -  ") for line in lines), argv
    assert " DRY-RUN MODE -  Container proj-web-1  Stopping\n" in project("--dry-run", "stop").stderr
    assert " DRY-RUN MODE -  Container proj-db-1  Removed\n" in project("down", "--dry-run").stderr
    assert sorted(r["State"] for r in project.ps()) == ["running", "running"]
    invalid = project("stop", "-t", "1.5", ok=False)
    assert (invalid.returncode, invalid.stderr) == (1, 'invalid argument "1.5" for "-t, --timeout" flag: '
                                                       'strconv.ParseInt: parsing "1.5": invalid syntax\n')


def test_run_env_from_file_under_env_flags(project):
    project.write(TWO)
    (project.directory / "e.env").write_text("A=1\nB=2\n")
    shown = project("run", "--rm", "-i", "-q", "--quiet-build", "--env-from-file", "e.env", "-e", "B=3", "db",
                    "sh", "-c", "echo $A $B")
    assert shown.stdout == "1 3\n"
    missing = project("run", "--rm", "--env-from-file", "nope.env", "db", "true", ok=False)
    assert missing.returncode == 1 and "cannot read env file" in missing.stderr


CAPS = """
services:
  web:
    image: busybox
    command: sleep 100
    cap_add: [NET_ADMIN]
    cap_drop: [CHOWN]
    networks:
      default:
        aliases: [webalias]
"""


def test_run_cap_add_cap_drop_and_use_aliases_as_compose(project):
    """compose 2.40 (docker inspect): service cap_add [NET_ADMIN], cap_drop [CHOWN] with ``--cap-add CHOWN
    --cap-drop NET_ADMIN --cap-add SYS_TIME`` -> CapAdd [CHOWN, SYS_TIME], CapDrop [NET_ADMIN]."""
    project.write(CAPS)
    shown = project("run", "--rm", "--cap-add", "CHOWN", "--cap-drop", "NET_ADMIN", "--cap-add", "SYS_TIME", "web",
                    "grep", "CapBnd", "/proc/self/status")
    bounding = int(shown.stdout.split()[-1], 16)
    assert bounding & 1 << 0 and bounding & 1 << 25 and not bounding & 1 << 12, shown.stdout  # CHOWN SYS_TIME NET_ADMIN
    project("run", "-d", "web")  # without --use-aliases: no alias
    assert project("run", "--rm", "web", "nslookup", "webalias", ok=False).returncode != 0
    project("run", "-d", "--use-aliases", "web")
    assert project("run", "--rm", "web", "nslookup", "webalias").returncode == 0
