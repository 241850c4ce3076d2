"""Docker Compose 2.40.3's output shapes of the compose commands, pinned as observed against the real
``docker compose`` (docs/parity-compose.md), run on the in-memory runtime (COMPOSER_RUNTIME=fake)."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from composer.cli import compose
from composer.cli.app import build_app
from composer.cli.compose_fast import table_lines
from composer.cli.progress import Progress
from composer.engine.events import Event, Status
from tests.unit.test_compose_cli import cli  # noqa: F401 (the fixture)

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
def demo(cli):
    """test_compose_cli's ``cli`` (project ``demo`` on a fresh FakeRuntime, its directory the cwd),
    with this module's services."""
    Path("compose.yaml").write_text(textwrap.dedent(STACK))
    return cli


def error(result) -> str:
    """The message of the ComposerError a command ended with (the CLI prints it on stderr, exit 1)."""
    from composer.errors import ComposerError

    assert isinstance(result.exception, ComposerError), result.output
    return result.exception.message


def test_ps_quiet_prints_full_ids_and_services_an_empty_line(demo):
    assert demo("ps", "--services").stdout == "\n"  # compose: strings.Join of nothing, then a newline
    assert demo("up", "-d", "web").exit_code == 0
    ids = demo("ps", "-q").stdout.split()
    assert len(ids) == 1 and len(ids[0]) == 64


def test_ps_table_is_docker_tabwriter_min_width_10_padding_3(demo):
    assert demo("ps").stdout == "NAME      IMAGE     COMMAND   SERVICE   CREATED   STATUS    PORTS\n"
    assert table_lines(["NAME", "STATUS", "PORTS"], [["demo-web-1", "Up 1 second", ""]]) == [
        "NAME         STATUS        PORTS", "demo-web-1   Up 1 second   "]


def test_ps_orphans_false_keeps_the_services_of_the_file(demo):
    assert demo("up", "-d", "web").exit_code == 0
    assert demo("ps", "--orphans=false", "--services").stdout == "web\n"
    assert 'parsing "maybe": invalid syntax' in error(demo("ps", "--orphans=maybe"))
    assert 'parsing "tRue": invalid syntax' in error(demo("ps", "--orphans=tRue"))  # Go's ParseBool



def test_ps_orphans_is_a_bool_flag():
    """compose's ``--orphans`` is a bool flag (default true): alone it is true, ``=VALUE`` is Go's."""
    from composer.cli.compose_fast import _parse

    assert _parse("ps", ["--orphans", "web"]) == ({"orphans": True}, ["web"])
    assert _parse("ps", ["--orphans=F"]) == ({"orphans": False}, [])


def test_exec_errors_are_composes(demo):
    assert demo("up", "-d", "web").exit_code == 0
    assert error(demo("exec", "-T", "job", "true")) == 'service "job" is not running'
    assert error(demo("exec", "-T", "nosuch", "true")) == 'service "nosuch" is not running'
    assert error(demo("exec", "-T", "--index", "2", "web", "true")) == 'service "web" is not running container #2'


def test_logs_tail_that_is_not_a_number_shows_everything(demo):
    assert demo("up", "-d", "web").exit_code == 0
    result = demo("logs", "--tail", "x")
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


def test_plain_progress_of_cp_names_the_copy():
    stream = io.StringIO()
    with Progress("plain", stream=stream) as progress:
        for status in (Status.COPYING, Status.COPIED):
            progress.event(Event("Container", "proj-web-1", status, text="in.txt to proj-web-1:/tmp/in.txt"))
    assert stream.getvalue().splitlines() == [" proj-web-1 copy in.txt to proj-web-1:/tmp/in.txt Copying",
                                              " proj-web-1 copy in.txt to proj-web-1:/tmp/in.txt Copied"]


def test_pause_unpause_restart_words(demo):
    assert demo("up", "-d", "web").exit_code == 0
    assert demo("pause", "web").stderr.splitlines() == [" Container demo-web-1  Paused"]
    assert demo("unpause", "web").stderr.splitlines() == [" Container demo-web-1  Unpaused"]
    assert demo("restart", "web").stderr.splitlines() == [" Container demo-web-1  Restarting",
                                                         " Container demo-web-1  Started"]


def test_rm_force_says_what_it_removes_on_stdout(demo):
    assert demo("up", "-d").exit_code == 0
    assert demo("stop").exit_code == 0
    result = demo("rm", "-f")
    assert result.exit_code == 0 and result.stdout == "Going to remove demo-job-1, demo-web-1\n"


def test_wait_without_containers_fails(demo):
    assert error(demo("wait", "web")) == 'no containers for project "demo"'


def test_up_and_run_flag_errors_are_composes(demo):
    assert error(demo("up", "--exit-code-from", "nosuch")) == "no such service: nosuch: not found"
    assert demo("ps", "-a", "-q").stdout.strip() == ""  # nothing created
    assert error(demo("up", "-d", "--abort-on-container-exit")) == (
        "--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, "
        "--attach-dependencies or --watch")
    assert error(demo("run", "--pull", "bogus", "job")) == 'invalid --pull option "bogus"'


def test_version_shapes():
    app = build_app(["composer.cli.system"])

    def version(*args: str):
        return CliRunner().invoke(app, ["version", *args])

    assert version("--format", "json").stdout == '{"version":"v%s"}\n' % compose_version()
    assert version("--short").stdout == compose_version() + "\n"
    assert version().stdout == f"composer version v{compose_version()}\n"
    assert json.loads(version("--format", "json").stdout) == {"version": "v" + compose_version()}


def compose_version() -> str:
    from composer import __version__

    return __version__


def test_attached_up_prints_no_starting_or_started_lines():
    from composer.cli.compose import compose_words as _as_compose_words

    stream = io.StringIO()
    with Progress("plain", stream=stream) as progress:
        shown = _as_compose_words(progress, "attached up")
        for status in (Status.CREATING, Status.CREATED, Status.STARTING, Status.STARTED):
            shown.event(Event("Container", "demo-web-1", status))
    assert stream.getvalue() == " Container demo-web-1  Creating\n Container demo-web-1  Created\n"
