"""``scale``, ``cp`` (both ways, ``--index``), ``ps --filter`` as compose has it, and attached ``up``
with ``--attach-dependencies``."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

COMPOSE = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo db ready; {loop}"]
  web:
    image: busybox
    command: ["sh", "-c", "echo web ready; {loop}"]
    depends_on: [db]
"""


def names(project, service: str) -> list[str]:
    return sorted(r["Name"] for r in project.ps() if r["Service"] == service)


def test_scale_up_and_down(project):
    project.write(COMPOSE)
    project("up", "-d")
    project("scale", "web=3")
    assert names(project, "web") == ["proj-web-1", "proj-web-2", "proj-web-3"]
    project("scale", "web=1")
    assert names(project, "web") == ["proj-web-1"]
    result = project("scale", "nope=2", ok=False)
    assert result.returncode != 0 and "no such service: nope" in result.stderr


def test_cp_both_ways_with_index(project, tmp_path):
    project.write(COMPOSE)
    project("up", "-d", "--scale", "web=2")
    source = tmp_path / "note.txt"
    source.write_text("hello\n")
    project("cp", str(source), "web:/tmp/")  # into every replica
    for index in ("1", "2"):
        assert project("exec", "-T", "--index", index, "web", "cat", "/tmp/note.txt").stdout == "hello\n"
    project("exec", "-T", "--index", "2", "web", "sh", "-c", "echo two > /tmp/which")
    project("cp", "--index", "2", "web:/tmp/which", str(tmp_path / "which"))
    assert (tmp_path / "which").read_text() == "two\n"
    both = project("cp", "web:/a", "db:/b", ok=False)
    assert both.returncode != 0 and "copying between services is not supported" in both.stderr
    missing = project("cp", "--index", "5", "web:/tmp/which", str(tmp_path / "x"), ok=False)
    assert missing.returncode != 0 and "no container found" in missing.stderr


def test_ps_filter_knows_status_only(project):
    project.write(COMPOSE)
    project("up", "-d")
    project("stop", "-t", "1", "web")
    assert [r["Service"] for r in project.ps("--filter", "status=exited")] == ["web"]
    assert [r["Service"] for r in project.ps("--status", "running")] == ["db"]
    unknown = project("ps", "--filter", "name=web", ok=False)
    assert unknown.returncode != 0 and "unknown filter name" in unknown.stderr
    malformed = project("ps", "--filter", "status", ok=False)
    assert "arguments to --filter should be in form KEY=VAL" in malformed.stderr


def test_attach_dependencies(project):
    project.write(COMPOSE.replace("{loop}", "sleep 1"))
    plain = project("up", "--no-color", "web").stdout
    assert "web-1  | web ready" in plain and "db-1" not in plain
    project("down", "-t", "1")
    with_deps = project("up", "--no-color", "--attach-dependencies", "web").stdout
    assert "web-1  | web ready" in with_deps and "db-1   | db ready" in with_deps


def test_push_built_images_and_skip_the_others(project, registry):
    import json
    import urllib.request

    (project.directory / "Dockerfile").write_text("FROM busybox\nRUN echo built > /built\n")
    project.write(f"""
    services:
      app:
        build: .
        image: {registry.host}/e2e-push/app:1
      plain:
        image: busybox
    """)
    project("build")
    result = project("--progress", "plain", "push")
    assert "Service plain  Skipped" in result.stderr and f"Image {registry.host}/e2e-push/app:1  Pushed" in result.stderr
    with urllib.request.urlopen(f"http://{registry.host}/v2/e2e-push/app/tags/list", timeout=10) as response:
        assert json.load(response)["tags"] == ["1"]
