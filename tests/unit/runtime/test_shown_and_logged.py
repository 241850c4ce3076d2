"""A foreground run's output: shown on our stdout/stderr and kept in the json-file log."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from composer.engine.runtime.logs import LogWriter, ShownAndLogged


def _records(path) -> list[tuple[str, str]]:
    return [(r["stream"], r["log"]) for r in map(json.loads, open(path))]


def test_both_streams_are_shown_and_logged(tmp_path, capfd):
    output = ShownAndLogged()
    child = subprocess.Popen(["sh", "-c", "echo out; echo err >&2; printf end"])
    output.pump(LogWriter(str(tmp_path / "log")), child.pid)
    assert child.wait() == 0
    output.close()
    shown = capfd.readouterr()
    assert (shown.out, shown.err) == ("out\nend", "err\n")
    assert sorted(_records(tmp_path / "log")) == [("stderr", "err\n"), ("stdout", "end"), ("stdout", "out\n")]


def test_the_pump_ends_with_pid_1_though_a_child_holds_the_pipes(tmp_path, capfd):
    output = ShownAndLogged({"stdout"})  # run -a stdout: stderr is logged, not shown
    child = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; echo gone >&2"])
    output.pump(LogWriter(str(tmp_path / "log")), child.pid)
    child.wait()
    output.close()
    shown = capfd.readouterr()
    os.kill(int(shown.out.split()[0]), signal.SIGKILL)  # the sleep this test started
    assert shown.err == ""
    assert ("stderr", "gone\n") in _records(tmp_path / "log")
