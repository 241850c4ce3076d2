"""``system events``: docker's ``events`` of the host's containers (``--since``, ``--until``,
``--filter container=/event=/image=/label=/type=``, ``--format`` ``json`` or a Go template), as
docker's CLI prints them: ``2026-01-02T15:04:05.123456789Z container start ID (image=..., name=...)``.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import json
from typing import Any, List, Optional

import typer

FILTER_KEYS = ("container", "event", "image", "label", "type")


def system_events(since: Optional[str] = typer.Option(None, "--since", help="Show all events created since timestamp."),
                  until: Optional[str] = typer.Option(None, "--until", help="Stream events until this timestamp."),
                  filters: List[str] = typer.Option([], "-f", "--filter", help="container=, event=, image=, label=, type="),
                  output_format: str = typer.Option("", "--format", help="json or a Go template.")) -> None:
    """Get real time events from the server (its containers' actions)."""
    import itertools

    from composer.cli.containers import _when
    from composer.cli.system import filter_groups
    from composer.engine.host_events import HostMonitor

    groups = filter_groups(filters, FILTER_KEYS)
    start, end = _when(since, "--since"), _when(until, "--until")
    with HostMonitor() as monitor:
        past = monitor.history(start, end) if start is not None else []
        for change in itertools.chain(past, monitor.changes(until=end)):
            message = docker_message(change)
            if selected(message, groups):
                typer.echo(render_event(message, output_format))


def docker_message(change: Any) -> dict:
    """dockerd's events message of one container action (``docker events --format '{{json .}}'``)."""
    from composer.cli.psformat import short_image

    nano = int(round(change.time * 1e9))
    image = short_image(change.view.image)  # as the container was made from it (``busybox``)
    attributes = dict(sorted({**change.view.labels, **change.attributes(), "image": image}.items()))
    return {"status": change.action, "id": change.view.id, "from": image, "Type": "container",
            "Action": change.action, "Actor": {"ID": change.view.id, "Attributes": attributes},
            "scope": "local", "time": nano // 10**9, "timeNano": nano}


def selected(message: dict, groups: dict) -> bool:
    """docker's ``--filter``s: the same key any of its values, every key."""
    attributes = message["Actor"]["Attributes"]

    def one(key: str, value: str) -> bool:
        if key == "container":
            return message["id"].startswith(value) or attributes.get("name") == value
        if key == "event":
            return message["Action"] == value or message["Action"].split(":")[0] == value
        if key == "image":
            return attributes.get("image") == value or message["from"] == value
        if key == "type":
            return value == "container"
        name, sep, wanted = value.partition("=")
        return name in attributes and (not sep or attributes[name] == wanted)

    return all(any(one(key, value) for value in values) for key, values in groups.items())


def render_event(message: dict, output_format: str) -> str:
    """One event as docker's CLI prints it: its line, ``json`` or a Go template of the message."""
    if output_format in ("json", "{{json .}}"):
        return json.dumps(message, separators=(",", ":"))
    if output_format:
        from composer.cli.gotemplate import render

        return render(output_format, message)
    import datetime

    moment = datetime.datetime.fromtimestamp(message["time"], datetime.timezone.utc)
    stamp = f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{message['timeNano'] % 10**9:09d}Z"
    pairs = ", ".join(f"{key}={value}" for key, value in message["Actor"]["Attributes"].items())
    return f"{stamp} container {message['Action']} {message['id']} ({pairs})"

