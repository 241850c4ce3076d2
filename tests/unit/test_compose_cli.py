"""The compose commands' CLI on the in-memory runtime (COMPOSER_RUNTIME=fake): flags, output shapes."""

from __future__ import annotations

import io
import json
import textwrap

import pytest
from typer.testing import CliRunner

from composer.cli import compose
from composer.cli.app import build_app
from composer.cli.progress import Progress, choose_mode
from composer.engine.events import Event, Status
from composer.errors import UsageError

STACK = """
services:
  db:
    image: busybox
    command: sleep 1000
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  web:
    image: busybox
    depends_on: {db: {condition: service_healthy}}
    ports: ["8080:80"]
"""


@pytest.fixture
def cli(tmp_path, state_root, monkeypatch):
    """Run compose commands in a project directory ``demo`` against a fresh FakeRuntime."""
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "compose.yaml").write_text(textwrap.dedent(STACK))
    monkeypatch.chdir(directory)
    monkeypatch.setenv("COMPOSER_RUNTIME", "fake")
    monkeypatch.setattr(compose, "_FAKE", None)
    app = build_app(["composer.cli.compose"])
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--progress", "plain", *args], catch_exceptions=True)

    return invoke


def test_up_ps_json_down(cli):
    assert cli("up", "-d").exit_code == 0
    result = cli("ps", "--format", "json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["Service"] for r in records] == ["db", "web"]
    assert records[0]["Health"] == "healthy" and records[1]["State"] == "running"
    assert records[1]["Publishers"][0]["PublishedPort"] == 8080
    assert cli("ps", "--services").stdout.split() == ["db", "web"]
    assert len(cli("ps", "-q").stdout.split()) == 2
    assert cli("down").exit_code == 0
    assert cli("ps", "-a", "-q").stdout.strip() == ""


def test_no_change_up_reports_running(cli):
    cli("up", "-d")
    result = cli("--progress", "json", "up", "-d")
    statuses = {json.loads(line)["status"] for line in result.output.splitlines() if line.startswith("{")}
    assert statuses == {"Running", "Waiting", "Healthy"}  # as Compose: web waits for db all the same


def test_stop_start_and_ls(cli):
    cli("up", "-d")
    cli("stop", "web")
    states = {r["Service"]: r["State"] for r in map(json.loads, cli("ps", "-a", "--format", "json").stdout.split("\n")[:-1])}
    assert states == {"db": "running", "web": "exited"}
    assert "running(1)" in cli("ls").stdout
    cli("start")
    assert "running(2)" in cli("ls").stdout
    assert cli("ls", "-q").stdout.split() == ["demo"]


def test_status_filter(cli):
    cli("up", "-d")
    cli("stop", "db")
    assert cli("ps", "--filter", "status=exited", "--services").stdout.split() == ["db"]
    assert isinstance(cli("ps", "--filter", "name=x").exception, UsageError)


def test_usage_errors(cli):
    for args in (["up", "--scale", "web"], ["up", "--force-recreate", "--no-recreate"], ["down", "--rmi", "x"]):
        assert isinstance(cli(*args).exception, UsageError)


def test_scale(cli):
    cli("up", "-d", "--scale", "web=3")
    names = [json.loads(line)["Name"] for line in cli("ps", "--format", "json").stdout.splitlines()]
    assert names == ["demo-db-1", "demo-web-1", "demo-web-2", "demo-web-3"]


def test_progress_modes():
    stream = io.StringIO()
    assert choose_mode(None, stream=stream) == "plain"
    assert choose_mode(None, ansi="always", stream=stream) == "tty"
    with pytest.raises(UsageError):
        choose_mode("fancy")
    with Progress("json", stream=stream) as progress:
        progress.event(Event("Container", "a-web-1", Status.STARTED, duration=0.25))
    assert json.loads(stream.getvalue()) == {"id": "Container a-web-1", "status": "Started", "done": True,
                                             "duration": 0.25}


def test_progress_tty_lines():
    stream = io.StringIO()
    with Progress("tty", stream=stream) as progress:
        progress.event(Event("Container", "a-web-1", Status.STARTING))
        progress.event(Event("Container", "a-web-1", Status.STARTED, duration=0.3))
    assert "✔ Container a-web-1" in stream.getvalue() and "Started" in stream.getvalue()
    assert "0.3s" in stream.getvalue() and "[+] Running 1/1" in stream.getvalue()


def test_log_printer_prefixes(capsys):
    class Line:
        text, time = "hello", "2026-01-01T00:00:00.000000000Z"

    printer = compose.LogPrinter(["web-1", "db-1"], color=False)
    printer.write("db-1", Line())
    printer.timestamps = True
    printer.write("web-1", Line())
    assert capsys.readouterr().out == "db-1   | hello\nweb-1  | 2026-01-01T00:00:00.000000000Z hello\n"


def test_parsers():
    from composer.cli.compose_run import parse_publish, parse_volumes

    assert compose.parse_scale(["web=2"]) == {"web": 2}
    assert parse_publish(["127.0.0.1:8080:80/udp"])[0]._asdict() == {
        "target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "udp"}
    assert parse_volumes(["./data:/data:ro"], "/p")[0].source == "/p/data"
    assert parse_volumes(["named:/data"], "/p")[0].type == "volume"
    with pytest.raises(UsageError):
        parse_volumes(["a:relative"], "/p")


def test_fast_paths(cli):
    assert compose.up_fast(["-d", "--scale", "web=2"]) == 0
    assert [r["Name"] for r in map(json.loads, cli("ps", "--format", "json").stdout.splitlines())] == [
        "demo-db-1", "demo-web-1", "demo-web-2"]
    assert compose.up_fast([]) is None  # attached: typer's path
    assert compose.up_fast(["-d", "--no-such-flag"]) is None
    assert compose.down_fast(["--rmi", "bogus"]) is None
    assert compose.down_fast(["-v", "-t", "0"]) == 0
    assert cli("ps", "-a", "-q").stdout == ""
    with pytest.raises(UsageError):
        compose.up_fast(["-d", "--force-recreate", "--no-recreate"])


def test_up_of_a_profiled_service_enables_its_profile_from_the_cached_project(cli, tmp_path):
    """typer's ``up`` binds the project through the cache (compose.load): naming a disabled
    service still enables its profiles, a second time too (then from the cached model)."""
    (tmp_path / "demo" / "compose.yaml").write_text(textwrap.dedent("""
        services:
          web: {image: busybox}
          debug: {image: busybox, profiles: [debug]}
        """))
    for _ in range(2):
        result = cli("up", "-d", "--no-deps", "debug")
        assert result.exit_code == 0, result.output
        assert "demo-debug-1" in result.output and "demo-web-1" not in result.output


def test_scale_values_one_parser_with_composes_words():
    """``up --scale`` and ``scale`` share one SERVICE=N parser; each keeps compose's wording."""
    from composer.cli.compose_extra import parse_replicas

    assert compose.parse_scale(["web=2", "db=0"]) == {"web": 2, "db": 0} == parse_replicas(["web=2", "db=0"])
    for value, words in (("web", 'invalid --scale option "web". Should be SERVICE=NUM'),
                         ("web=x", 'strconv.Atoi: parsing "x": invalid syntax')):
        with pytest.raises(UsageError) as raised:
            compose.parse_scale([value])
        assert raised.value.message == words
