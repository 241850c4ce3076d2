"""Docker Compose v2's answers (2.40.3, observed side by side with a private dockerd; see
docs/parity-compose.md) from ``ls``, ``port``, ``top``, ``images`` and ``run``, written into the
tests: CI has no dockerd."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.compose.conftest import LOOP, WEB, Project

pytestmark = [pytest.mark.root]

COMPOSE = WEB + """    ports: ["127.0.0.1::80", "127.0.0.1::81/udp"]
  job:
    image: busybox
    command: ["sh", "-c", "echo job done; exit 3"]
"""


def test_ls_counts_running_containers_unless_all_and_filters_by_name(project):
    project.write(COMPOSE)
    project("up", "-d")
    project("run", "--rm", "job", ok=False)  # waits for the job to have exited too
    files = str(project.directory / "compose.yaml")
    assert json.loads(project("ls", "--format", "json").stdout) == [
        {"Name": "proj", "Status": "running(1)", "ConfigFiles": files}]
    assert json.loads(project("ls", "-a", "--format", "json").stdout) == [
        {"Name": "proj", "Status": "exited(1), running(1)", "ConfigFiles": files}]
    table = project("ls", "--filter", "name=^pro").stdout.splitlines()
    assert table == ["NAME                STATUS              CONFIG FILES", f"proj                running(1)          {files}"]
    assert project("ls", "-q", "--filter", "name=^x").stdout == ""
    wrong = project("ls", "--filter", "status=running", ok=False)
    assert wrong.returncode == 1 and "invalid filter 'status'" in wrong.stderr
    project("stop")
    assert project("ls", "--format", "json").stdout.strip() == "[]"
    assert json.loads(project("ls", "-a", "--format", "json").stdout)[0]["Status"] == "exited(2)"


def test_port_top_and_images_with_compose_answers(project, tmp_path):
    project.write(COMPOSE)
    project("up", "-d", "web")
    assert re.fullmatch(r"127\.0\.0\.1:\d+\n", project("port", "web", "80").stdout)
    assert re.fullmatch(r"127\.0\.0\.1:\d+\n", project("port", "--protocol", "UDP", "web", "81").stdout)
    missing = project("port", "web", "82", ok=False)
    assert missing.returncode == 1
    assert re.search(r"no port 82/tcp for container proj-web-1: \d+/tcp, \d+/udp", missing.stderr)
    assert 'service "web" is not running container #2' in project("port", "--index", "2", "web", "80", ok=False).stderr
    assert 'service "nosuch" is not running' in project("port", "nosuch", "80", ok=False).stderr
    assert 'parsing "http": invalid syntax' in project("port", "web", "http", ok=False).stderr
    assert project("stats", "--no-stream", "nosuch").stdout.split()[:3] == ["CONTAINER", "ID", "NAME"]
    elsewhere = tmp_path / "elsewhere"  # as compose: the project's name is enough for these
    elsewhere.mkdir()
    other = Project(elsewhere)
    assert other("-p", "proj", "port", "web", "80").stdout == project("port", "web", "80").stdout
    assert "proj-web-1" in other("-p", "proj", "images").stdout
    project("pause", "web")
    try:
        assert "trap" in other("-p", "proj", "top").stdout  # a paused container's processes are listed
    finally:
        project("unpause", "web")


def test_run_detached_prints_the_container_id_and_start_failures_exit_1(project):
    project.write(COMPOSE)
    started = project("run", "-d", "job").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", started)
    assert started in project("ps", "-a", "-q", "--no-trunc").stdout
    labels = dict(item.split("=", 1) for item in project.ps("-a")[0]["Labels"].split(","))
    assert labels["com.docker.compose.oneoff"] == "True" and "com.docker.compose.slug" in labels
    project("run", "-d", "--name", "proj-long", "job", "sh", "-c", LOOP)
    assert "proj-long" in [r["ContainerName"] for r in json.loads(project("images", "--format", "json").stdout)]
    assert [line.split()[0] for line in project("top").stdout.splitlines()[1:2]] == ["job"]
    assert project("run", "--rm", "--entrypoint", "echo hi", "job").stdout == "hi\n"  # the command is dropped
    failed = project("run", "--rm", "job", "nosuchcmd", ok=False)
    assert failed.returncode == 1 and 'exec: "nosuchcmd": executable file not found in $PATH' in failed.stderr


def test_events_json_keys_in_gos_order(project):
    project.write(COMPOSE)
    project("up", "-d", "web")
    project("stop", "web")
    lines = project("events", "--json", "--since", "10m", "--until", "0s").stdout.splitlines()
    assert [list(json.loads(line)) for line in lines[:1]] == [["action", "attributes", "id", "service", "time",
                                                               "type"]]
    assert not any(json.loads(line)["action"] == "health_status: starting" for line in lines)


def test_run_flag_errors_in_composes_words(project):
    project.write(COMPOSE)
    both = project("run", "--rm", "-P", "-p", "8080:80", "job", ok=False)
    assert both.returncode == 1 and "--service-ports and --publish are incompatible" in both.stderr
    label = project("run", "--rm", "-l", "novalue", "job", ok=False)
    assert label.returncode == 1 and "label must be set as KEY=VALUE" in label.stderr
    assert project.ps("-a") == []  # nothing created
