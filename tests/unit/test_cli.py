"""The CLI's entry point: version, help, errors without tracebacks."""

from composer.cli.main import find_command_words, modules_for, COMMAND_MODULES


def test_version(composer):
    result = composer("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("composer version ")


def test_help_lists_groups(composer):
    result = composer("--help")
    assert result.returncode == 0
    assert "version" in result.stdout


def test_unknown_command_is_usage_error(composer):
    result = composer("no-such-command")
    assert result.returncode == 1  # as Docker Compose 2.40 (unknown docker command: "compose ...", exit 1)
    assert "Traceback" not in result.stderr


def test_command_words_skip_global_options():
    assert find_command_words(["-f", "a.yaml", "-p", "x", "config", "--services"]) == ["config"]
    assert find_command_words(["container", "run", "--rm", "busybox"]) == ["container", "run"]
    assert find_command_words(["--dry-run", "up", "-d"]) == ["up"]


def test_only_the_needed_module_is_imported():
    assert modules_for(["container", "run"]) == [COMMAND_MODULES["container"]]
    assert len(modules_for([])) == len(set(COMMAND_MODULES.values()))
