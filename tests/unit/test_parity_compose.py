"""Docker Compose v2 (2.40.3) behaviour of the read-only compose commands, pinned as observed
against the real ``docker compose`` (see docs/parity-compose.md): ``ls`` filters and statuses,
``port``'s choice of container and its errors, ``events``' JSON and text lines, health events."""

from __future__ import annotations

import json

import pytest

from composer.cli import compose as C
from composer.cli import compose_fast, compose_ls
from composer.cli import compose_info as info
from composer.engine.monitor import Change, View, actions
from composer.engine.runtime.base import ContainerSummary, PortSpec
from composer.errors import ContainerNotFound, UsageError

PROJECT = "com.docker.compose.project"


def summary(name: str, state: str = "running", number: int = 1, oneoff: bool = False, created: float = 0.0,
            files: str = "/p/compose.yaml", ports: tuple = ()) -> ContainerSummary:
    project, service = name.split("-")[:2]
    labels = {PROJECT: project, "com.docker.compose.service": service, "com.docker.compose.config-hash": "h",
              "com.docker.compose.container-number": str(number), "com.docker.compose.oneoff": str(oneoff),
              "com.docker.compose.project.config_files": files}
    return ContainerSummary(id=name + "-id", name=name, image="busybox", labels=labels, state=state,
                            created=created, ports=ports)


class Listing:
    """A runtime whose listing is fixed (``all=False``: running ones only, as docker ps)."""

    def __init__(self, containers: list) -> None:
        self.containers = containers

    def list_containers(self, labels: dict, *, all: bool = True) -> list:
        return [c for c in self.containers if all or c.state == "running"]


@pytest.fixture
def listing(monkeypatch):
    def use(*containers: ContainerSummary) -> None:
        monkeypatch.setattr(C, "make_runtime", lambda: Listing(list(containers)))
    return use


def test_ls_counts_only_running_containers_without_all(listing):
    listing(summary("proj-web-1"), summary("proj-job-1", "exited"), summary("gone-web-1", "exited"))
    assert compose_ls.list_projects(False) == [
        {"Name": "proj", "Status": "running(1)", "ConfigFiles": "/p/compose.yaml"}]
    assert [p["Status"] for p in compose_ls.list_projects(True)] == ["exited(1)", "exited(1), running(1)"]


def test_ls_config_files_are_the_union_newest_container_first(listing):
    listing(summary("proj-web-1", created=1, files="/p/a.yaml"),
            summary("proj-job-1", created=2, files="/p/b.yaml,/p/a.yaml"))
    assert compose_ls.list_projects(False)[0]["ConfigFiles"] == "/p/b.yaml,/p/a.yaml"


def test_ls_filter_is_name_only_a_regular_expression_found_anywhere():
    assert compose_ls.parse_ls_filters(["name=pro"]) == ["pro"]
    assert compose_ls.project_matches("proj", ["pro"]) and compose_ls.project_matches("proj", ["^p.*j$"])
    assert not compose_ls.project_matches("proj", ["^x"]) and compose_ls.project_matches("proj", [])
    assert compose_ls.project_matches("a(b", ["a(b"])  # not a valid pattern, but the very name
    with pytest.raises(UsageError, match="invalid filter 'status'"):
        compose_ls.parse_ls_filters(["status=running"])
    with pytest.raises(UsageError, match=r"bad format of filter \(expected name=value\)"):
        compose_ls.parse_ls_filters(["bad"])


def test_port_picks_the_lowest_number_and_one_offs_last(monkeypatch):
    found = [summary("proj-web-2", number=2), summary("proj-web-run-x", oneoff=True), summary("proj-web-3", "exited", 3)]
    monkeypatch.setattr(C, "containers_of", lambda project, services, index=None, oneoff=False: [
        c for c in found if index is None or c.labels["com.docker.compose.container-number"] == str(index)])
    assert compose_fast.specified_container("proj", "web").name == "proj-web-2"
    with pytest.raises(ContainerNotFound) as error:
        compose_fast.specified_container("proj", "web", 3)
    assert error.value.message == 'service "web" is not running container #3'
    found.clear()
    with pytest.raises(ContainerNotFound) as error:
        compose_fast.specified_container("proj", "web")
    assert error.value.message == 'service "web" is not running'


def test_port_prints_ip_and_port_or_lists_the_published_ones():
    web = summary("proj-web-1", ports=(PortSpec(80, "18080"), PortSpec(81, "18081", protocol="udp")))
    assert compose_fast.public_port(web, 80, "tcp") == "0.0.0.0:18080"
    assert compose_fast.public_port(web, 81, "udp") == "0.0.0.0:18081"
    with pytest.raises(UsageError) as error:
        compose_fast.public_port(web, 81, "tcp")
    assert error.value.message == "no port 81/tcp for container proj-web-1: 18080/tcp, 18081/udp"


def view(status: str = "running", health: str = "") -> View:
    return View("c1", "p-web-1", "web", "busybox", status, "t1", 7, health, 0, 42, {})


def test_events_json_has_sorted_keys_and_an_rfc3339_time():
    line = info.format_event(Change(1795465122.77, "start", view()), as_json=True)
    assert list(json.loads(line)) == ["action", "attributes", "id", "service", "time", "type"]
    assert json.loads(line)["time"] == "2026-11-23T20:18:42.77Z"
    assert '"attributes":{"image":"busybox","name":"p-web-1"}' in line
    text = info.format_event(Change(1795378722.5, "start", view()), as_json=False)
    assert text.endswith(" container start c1 (image=busybox, name=p-web-1)\n")  # compose: a blank line after
    died = json.loads(info.format_event(Change(1795465122.77, "die", view("exited")), as_json=True))
    assert list(died["attributes"]) == sorted(died["attributes"]) and "exitCode" in died["attributes"]


def test_health_events_only_for_a_running_containers_verdict():
    assert actions(None, view(health="starting")) == ["create", "start"]  # dockerd has no "starting" event
    assert actions(view(health="starting"), view(health="unhealthy")) == ["health_status: unhealthy"]
    assert actions(view(health="healthy"), view("exited", health="unhealthy")) == ["die"]


def test_scale_arguments_with_compose_errors():
    from composer.cli.compose_extra import parse_replicas

    assert parse_replicas(["web=3", "db=0"]) == {"web": 3, "db": 0}
    with pytest.raises(UsageError) as error:
        parse_replicas(["worker=x"])
    assert error.value.message == "invalid scale specifier: can't parse replica value as int: worker=x"
    with pytest.raises(UsageError) as error:
        parse_replicas(["worker"])
    assert error.value.message == "invalid scale specifier: worker"


@pytest.mark.parametrize(("body", "message"), [
    ("  web:\n    image: busybox\n    depends_on: [nosuch]\n", 'service "web" depends on undefined service "nosuch"'),
    ("  web: {}\n", 'service "web" has neither an image nor a build context specified'),
    ("  web:\n    image: busybox\n    networks: [nonet]\n", 'service "web" refers to undefined network nonet'),
    ("  web:\n    image: busybox\n    volumes: ['nosuchvol:/x']\n", 'service "web" refers to undefined volume nosuchvol'),
])
def test_config_errors_in_composes_words(body: str, message: str, tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "compose.yaml").write_text("services:\n" + body)
    result = subprocess.run([sys.executable, "-m", "composer", "config"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and message in result.stderr, result.stderr
