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


@pytest.mark.parametrize("argv", [["ls", "--help"], ["inspect", "-h", "x"]])
def test_image_help_goes_to_typer(argv):
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


@pytest.mark.parametrize("argv", [["system", "df", "--help"], ["image", "history", "-h", "x"]])
def test_system_and_history_help_goes_to_typer(argv):
    from composer.cli.main import run_fast_path

    assert run_fast_path(argv) is None


REFUSED = [  # (argv, exit code, docker 28's first line; both routes unless said)
    (["image", "ls", "a", "b"], 1, "composer: 'composer image ls' requires at most 1 argument"),
    (["image", "ls", "--bogus"], 125, "unknown flag: --bogus"),
    (["image", "ls", "--format"], 125, "flag needs an argument: --format"),
    (["image", "ls", "-a=x"], 125, 'invalid argument "x" for "-a, --all" flag: strconv.ParseBool: parsing "x": '
                                   "invalid syntax"),
    (["image", "inspect"], 1, "composer: 'composer image inspect' requires at least 1 argument"),
    (["image", "inspect", "x", "--size"], 125, "unknown flag: --size"),
    (["image", "history"], 1, "composer: 'composer image history' requires 1 argument"),
    (["image", "history", "a", "b"], 1, "composer: 'composer image history' requires 1 argument"),
    (["image", "history", "--no-trunc=x", "a"], 125, 'invalid argument "x" for "--no-trunc" flag: strconv.ParseBool: '
                                                     'parsing "x": invalid syntax'),
    (["system", "df", "x"], 1, "composer: 'composer system df' accepts no arguments"),
    (["system", "df", "--format"], 125, "flag needs an argument: --format"),
    (["system", "df", "-v=maybe"], 125, 'invalid argument "maybe" for "-v, --verbose" flag: strconv.ParseBool: '
                                        'parsing "maybe": invalid syntax'),
    (["system", "info", "-f"], 125, "flag needs an argument: 'f' in -f"),
    (["system", "info", "x"], 1, "composer: 'composer system info' accepts no arguments"),
    (["system", "prune", "-f=x"], 125, 'invalid argument "x" for "-f, --force" flag: strconv.ParseBool: '
                                       'parsing "x": invalid syntax'),
    (["volume", "ls", "x"], 1, "composer: 'composer volume ls' accepts no arguments"),
    (["network", "create"], 1, "composer: 'composer network create' requires 1 argument"),
    (["network", "ls", "-q=x"], 125, 'invalid argument "x" for "-q, --quiet" flag: strconv.ParseBool: '
                                     'parsing "x": invalid syntax'),
    (["image", "tag", "x"], 1, "composer: 'composer image tag' requires 2 arguments"),
    (["image", "pull"], 1, "composer: 'composer image pull' requires 1 argument"),
    (["image", "build"], 1, "composer: 'composer image build' requires 1 argument"),
    (["image", "build", "-t"], 125, "flag needs an argument: 't' in -t"),
    (["image", "pull", "--platform"], 125, "flag needs an argument: --platform"),
    (["image", "pull", "-q=x", "busybox"], 125, 'invalid argument "x" for "-q, --quiet" flag: strconv.ParseBool: '
                                                'parsing "x": invalid syntax'),
    (["volume", "create", "a", "b"], 1, "composer: 'composer volume create' requires at most 1 argument"),
]


@pytest.mark.parametrize("route", ["fast", "typer"])
@pytest.mark.parametrize("argv, code, first_line", REFUSED)
def test_lines_refused_as_docker_refuses_them(state_root, monkeypatch, capsys, route, argv, code, first_line):
    """Each route (typer-free or typer) refuses them in docker's words, its usage block after."""
    from composer.cli import main as entry

    if route == "typer":
        monkeypatch.setattr(entry, "FAST_PATHS", {})
    with pytest.raises(SystemExit) as end:
        entry.main(argv)
    err = capsys.readouterr().err
    assert (end.value.code, err.splitlines()[0]) == (code, first_line), err
    assert "\nUsage:  composer " in err


def test_docker_s_footers_of_argument_counts():
    """cobra's argument checks end with ``See`` (at least), ``SRun`` (at most: docker 28's slip)
    or ``Run`` (exactly, none, a range)."""
    from composer.cli.dockerusage import arity_error, usage_text

    def footer(command: str) -> str:
        error = arity_error(command)
        return usage_text(error.message, error.hint).splitlines()[-1].split(" '")[0]

    assert [footer(c) for c in ("image rm", "image ls", "image tag", "system df", "container port")] == \
        ["See", "SRun", "Run", "Run", "Run"]


def test_system_and_history_import_no_typer(state_root):
    code = ("import sys, composer.cli.main as m\n"
            "m.run_fast_path(['system', 'df']); m.run_fast_path(['system', 'info'])\n"
            "try:\n    m.run_fast_path(['image', 'history', 'none'])\nexcept SystemExit as end:\n    assert end.code == 1\n"
            "assert 'typer' not in sys.modules and 'click' not in sys.modules, 'typer imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "Error response from daemon: No such image: none:latest\n"


def test_every_docker_command_has_its_usage_line():
    """``dockerusage`` counts a command's arguments from its usage line; one without takes none."""
    import typer.main

    from composer.cli.app import build_app
    from composer.cli.dockerusage import ALIASES, _usage
    from composer.cli.main import COMMAND_MODULES

    root = typer.main.get_command(build_app(list(dict.fromkeys(COMMAND_MODULES.values()))))
    missing = [f"{group} {name}" for group in ("container", "image", "network", "volume", "system", "builder")
               for name in root.commands[group].commands if _usage(f"{group} {ALIASES.get(name, name)}") is None]
    assert missing == ["system start", "builder prune"]  # (both take no argument)
