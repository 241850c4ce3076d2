"""``commit`` of a project's container is dockerd's ``commit`` event in ``events`` (replayed from
the project's event log with ``--since``), with dockerd's attributes."""

from __future__ import annotations

import json

import pytest

from tests.integration.compose.conftest import WEB

pytestmark = [pytest.mark.root]


def test_commit_is_an_event(project):
    project.write(WEB)
    project("up", "-d")
    container = project.ps()[0]["Name"]
    project("commit", "-m", "hello", "web", "snap-event:1")  # paused meanwhile, as dockerd: its events too
    shown = project("events", "--json", "--since", "10m", "--until", "0s").stdout
    replay = [json.loads(line) for line in shown.splitlines()]
    assert [record["action"] for record in replay] == ["create", "start", "pause", "commit", "unpause"]
    attributes = replay[3]["attributes"]
    assert attributes["imageID"].startswith("sha256:") and attributes["image"] == "busybox"
    assert {k: attributes[k] for k in ("comment", "imageRef", "name")} == \
        {"comment": "hello", "imageRef": "snap-event:1", "name": container}
