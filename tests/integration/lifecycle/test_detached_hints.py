"""A start refused in a detached container's supervisor keeps its hint (the launcher and the
supervisor report it through their pipes): ``run -d`` and compose's ``up -d`` show it under the
error as a foreground start does; the container's State.Error is the message alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from composer.errors import ContainerRuntimeError, report_parts, report_text

pytestmark = [pytest.mark.root]

HINT = "(create the directory or use -v, which creates it)"


def test_a_report_carries_the_hint():
    assert report_parts(report_text(ContainerRuntimeError("refused", hint="fix it"))) == ("refused", "fix it")
    assert report_parts(report_text(OSError("plain"))) == ("plain", None)


def test_a_detached_start_shows_the_hint(cli, tmp_path):
    mount = ("--network", "none", "--mount", f"type=bind,source={tmp_path / 'absent'},target=/x")
    foreground = cli("container", "run", "--rm", *mount, "busybox", "true")
    detached = cli("container", "run", "-d", "--name", "refused", *mount, "busybox", "true")
    assert foreground.returncode == detached.returncode == 125
    assert HINT in foreground.stderr and HINT in detached.stderr, detached.stderr
    state = json.loads(cli("container", "inspect", "refused", check=True).stdout)[0]["State"]
    assert state["Status"] == "created" and state["Error"].endswith(f"does not exist: {tmp_path / 'absent'}")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    network_mode: none\n    volumes:\n      - type: bind\n"
        f"        source: {tmp_path / 'absent'}\n        target: /x\n        bind: {{create_host_path: false}}\n")

    def compose(*args: str) -> subprocess.CompletedProcess[str]:  # (COMPOSER_ROOT: the test's state root)
        return subprocess.run([sys.executable, "-m", "composer", *args], cwd=project, capture_output=True, text=True,
                              timeout=60)

    try:
        up = compose("up", "-d")
        assert up.returncode == 1 and "error: invalid mount config" in up.stderr and HINT in up.stderr, up.stderr
    finally:
        compose("down", "-t", "0")
