"""``update`` of a project's container is docker's ``update`` event in ``events`` (replayed from
the project's event log with ``--since``)."""

from __future__ import annotations

import json

import pytest

from tests.integration.compose.conftest import WEB

pytestmark = [pytest.mark.root]


def test_update_is_an_event(project):
    project.write(WEB)
    project("up", "-d")
    container = project.ps()[0]["Name"]
    project("update", "--cpu-shares", "512", container)  # docker's CLI verb, run in the project
    shown = project("events", "--json", "--since", "10m", "--until", "0s").stdout
    replay = [json.loads(line) for line in shown.splitlines()]
    assert [record["action"] for record in replay] == ["create", "start", "update"]
    assert replay[-1]["attributes"]["name"] == container
