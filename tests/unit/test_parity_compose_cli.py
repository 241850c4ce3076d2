"""Docker Compose 2.40.3's output shapes of the compose commands, pinned as observed against the real
``docker compose`` (docs/parity-compose.md), run on the in-memory runtime (COMPOSER_RUNTIME=fake)."""

from __future__ import annotations

import io
import json
import textwrap
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from composer.cli import compose
from composer.cli.app import build_app
from composer.cli.compose_commands import table_lines
from composer.cli.progress import Progress
from composer.engine.events import Event, Status

STACK = """
services:
  web:
    image: busybox
    command: sleep 1000
  job:
    image: busybox
    command: "true"
"""


@pytest.fixture
def cli(tmp_path, state_root, monkeypatch):
    """Run compose commands (``--progress plain``) in a project ``demo`` on a fresh FakeRuntime."""
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "compose.yaml").write_text(textwrap.dedent(STACK))
    monkeypatch.chdir(directory)
    monkeypatch.setenv("COMPOSER_RUNTIME", "fake")
    monkeypatch.setattr(compose, "_FAKE", None)
    app = build_app(["composer.cli.compose", "composer.cli.system"])
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--progress", "plain", *args], catch_exceptions=True)

    return invoke


def error(result) -> str:
    """The message of the ComposerError a command ended with (the CLI prints it on stderr, exit 1)."""
    from composer.errors import ComposerError

    assert isinstance(result.exception, ComposerError), result.output
    return result.exception.message


def test_ps_quiet_prints_full_ids_and_services_an_empty_line(cli):
    assert cli("ps", "--services").stdout == "\n"  # compose: strings.Join of nothing, then a newline
    assert cli("up", "-d", "web").exit_code == 0
    ids = cli("ps", "-q").stdout.split()
    assert len(ids) == 1 and len(ids[0]) == 64


def test_ps_table_is_docker_tabwriter_min_width_10_padding_3(cli):
    assert cli("ps").stdout == "NAME      IMAGE     COMMAND   SERVICE   CREATED   STATUS    PORTS\n"
    assert table_lines(["NAME", "STATUS", "PORTS"], [["demo-web-1", "Up 1 second", ""]]) == [
        "NAME         STATUS        PORTS", "demo-web-1   Up 1 second   "]


def test_ps_orphans_false_keeps_the_services_of_the_file(cli):
    assert cli("up", "-d", "web").exit_code == 0
    assert cli("ps", "--orphans=false", "--services").stdout == "web\n"
    assert 'parsing "maybe": invalid syntax' in error(cli("ps", "--orphans=maybe"))


def test_exec_errors_are_composes(cli):
    assert cli("up", "-d", "web").exit_code == 0
    assert error(cli("exec", "-T", "job", "true")) == 'service "job" is not running'
    assert error(cli("exec", "-T", "nosuch", "true")) == 'service "nosuch" is not running'
    assert error(cli("exec", "-T", "--index", "2", "web", "true")) == 'service "web" is not running container #2'


def test_logs_tail_that_is_not_a_number_shows_everything(cli):
    assert cli("up", "-d", "web").exit_code == 0
    result = cli("logs", "--tail", "x")
    assert "invalid" not in result.stderr


def test_log_printer_of_logs_writes_both_streams_to_stdout(capsys):
    line = SimpleNamespace(text="oops", time=None, stream="stderr")
    compose.LogPrinter(["web-1"], color=False, one_stream=True).write("web-1", line)
    compose.LogPrinter(["web-1"], color=False).write("web-1", line)  # attached up: stderr stays stderr
    captured = capsys.readouterr()
    assert captured.out == "web-1  | oops\n" and captured.err == "web-1  | oops\n"


def test_plain_progress_has_no_duration():
    stream = io.StringIO()
    with Progress("plain", stream=stream) as progress:
        progress.event(Event("Container", "demo-web-1", Status.STARTED, duration=0.6))
    assert stream.getvalue() == " Container demo-web-1  Started\n"


def test_pause_unpause_restart_words(cli):
    assert cli("up", "-d", "web").exit_code == 0
    assert cli("pause", "web").stderr.splitlines() == [" Container demo-web-1  Paused"]
    assert cli("unpause", "web").stderr.splitlines() == [" Container demo-web-1  Unpaused"]
    assert cli("restart", "web").stderr.splitlines() == [" Container demo-web-1  Restarting",
                                                         " Container demo-web-1  Started"]


def test_rm_force_says_what_it_removes_on_stdout(cli):
    assert cli("up", "-d").exit_code == 0
    assert cli("stop").exit_code == 0
    result = cli("rm", "-f")
    assert result.exit_code == 0 and result.stdout == "Going to remove demo-job-1, demo-web-1\n"


def test_wait_without_containers_fails(cli):
    assert error(cli("wait", "web")) == 'no containers for project "demo"'


def test_up_and_run_flag_errors_are_composes(cli):
    assert error(cli("up", "--exit-code-from", "nosuch")) == "no such service: nosuch: not found"
    assert cli("ps", "-a", "-q").stdout.strip() == ""  # nothing created
    assert error(cli("up", "-d", "--abort-on-container-exit")) == (
        "--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, "
        "--attach-dependencies or --watch")
    assert error(cli("run", "--pull", "bogus", "job")) == 'invalid --pull option "bogus"'


def test_version_shapes(cli):
    assert cli("version", "--format", "json").stdout == '{"version":"v%s"}\n' % compose_version()
    assert cli("version", "--short").stdout == compose_version() + "\n"
    assert cli("version").stdout == f"composer version v{compose_version()}\n"
    assert json.loads(cli("version", "--format", "json").stdout) == {"version": "v" + compose_version()}


def compose_version() -> str:
    from composer import __version__

    return __version__


def test_attached_up_prints_no_starting_or_started_lines():
    from composer.cli.compose_commands import _as_compose_words

    stream = io.StringIO()
    with Progress("plain", stream=stream) as progress:
        shown = _as_compose_words(progress, "attached up")
        for status in (Status.CREATING, Status.CREATED, Status.STARTING, Status.STARTED):
            shown.event(Event("Container", "demo-web-1", status))
    assert stream.getvalue() == " Container demo-web-1  Creating\n Container demo-web-1  Created\n"
