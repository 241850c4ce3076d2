"""Compose's shapes the CLI follows (session 6 of issue 8): the ``exited with code`` lines,
``--version``, warnings to a non-terminal, the ports of a container that does not run."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from composer.cli import compose
from composer.cli.progress import Progress
from composer.engine.events import Event, Status
from composer.engine.runtime.base import ContainerSummary, PortSpec
from composer.engine.status import ps_record
from tests.unit.test_compose_cli import cli  # noqa: F401 (the fixtures)
from tests.unit.test_parity_compose_cli import demo  # noqa: F401


def test_exit_lines_follow_goterm_reset_line_and_the_container_color(capsys):
    compose.LogPrinter(["web-1"], color=False).exited("web-1", 3)
    assert capsys.readouterr().out == "\r\x1b[Kweb-1 exited with code 3\n"
    printer = compose.LogPrinter(["db-1", "web-1"], color=True)
    printer.exited("web-1", 0)
    assert capsys.readouterr().out == "\x1b[33m\r\x1b[Kweb-1 exited with code 0\n\x1b[0m"  # web-1's color


def test_version_flag_has_the_leading_v():
    out = subprocess.run([sys.executable, "-m", "composer", "--version"], capture_output=True, text=True).stdout
    assert re.fullmatch(r"composer version v\d+\.\d+\.\d+\S*\n", out), out


def test_a_warning_to_a_non_terminal_is_in_logrus_shape():
    stream = io.StringIO()
    Progress("plain", stream=stream).event(Event("Project", "", Status.WARNING, text='a "b" c'))
    assert re.fullmatch(r'time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=warning msg="a \\"b\\" c"\n',
                        stream.getvalue()), stream.getvalue()


def test_ports_only_while_the_container_runs():
    ports = (PortSpec(target=80, published="8080", protocol="tcp"),)
    running = ContainerSummary(id="a" * 64, name="p-web-1", image="busybox", state="running", ports=ports)
    assert ps_record(running)["Ports"] == "0.0.0.0:8080->80/tcp"
    for state in ("created", "exited"):
        record = ps_record(running._replace(state=state))
        assert (record["Ports"], record["Publishers"]) == ("", [])


def test_rm_without_force_asks_also_without_a_terminal(demo):
    """As compose: the question, then one stdin line; none (end of input) removes nothing."""
    assert demo("up", "-d").exit_code == 0 and demo("stop").exit_code == 0
    result = demo("rm")
    assert result.exit_code == 0 and result.stdout.startswith("Going to remove demo-job-1, demo-web-1")
    assert len(demo("ps", "-a", "-q").stdout.split()) == 2
