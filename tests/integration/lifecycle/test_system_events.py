"""``system events``: docker's ``events`` of the host's containers, past (``--since``) and live,
docker's line and JSON message, ``--filter`` and ``--format``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]


def test_past_events_lines_json_and_filters(cli):
    cli("container", "run", "--network", "none", "--name", "ev1", "-l", "team=a", "busybox", "true", check=True)
    lines = cli("system", "events", "--since", "10m", "--until", "0s", check=True).stdout.splitlines()
    assert [line.split()[1:3] for line in lines] == [["container", "create"], ["container", "start"],
                                                    ["container", "die"]]
    assert lines[-1].endswith("(exitCode=0, image=busybox, name=ev1, team=a)") and lines[0][10] == "T"
    shown = cli("system", "events", "--since", "10m", "--until", "0s", "--format", "{{json .}}", check=True).stdout
    message = json.loads(shown.splitlines()[0])
    assert sorted(message) == ["Action", "Actor", "Type", "from", "id", "scope", "status", "time", "timeNano"]
    assert (message["Type"], message["Action"], message["from"]) == ("container", "create", "busybox")
    assert message["Actor"]["Attributes"] == {"image": "busybox", "name": "ev1", "team": "a"}
    died = cli("system", "events", "--since", "10m", "--until", "0s", "--filter", "event=die",
               "--filter", "container=ev1", "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}", check=True)
    assert died.stdout == "die 0\n"
    assert cli("system", "events", "--since", "10m", "--until", "0s", "--filter", "label=team=b").stdout == ""
    refused = cli("system", "events", "--filter", "bogus=1")
    assert (refused.returncode, refused.stderr) == (1, "Error response from daemon: Invalid filter 'bogus'\n")


def test_live_events_follow_a_new_container(cli, state_root: Path):
    since = str(int(time.time()) - 1)  # the log and the live stream meet: nothing is lost in between
    events = subprocess.Popen([sys.executable, "-m", "composer", "system", "events", "--since", since,
                               "--filter", "container=ev2", "--format", "{{.Action}}"], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    watchdog = threading.Timer(90, events.kill)  # a stream that never shows the die ends the test, not the suite
    watchdog.start()
    try:
        cli("container", "run", "--network", "none", "--name", "ev2", "busybox", "true", check=True)
        seen = []
        while "die" not in seen:
            line = events.stdout.readline()
            assert line, f"the stream ended: {seen}"
            seen.append(line.strip())
    finally:
        watchdog.cancel()
        events.kill()
        events.wait()
    assert seen[:3] == ["create", "start", "die"]
