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
    assert out.getvalue() == "Recreate?"  # no newline after it, as compose (observed with rm)


def test_the_live_display_pauses_for_the_question(monkeypatch) -> None:
    """Stopping rich's display waits for its refresh thread: the question never deadlocks it."""
    import threading

    from composer.cli import progress
    from composer.engine.events import Event, Status

    asked: list[str] = []
    monkeypatch.setattr(progress, "ask", lambda message: asked.append(message) or True)
    out = io.StringIO()
    answers: list[bool] = []

    def run() -> None:
        with progress.Progress(mode="tty", stream=out) as shown:
            shown.event(Event("Volume", "x", Status.CREATING))
            answers.append(shown.confirm("Recreate?"))
            shown.event(Event("Volume", "x", Status.CREATED, duration=0.1))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert answers == [True] and asked == ["Recreate?"]
    assert "✔ Volume x  Created" in out.getvalue()
