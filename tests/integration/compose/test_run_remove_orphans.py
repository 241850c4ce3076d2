"""``run --remove-orphans`` on the real runtime: the orphan is stopped and removed (with its
progress lines) before the one-off runs; without the flag it stays and is warned about."""

from __future__ import annotations

import pytest

from tests.integration.compose.conftest import PROJECTS

pytestmark = [pytest.mark.root]

STACK = (PROJECTS / "lifecycle" / "compose.yaml").read_text()


def names(project) -> list[str]:
    return sorted(r["Name"] for r in project.ps("-a"))


def test_run_remove_orphans_removes_them_first(project):
    project.write(STACK)
    project("up", "-d", "lone")
    project.write(STACK.replace("  lone:", "  alone:"))
    kept = project("run", "--rm", "-T", "db", "true")
    assert "Found orphan containers ([proj-lone-1])" in kept.stderr and names(project) == ["proj-lone-1"]
    done = project("run", "--rm", "-T", "--remove-orphans", "db", "echo", "ran")
    assert done.stdout.strip() == "ran" and "Found orphan" not in done.stderr
    said = [line.split() for line in done.stderr.splitlines() if "proj-lone-1" in line]
    assert [words[-1] for words in said] == ["Stopping", "Stopped", "Removing", "Removed"]
    assert names(project) == []
