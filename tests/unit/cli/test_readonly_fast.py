"""The typer-free read-only commands (``version``, ``image ls``/``list``, ``image inspect``): the
same output as their typer commands, and what they leave to typer (help, flag errors)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from composer.cli import image_fast, version


def _typer(argv: list[str], module: str):
    from typer.testing import CliRunner

    from composer.cli.app import build_app

    return CliRunner().invoke(build_app([module]), argv)


@pytest.mark.parametrize("argv", [["--help"], ["--short", "-h"], ["--bogus"], ["-f"], ["extra"]])
def test_version_lines_it_does_not_take_go_to_typer(argv):
    assert version.main(argv) is None


@pytest.mark.parametrize("argv", [[], ["--short"], ["-f", "json"], ["--format", "{{.Client.Os}}"],
                                  ["--format={{json .Server.ApiVersion}}"]])
def test_version_prints_what_the_typer_command_prints(argv, capsys):
    assert version.main(argv) == 0
    fast = capsys.readouterr().out
    shown = _typer(["version", *argv], "composer.cli.system")
    assert (shown.exit_code, shown.stdout) == (0, fast)


@pytest.mark.parametrize("argv", [["ls", "--help"], ["ls", "--bogus"], ["ls", "a", "b"], ["ls", "--format"],
                                  ["inspect"], ["inspect", "-h", "x"], ["inspect", "x", "--size"]])
def test_image_lines_it_does_not_take_go_to_typer(argv):
    main = image_fast.ls_main if argv[0] == "ls" else image_fast.inspect_main
    assert main(argv[1:]) is None


@pytest.mark.parametrize("argv", [
    ["ls"], ["ls", "-q", "--no-trunc"], ["ls", "busybox", "--format", "json"], ["ls", "-f", "reference=busy*",
                                                                              "--format", "{{.Repository}}"],
    ["ls", "--digests", "-a"], ["ls", "-f", "before=nope"], ["inspect", "busybox"],
    ["inspect", "nope", "busybox", "-f", "{{.Os}} {{.Config.Cmd}}"],
])
def test_image_commands_print_what_the_typer_commands_print(busybox_image, argv, capsys):
    main = image_fast.ls_main if argv[0] == "ls" else image_fast.inspect_main
    code = main(argv[1:])
    fast = capsys.readouterr()
    shown = _typer(["image", *argv], "composer.cli.images")
    assert (code, fast.out) == (shown.exit_code, shown.stdout)
    assert fast.err == shown.stderr
    assert ("No such image: nope:latest" in fast.err) == any("nope" in arg for arg in argv)


def test_the_fast_paths_import_no_typer(state_root):
    code = ("import sys, composer.cli.main as m; m.run_fast_path(['version']); m.run_fast_path(['image', 'ls']); "
            "m.run_fast_path(['image', 'inspect', 'none']); "
            "assert 'typer' not in sys.modules and 'click' not in sys.modules, 'typer imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("argv", [
    ["system", "df"], ["system", "df", "-v"], ["system", "df", "--format", "json"], ["system", "df", "--verbose"],
    ["system", "df", "--format", "{{.Type}}: {{.Size}}"], ["system", "df", "-v", "--format", "json"],
    ["system", "info", "-f", "{{.Images}} {{.Driver}}"], ["system", "info", "--format={{json .Containers}}"],
    ["image", "history", "busybox"], ["image", "history", "-H=false", "busybox"], ["image", "history", "-q", "busybox"],
    ["image", "history", "busybox", "--no-trunc", "--format", "json"], ["image", "history", "-H", "busybox"],
    ["image", "history", "--human=F", "--format", "{{.ID}} {{.Size}}", "busybox"], ["image", "history", "nope"],
])
def test_system_and_history_print_what_the_typer_commands_print(busybox_image, argv, capsys):
    from composer.cli.main import run_fast_path

    code = run_guarded_code(lambda: run_fast_path(argv))
    fast = capsys.readouterr()
    shown = _typer(argv, "composer.cli.system" if argv[0] == "system" else "composer.cli.images")
    assert (code, fast.out, fast.err) == (shown.exit_code, shown.stdout, shown.stderr)


def run_guarded_code(function) -> int:
    """A fast path's exit code, a SystemExit's too (``image history nope``: exit 1, as dockerd's error)."""
    try:
        return function()
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("argv", [["system", "df", "--help"], ["system", "df", "x"], ["system", "df", "--format"],
                                  ["system", "info", "-v"], ["system", "info", "x"], ["image", "history"],
                                  ["image", "history", "a", "b"], ["image", "history", "-H", "false", "x"],
                                  ["image", "history", "-h", "x"], ["system", "df", "-v=maybe"]])
def test_system_and_history_lines_they_do_not_take_go_to_typer(argv):
    from composer.cli.main import run_fast_path

    assert run_fast_path(argv) is None


def test_system_and_history_import_no_typer(state_root):
    code = ("import sys, composer.cli.main as m; m.run_fast_path(['system', 'df']); "
            "m.run_fast_path(['system', 'info']); m.run_fast_path(['image', 'history', 'none']); "
            "assert 'typer' not in sys.modules and 'click' not in sys.modules, 'typer imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr == "Error response from daemon: No such image: none:latest\n"
