"""A start refused in a detached container's supervisor keeps its hint (the launcher and the
supervisor report it through their pipes): compose's ``up -d`` shows it under the error as a
foreground start does (``container run -d`` says docker's words alone); the container's
State.Error is the message alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from composer.errors import ContainerRuntimeError, report_parts, report_text

pytestmark = [pytest.mark.root]

HINT = "(held by container holder on network bridge)"


def test_a_report_carries_the_hint():
    assert report_parts(report_text(ContainerRuntimeError("refused", hint="fix it"))) == ("refused", "fix it")
    assert report_parts(report_text(OSError("plain"))) == ("plain", None)


def test_a_detached_start_shows_the_hint(cli, tmp_path):
    """A port another container holds: the start is refused in the supervisor. ``container run -d``
    says it in docker's shape (no hint, as docker); compose's ``up -d`` with composer's hint."""
    port = ("-p", "127.0.0.1:18095:80")
    cli("container", "run", "-d", "--name", "holder", *port, "busybox", "sleep", "60", check=True)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "compose.yaml").write_text('services:\n  web:\n    image: busybox\n    ports: ["127.0.0.1:18095:80"]\n')

    def compose(*args: str) -> subprocess.CompletedProcess[str]:  # (COMPOSER_ROOT: the test's state root)
        return subprocess.run([sys.executable, "-m", "composer", *args], cwd=project, capture_output=True, text=True,
                              timeout=60)

    try:
        detached = cli("container", "run", "-d", "--name", "refused", *port, "busybox", "true")
        assert detached.returncode == 125 and "port is already allocated" in detached.stderr, detached.stderr
        state = json.loads(cli("container", "inspect", "refused", check=True).stdout)[0]["State"]
        refusal = "Bind for 127.0.0.1:18095 failed: port is already allocated"
        assert state["Status"] == "created" and state["Error"] == refusal
        up = compose("up", "-d")
        assert up.returncode == 1 and f"error: {refusal}" in up.stderr and HINT in up.stderr, up.stderr
    finally:
        compose("down", "-t", "0")
        cli("container", "rm", "-f", "holder", "refused")
