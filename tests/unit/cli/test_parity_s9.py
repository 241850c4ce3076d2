"""Compose 2.40.3's lines of session 9 (docs/parity-compose.md "Session 9"): a refused start says
its error once, as the command's; a refused create keeps its Error line."""

from __future__ import annotations

import io

from composer.cli.compose import compose_words
from composer.cli.progress import Progress
from composer.engine.events import Event, Status


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
