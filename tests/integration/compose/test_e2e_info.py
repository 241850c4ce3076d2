"""Read-only commands in Docker Compose v2's shapes (checked against the real ``docker compose``
2.40): ``top``'s single table, ``images`` (also of a container whose image was removed), ``ps``'s
quoted, truncated command, and ``rm`` of an unknown service."""

from __future__ import annotations

import json

import pytest

from tests.integration.compose.conftest import WEB as COMPOSE

pytestmark = [pytest.mark.root]


def test_top_prints_one_table_with_service_and_number(project):
    project.write(COMPOSE)
    project("up", "-d", "--scale", "web=2")
    lines = project("top").stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    shells = [line.split(None, 9) for line in lines[1:] if "trap" in line]
    assert [(row[0], row[1], row[2]) for row in shells] == [("web", "1", "root"), ("web", "2", "root")]
    assert shells[0][9].startswith("sh -c trap 'exit 0' TERM")


def test_ps_quotes_arguments_with_spaces_and_truncates_the_command(project):
    project.write(COMPOSE)
    project("up", "-d")
    assert project.ps()[0]["Command"] == "\"sh -c 'trap 'exit 0\u2026\""
    full = json.loads(project("ps", "--format", "json", "--no-trunc").stdout)["Command"]
    assert full.startswith("\"sh -c 'trap 'exit 0' TERM; while")


def test_images_lists_containers_even_when_their_image_is_gone(project):
    project.write(COMPOSE)
    project("up", "-d")
    record = json.loads(project("images", "--format", "json").stdout)[0]
    assert record["ContainerName"] == "proj-web-1" and record["ID"].startswith("sha256:")
    assert (record["Repository"], record["Tag"], record["Platform"]) == ("busybox", "latest", "linux/amd64")
    assert record["Size"] > 0
    header = project("images").stdout.splitlines()[0].split()
    assert header == ["CONTAINER", "REPOSITORY", "TAG", "PLATFORM", "IMAGE", "ID", "SIZE", "CREATED"]
    project("image", "rm", "-f", "busybox")
    gone = json.loads(project("images", "--format", "json").stdout)
    assert [(r["ContainerName"], r["ID"], r["Size"]) for r in gone] == [("proj-web-1", record["ID"], 0)]
    assert "proj-web-1" in project("images").stdout


def test_images_of_replicas_list_each_container_and_quiet_each_id_once(project):
    project.write(COMPOSE)
    project("up", "-d", "--scale", "web=2")
    records = json.loads(project("images", "--format", "json").stdout)
    assert [r["ContainerName"] for r in records] == ["proj-web-1", "proj-web-2"]
    assert records[0]["ID"] == records[1]["ID"] and records[0]["Size"] == records[1]["Size"] > 0
    assert project("images", "-q").stdout.split() == [records[0]["ID"].removeprefix("sha256:")]

def test_rm_of_an_unknown_service_fails(project):
    project.write(COMPOSE)
    result = project("rm", "-f", "nosuch", ok=False)
    assert result.returncode == 1 and "no such service: nosuch" in result.stderr


def test_config_no_consistency_lists_an_inconsistent_model(project):
    """compose's TestLocalComposeConfigNoConsistency."""
    project.write("""
        services:
          incomplete:
            networks: [internal]
            volumes: [data:/data]
          gated:
            image: busybox
            profiles: [extra]
        volumes:
          data: {}
        networks:
          internal: {}
        """)
    refused = project("config", "--services", ok=False)
    assert refused.returncode == 1 and "neither an image nor a build context" in refused.stderr
    assert project("config", "--no-consistency", "--services").stdout == "incomplete\n"
    assert project("config", "--no-consistency", "--volumes").stdout == "data\n"
    assert project("config", "--no-consistency", "--networks").stdout == "internal\n"
    assert project("config", "--no-consistency", "--hash", "*").stdout.startswith("incomplete ")
    assert "gated" in project("--profile", "extra", "config", "--no-consistency", "--services").stdout


def test_ps_honours_the_docker_cli_ps_format_and_go_templates(project, tmp_path, monkeypatch):
    """compose's TestPsHonorsPsFormat: without --format, the psFormat of the docker CLI config."""
    project.write(COMPOSE)
    project("up", "-d")
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text('{"psFormat": "table {{.Name}}\\t{{.Service}}"}')
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    assert project("ps").stdout.splitlines() == ["NAME         SERVICE", "proj-web-1   web"]
    assert project("ps", "--format", "{{.Name}} {{.State}}").stdout == "proj-web-1 running\n"
    assert project("ps", "--format", "json").stdout.startswith("{")


def test_config_hash_is_the_containers_config_hash_label(project):
    """compose's TestConfigHashMatchesContainerLabel: with an env_file, an optional missing one, none."""
    project.write("""
        services:
          with-env-file: {image: busybox, command: ["sh", "-c", "{loop}"], env_file: [app.env]}
          optional-env:
            image: busybox
            command: ["sh", "-c", "{loop}"]
            env_file: [{path: missing-optional.env, required: false}]
          plain: {image: busybox, command: ["sh", "-c", "{loop}"]}
        """)
    (project.directory / "app.env").write_text("GREETING=hello\n")
    project("up", "-d", "--force-recreate")
    labels = {name: json.loads(project("container", "inspect", f"proj-{name}-1").stdout)[0]["Config"]["Labels"]
              for name in ("with-env-file", "optional-env", "plain")}
    hashes = dict(line.split() for line in project("config", "--hash", "*").stdout.splitlines())
    assert hashes == {name: label["com.docker.compose.config-hash"] for name, label in labels.items()}
