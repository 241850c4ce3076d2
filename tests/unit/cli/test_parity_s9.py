"""Compose 2.40.3's behaviour of session 9 (docs/parity-compose.md "Session 9"), on the in-memory
runtime: a refused start says its error once, as the command's (a refused create keeps its Error
line); ``ps`` of a paused container, ``pause``'s refusal, ``wait``'s words, ``down``'s warning, an
unknown command, a bad project name."""

from __future__ import annotations

import io
from pathlib import Path

from composer.cli import compose
from composer.cli.compose import compose_words
from composer.cli.progress import Progress
from composer.engine.events import Event, Status
from composer.engine.runtime.fake import Behaviour
from tests.unit.test_compose_cli import cli  # noqa: F401 (the fixtures)
from tests.unit.test_parity_compose_cli import demo  # noqa: F401


def shown(events: list[Event], mode: str = "plain", verb: str = "") -> list[str]:
    stream = io.StringIO()
    progress = Progress(mode, stream=stream)
    sink = compose_words(progress, verb) if verb else progress
    for event in events:
        sink.event(event)
    return stream.getvalue().splitlines()


def test_a_refused_start_leaves_its_starting_line_alone():
    """Compose's startService sends no error event (` Container p-b-1  Starting`, then the
    daemon's error as the command's); a refused create has its line (` Container x  Error ...`)."""
    refused = [Event("Container", "p-b-1", Status.CREATING), Event("Container", "p-b-1", Status.CREATED),
               Event("Container", "p-b-1", Status.STARTING),
               Event("Container", "p-b-1", Status.ERROR, text="Bind for 127.0.0.1:18099 failed: port is allocated")]
    assert shown(refused) == [" Container p-b-1  Creating", " Container p-b-1  Created", " Container p-b-1  Starting"]
    assert [line for line in shown(refused, verb="attached up")] == [" Container p-b-1  Creating",
                                                                     " Container p-b-1  Created"]
    bad_create = [Event("Container", "p-c-1", Status.CREATING), Event("Container", "p-c-1", Status.ERROR, text="no")]
    assert shown(bad_create) == [" Container p-c-1  Creating", " Container p-c-1  Error no"]
    restart = [Event("Container", "p-b-1", Status.RESTARTING), Event("Container", "p-b-1", Status.ERROR, text="x")]
    assert shown(restart, verb="restart") == [" Container p-b-1  Restarting"]
    assert shown(refused, mode="json")[-1] == '{"id": "Container p-b-1", "status": "Starting", "done": false}'


def test_ps_lists_paused_containers_and_wait_says_compose_words(demo):
    """``ps`` (no ``-a``) lists a paused container, as docker; ``pause`` twice is dockerd's
    refusal naming the id; ``wait``: ``container "ID" exited with status code N`` (its code)."""
    assert demo("up", "-d", "web").exit_code == 0
    assert demo("pause", "web").exit_code == 0
    assert demo("ps", "--format", "{{.Name}} {{.State}}").stdout == "demo-web-1 paused\n"
    refused = demo("pause", "web")
    container_id = demo("ps", "-q").stdout.strip()
    assert refused.exit_code == 1
    assert refused.exception.message == f"Error response from daemon: Container {container_id} is already paused"
    assert demo("unpause", "web").exit_code == 0
    compose._FAKE.behaviours["job"] = Behaviour(exit_code=3)
    assert demo("up", "-d", "job").exit_code == 0
    job_id = demo("ps", "-aq", "job").stdout.strip()
    waited = demo("wait", "job")
    assert (waited.exit_code, waited.stdout) == (3, f'container "{job_id}" exited with status code 3\n')


def test_down_of_nothing_warns_only_without_networks_to_remove(demo):
    """Compose 2.40's down has an operation for each network of the file, found or not: no
    warning then; without a file (``-p``) nothing is left to try: the warning."""
    result = demo("down")
    assert result.exit_code == 0 and "No resource found" not in result.stderr
    Path("compose.yaml").unlink()
    assert 'No resource found to remove for project \\"other\\".' in demo("-p", "other", "down").stderr


def test_unknown_command_and_project_name_as_compose(tmp_path):
    """An unknown command exits 1 (cobra's words); a bad ``-p`` is quoted as Go's %q."""
    import subprocess
    import sys

    unknown = subprocess.run([sys.executable, "-m", "composer", "nosuch"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=60)
    assert (unknown.returncode, unknown.stderr.splitlines()[0]) == (1, 'unknown command "nosuch" for "composer"')
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: busybox}\n")
    bad = subprocess.run([sys.executable, "-m", "composer", "-p", "UPPER", "config", "--services"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 1 and 'invalid project name "UPPER": must consist only of' in bad.stderr
