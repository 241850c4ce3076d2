"""A service's ``attach: false``: an attached ``up`` does not follow its logs (as Compose 2.40),
unless ``--attach`` names it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root

COMPOSE = """
services:
  quiet:
    image: busybox
    attach: false
    command: ["sh", "-c", "echo quiet ready; sleep 1"]
  loud:
    image: busybox
    command: ["sh", "-c", "echo loud ready; sleep 1"]
"""


def test_attach_false_is_not_followed_unless_attach_names_it(project):
    project.write(COMPOSE)
    plain = project("up", "--no-color").stdout
    assert "loud-1  | loud ready" in plain and "quiet ready" not in plain, plain
    project("down", "-t", "1")
    named = project("up", "--no-color", "--attach", "quiet").stdout
    assert "quiet-1  | quiet ready" in named and "loud ready" not in named, named
