"""Compose's yes/no prompt (``composer.cli.progress.ask``): a terminal or a pipe."""

from __future__ import annotations

import io

import pytest

from composer.cli.progress import ask


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer,expected", [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False),
                                             ("true\n", False)])
def test_on_a_terminal_y_or_yes_accepts(answer: str, expected: bool) -> None:
    out = io.StringIO()
    assert ask("Recreate?", Terminal(answer), out) is expected
    assert out.getvalue() == "? Recreate? (y/N) "


@pytest.mark.parametrize("answer,expected", [("y\n", True), ("TRUE\n", True), ("1 more\n", True), ("t", True),
                                             ("yes\n", False), ("", False), ("no\n", False)])
def test_from_a_pipe_compose_string_to_bool_decides(answer: str, expected: bool) -> None:
    """The message without ``(y/N)``, then one line: y, 1, t or true (any case) accept; end of input declines."""
    out = io.StringIO()
    assert ask("Recreate?", io.StringIO(answer), out) is expected
    assert out.getvalue() == "Recreate?\n"
