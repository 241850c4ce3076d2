"""A network whose definition changed while another project's container is on it: as Compose,
``up`` fails on its removal (docker's "has active endpoints"), naming the container; the other
project's container keeps running on it."""

from __future__ import annotations

import json

import pytest

from tests.integration.compose.conftest import Project

pytestmark = [pytest.mark.root]

LOOP = '["sh", "-c", "trap \'exit 0\' TERM; while :; do sleep 0.1; done"]'


def test_a_network_used_by_another_project_is_not_recreated(project, tmp_path):
    shared = """
        services:
          web: {image: busybox, command: LOOP, networks: [net]}
        networks:
          net: {name: orchshared_net, labels: {version: "VERSION"}}
        """.replace("LOOP", LOOP)
    project.write(shared.replace("VERSION", "1"))
    project("up", "-d")
    (tmp_path / "other").mkdir()
    other = Project(tmp_path / "other")
    try:
        other.write("""
            services:
              client: {image: busybox, command: LOOP, networks: [net]}
            networks:
              net: {name: orchshared_net, external: true}
            """.replace("LOOP", LOOP))
        other("up", "-d")
        project.write(shared.replace("VERSION", "2"))
        failed = project("up", "-d", "-t", "1", ok=False)
        assert failed.returncode != 0
        assert "error while removing network: network orchshared_net" in failed.stderr
        assert "has active endpoints" in failed.stderr and "other-client-1" in failed.stderr
        assert [r["State"] for r in other.ps()] == ["running"]
        inspected = json.loads(project("network", "inspect", "orchshared_net").stdout)[0]
        assert inspected["Labels"]["version"] == "1"
    finally:
        other("down", "-t", "1", ok=False)
