"""Compose's lines checked against Docker Compose 2.40.3 (docs/parity-compose.md, session 6):
attached ``up``'s exit lines, ``stop``/``down`` of exited containers, ``down`` leaving one-off
containers, the orphan warning of ``run``, ``up -d --wait``'s lines and exit code, networks
created before the containers' lines."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

TWO = """
services:
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
  job:
    image: busybox
    command: ["sh", "-c", "echo job; exit 3"]
"""


def progress(result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines() if line.startswith(" ")]


def test_attached_exit_lines_stop_and_down_of_exited_containers(project):
    project.write(TWO.replace('["sh", "-c", "{loop}"]', '["true"]'))
    attached = project("up", "--no-color", timeout=60)
    # goterm.RESET_LINE (\r\x1b[K) first; text mode reads its \r as a newline
    assert "\n\x1b[Kjob-1 exited with code 3\n" in attached.stdout
    assert "\n\x1b[Kweb-1 exited with code 0\n" in attached.stdout
    lines = progress(attached)
    assert lines.index("Network proj_default  Created") < min(i for i, l in enumerate(lines) if "Container" in l)
    stopped = progress(project("stop"))
    assert sorted(stopped) == ["Container proj-job-1  Stopped", "Container proj-job-1  Stopping",
                               "Container proj-web-1  Stopped", "Container proj-web-1  Stopping"]
    down = progress(project("down"))
    assert "Container proj-job-1  Stopping" in down and "Container proj-job-1  Removed" in down


def test_down_leaves_one_off_containers_and_run_warns_of_them_once(project):
    project.write(TWO)
    project("up", "-d")
    first = project("run", "job", ok=False)
    assert first.returncode == 3 and "orphan" not in first.stderr
    second = project("run", "job", ok=False)
    assert second.stderr.count("Found orphan containers ([proj-job-run-") == 1
    assert 'level=warning msg="Found orphan containers' in second.stderr  # logrus's shape, not a terminal
    down = project("down", "-t", "1")
    assert "Network proj_default  Removed" in down.stderr and "run" not in down.stderr
    left = project.ps("-a")
    assert len(left) == 2 and all(r["Name"].startswith("proj-job-run-") for r in left)
    assert project("ls", "-a").stdout.splitlines()[1].split()[:2] == ["proj", "exited(2)"]
    project("down", "--remove-orphans")
    assert project.ps("-a") == []


def test_up_wait_lines_and_exit_codes(project):
    # job exits 3 while its health is still starting (a job without a healthcheck could be seen
    # running before it exits, and --wait would rightly return 0, as Compose's would)
    job = '["sh", "-c", "sleep 1; exit 3"]\n    healthcheck: {test: ["CMD", "false"], interval: 60s}'
    project.write(TWO.replace('["sh", "-c", "echo job; exit 3"]', job) + """
  hc:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
""")
    ready = progress(project("up", "-d", "--wait", "web", "hc", timeout=60))
    assert ready[-4:-2] in (["Container proj-web-1  Waiting", "Container proj-hc-1  Waiting"],
                            ["Container proj-hc-1  Waiting", "Container proj-web-1  Waiting"])
    assert sorted(ready[-2:]) == ["Container proj-hc-1  Healthy", "Container proj-web-1  Healthy"]
    failed = project("up", "-d", "--wait", "job", ok=False, timeout=60)
    assert failed.returncode == 1 and "container proj-job-1 exited (3)" in failed.stderr
