"""A ``--format`` template is checked as docker's CLI checks it, before anything is looked up:
``inspect -f`` of nothing found still refuses a template that does not parse (exit 64), and
``container ls`` runs its template once on an empty row first (exit 1), containers or not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _composer(*argv: str) -> subprocess.CompletedProcess:
    """The command line in its own process (fast paths end it with os._exit)."""
    return subprocess.run([sys.executable, "-m", "composer", *argv], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)


@pytest.mark.parametrize("group", ["container", "image", "network", "volume"])
def test_inspect_refuses_a_broken_template_before_the_lookup(state_root, group):
    done = _composer(group, "inspect", "-f", "{{", "nosuch")
    assert (done.returncode, done.stderr) == (64, "template parsing error: template: :1: unclosed action\n")


@pytest.mark.parametrize("template, line", [
    ("{{", "failed to parse template: template: :1: unclosed action"),
    ("{{.Nope}}", 'failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope '
                  "in type *formatter.ContainerContext"),
])
def test_container_ls_runs_its_template_first(state_root, template, line):
    done = _composer("container", "ls", "--format", template)
    assert (done.returncode, done.stderr) == (1, line + "\n")


def test_container_ls_of_nothing_prints_the_header_alone(state_root):
    done = _composer("container", "ls", "--format", "table {{.Names}}\t{{.Status}}")
    assert (done.returncode, done.stdout) == (0, "NAMES     STATUS\n")
