"""``composer up -d`` and ``down`` end their process without the interpreter's teardown (exit_now),
only when main runs the process's own command line: a caller of main() in-process gets SystemExit."""

from __future__ import annotations

import sys

import pytest

from composer.cli import main as cli_main


class Exited(Exception):
    """exit_now was called (instead of ending the test process)."""


@pytest.fixture
def fast_path(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every fast path succeeds at once; exit_now raises Exited with its code recorded."""
    codes: list[int] = []

    def exit_now(code: int) -> int:
        codes.append(code)
        raise Exited

    monkeypatch.setattr(cli_main, "exit_now", exit_now)
    monkeypatch.setattr(cli_main, "run_fast_path", lambda argv: 3 if "--fail" in argv else 0)
    return codes


@pytest.mark.parametrize("argv", [["up", "-d"], ["down"], ["down", "--fail"]])
def test_up_and_down_exit_now_from_the_command_line(fast_path: list[int], monkeypatch: pytest.MonkeyPatch,
                                                    argv: list[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["composer", *argv])
    with pytest.raises(Exited):
        cli_main.main()
    assert fast_path == [3 if "--fail" in argv else 0]


def test_in_process_callers_and_other_fast_paths_get_system_exit(fast_path: list[int],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main.main(["down"])
    assert exit_.value.code == 0
    monkeypatch.setattr(sys, "argv", ["composer", "network", "ls"])
    with pytest.raises(SystemExit):
        cli_main.main()
    assert fast_path == []
