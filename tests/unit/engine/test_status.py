"""docker ps status texts and the ps --format json record."""

from __future__ import annotations

import pytest

from composer.engine import labels as L
from composer.engine.runtime.base import ContainerSummary, PortSpec
from composer.engine.status import human_duration, ps_record, status_text

NOW = 1_000_000.0


@pytest.mark.parametrize("seconds, text", [
    (0.2, "Less than a second"), (1, "1 second"), (45, "45 seconds"), (90, "About a minute"),
    (300, "5 minutes"), (3700, "About an hour"), (5 * 3600, "5 hours"), (3 * 86400, "3 days"),
    (20 * 86400, "2 weeks"), (90 * 86400, "3 months"), (800 * 86400, "2 years"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


@pytest.mark.parametrize("seconds, text", [
    (-3, "Less than a second"), (0.99, "Less than a second"), (1.99, "1 second"), (2, "2 seconds"),
    (59.99, "59 seconds"), (60, "About a minute"), (119.9, "About a minute"), (120, "2 minutes"),
    (3599, "59 minutes"), (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"),
    (47.49 * 3600, "47 hours"), (47.5 * 3600, "2 days"), (13.9 * 86400, "13 days"),
    (14 * 86400 - 1800, "2 weeks"), (59.9 * 86400, "8 weeks"), (60 * 86400, "2 months"),
    (729.9 * 86400, "24 months"), (730 * 86400, "2 years"), (3650.9 * 86400, "10 years"),
])
def test_human_duration_boundaries_as_go_units(seconds, text):
    """go-units' HumanDuration: seconds and minutes truncated, hours rounded half up (1h30m is
    "2 hours"), days/weeks/months from the rounded hours, years from the truncated ones."""
    assert human_duration(seconds) == text


def test_status_uses_docker_rounding():
    assert status_text(_container(state="running", started_at=NOW - 5400), NOW) == "Up 2 hours"
    exited = _container(state="exited", exit_code=0, finished_at=NOW - 119)
    assert status_text(exited, NOW) == "Exited (0) About a minute ago"


def test_container_ls_status_shares_the_wording():
    """``container ls`` (cli/psformat) words its status as ``ps``: 2h30m is "3 hours" (half up,
    not Python's round-half-even), 20 days "2 weeks"."""
    from types import SimpleNamespace

    from composer.cli import psformat

    assert psformat.status_text is status_text
    running = SimpleNamespace(state="running", started_at=NOW - 2.5 * 3600, health="none")
    assert status_text(running, NOW) == "Up 3 hours"
    exited = SimpleNamespace(state="exited", exit_code=3, finished_at=NOW - 20 * 86400)
    assert status_text(exited, NOW) == "Exited (3) 2 weeks ago"


def _container(**fields) -> ContainerSummary:
    base = dict(id="a" * 64, name="demo-web-1", image="nginx", created=NOW - 600, started_at=NOW - 300,
                labels={L.PROJECT: "demo", L.SERVICE: "web"})
    return ContainerSummary(**{**base, **fields})


def test_status_texts():
    assert status_text(_container(state="running", health="healthy"), NOW) == "Up 5 minutes (healthy)"
    assert status_text(_container(state="running", health="starting"), NOW) == "Up 5 minutes (health: starting)"
    assert status_text(_container(state="paused"), NOW) == "Up 5 minutes (Paused)"
    assert status_text(_container(state="exited", exit_code=137, finished_at=NOW - 2), NOW) == \
        "Exited (137) 2 seconds ago"
    assert status_text(_container(state="created"), NOW) == "Created"


def test_ps_record_has_composes_keys():
    record = ps_record(_container(state="running", command="nginx -g 'daemon off;'",
                                  ports=(PortSpec(target=80, published="8080", host_ip="0.0.0.0"),
                                         PortSpec(target=443)),
                                  networks=("demo_default",), mounts=("demo_data", "/srv")), NOW)
    assert sorted(record) == ["Command", "CreatedAt", "ExitCode", "Health", "ID", "Image", "Labels",
                              "LocalVolumes", "Mounts", "Name", "Names", "Networks", "Ports", "Project",
                              "Publishers", "RunningFor", "Service", "Size", "State", "Status"]
    assert record["ID"] == "a" * 12 and record["Service"] == "web" and record["Project"] == "demo"
    assert record["Ports"] == "443/tcp, 0.0.0.0:8080->80/tcp"  # docker: unpublished (and same-port) first
    assert record["Publishers"][0] == {"URL": "0.0.0.0", "TargetPort": 80, "PublishedPort": 8080, "Protocol": "tcp"}
    assert record["RunningFor"] == "10 minutes ago" and record["Status"] == "Up 5 minutes"
    assert record["LocalVolumes"] == "1" and record["Networks"] == "demo_default"


def test_event_text_and_json():
    from composer.engine.events import Event, Status

    done = Event(kind="Container", name="demo-web-1", status=Status.STARTED, duration=0.4)
    assert str(done) == "Container demo-web-1  Started 0.4s"
    assert done.to_dict() == {"id": "Container demo-web-1", "status": "Started", "done": True, "duration": 0.4}
    error = Event(kind="Service", name="db", status=Status.ERROR, text="is unhealthy")
    assert error.failed and error.to_dict()["text"] == "is unhealthy" and not error.done
