"""``system events``: docker's ``events`` of the host's containers, images, networks and volumes
(``--since``, ``--until``, ``--filter container=/event=/image=/label=/network=/type=/volume=``,
``--format`` ``json`` or a Go template), as docker's CLI prints them:
``2026-01-02T15:04:05.123456789Z container start ID (image=..., name=...)``.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

from typing import Any, List, Optional

import typer

FILTER_KEYS = ("config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope",
               "secret", "service", "type", "volume")
NAMED = ("config", "container", "daemon", "network", "node", "plugin", "secret", "service", "volume")


def system_events(since: Optional[str] = typer.Option(None, "--since", help="Show all events created since timestamp."),
                  until: Optional[str] = typer.Option(None, "--until", help="Stream events until this timestamp."),
                  filters: List[str] = typer.Option([], "-f", "--filter",
                                                    help="container=, event=, image=, label=, network=, type=, volume="),
                  output_format: str = typer.Option("", "--format", help="json or a Go template.")) -> None:
    """Get real time events from the server (containers, images, networks, volumes)."""
    import itertools

    from composer.cli.system import filter_groups
    from composer.engine.host_events import HostMonitor
    from composer.engine.object_events import ObjectEvent

    check_format(output_format)
    groups = filter_groups(filters, FILTER_KEYS)
    start, end = event_time(since, "--since"), event_time(until, "--until")
    with HostMonitor() as monitor:
        past = monitor.history(start, end) if start is not None else []
        for change in itertools.chain(past, monitor.changes(until=end)):
            message = change.message() if isinstance(change, ObjectEvent) else docker_message(change)
            if selected(message, groups):
                typer.echo(render_event(message, output_format))


def event_time(value: Optional[str], flag: str) -> Optional[float]:
    """``--since``/``--until`` as docker's CLI reads them (``containers._when``), its error the
    parser's words alone (``failed to parse value as time or duration: "x"``, exit 1)."""
    from composer.cli.containers import _when
    from composer.errors import FlagError, UsageError

    try:
        return _when(value, flag)
    except UsageError:
        raise FlagError(f'failed to parse value as time or duration: "{value}"', exit_code=1) from None


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
    """dockerd's event filters (moby ``daemon/events/filter.go``): each key's values OR-ed, the
    keys AND-ed; ``container``/``network``/``volume`` (and the Swarm, plugin and daemon keys) match
    the actor's id or ``name`` attribute by prefix, whatever the event's type, ``image`` the id or
    the image name (with or without its tag) exactly, ``label`` the attributes, ``scope`` local."""
    attributes, actor = message["Actor"]["Attributes"], message["Actor"]["ID"]
    image_name = attributes.get("name" if message["Type"] == "image" else "image", "")

    def one(key: str, value: str) -> bool:
        if key in NAMED:
            return actor.startswith(value) or attributes.get("name", "").startswith(value)
        if key == "scope":
            return message.get("scope") == value
        if key == "event":
            return message["Action"] == value or message["Action"].split(":")[0] == value
        if key == "image":
            return value in (actor, image_name, _strip_tag(actor), _strip_tag(image_name))
        if key == "type":
            return message["Type"] == value
        name, sep, wanted = value.partition("=")
        return name in attributes and (not sep or attributes[name] == wanted)

    return all(any(one(key, value) for value in values) for key, values in groups.items())


def _strip_tag(name: str) -> str:
    """moby's ``stripTag``: ``busybox:latest`` -> ``busybox`` (a digest or registry port kept)."""
    if "@" in name:
        return name
    repository, colon, tag = name.rpartition(":")
    return repository if colon and "/" not in tag else name


EMPTY_MESSAGE = {"status": "", "id": "", "from": "", "Type": "", "Action": "", "Actor": {"ID": "", "Attributes": {}},
                 "scope": "", "time": 0, "timeNano": 0}


def check_format(output_format: str) -> None:
    """docker's check of ``--format`` before any event: the template run on an empty message;
    one that fails exits 64 (``Error parsing format: template: ...``)."""
    from composer.cli.gotemplate import TemplateError, docker_words

    try:
        render_event(EMPTY_MESSAGE, output_format)
    except TemplateError as error:
        context = "events.Actor" if error.chain.startswith(".Actor.") else "*events.Message"
        typer.echo(docker_words(error, context, ("Error parsing format: ",) * 2), err=True)
        raise typer.Exit(64) from None


def render_event(message: dict, output_format: str) -> str:
    """One event as docker's CLI prints it: its line, ``json`` (the message's JSON, Go's encoder)
    or a Go template of docker's ``events.Message`` (its field names: ``.Status``, ``.ID``,
    ``.From``, ``.Type``, ``.Action``, ``.Actor``, ``.Scope``, ``.Time``, ``.TimeNano``)."""
    if output_format in ("json", "{{json .}}"):
        from composer.cli.gotemplate import go_json

        return go_json(message)
    if output_format:
        from composer.cli.gotemplate import go_structs, render

        message_struct = {"Status": message.get("status", ""), "ID": message.get("id", ""),
                          "From": message.get("from", ""), "Type": message["Type"], "Action": message["Action"],
                          "Actor": message["Actor"], "Scope": message["scope"], "Time": message["time"],
                          "TimeNano": message["timeNano"]}  # (Actor: a struct; its Attributes: a map)
        return render(output_format, go_structs(message_struct, frozenset({"Attributes"})), strict=True)
    import datetime

    moment = datetime.datetime.fromtimestamp(message["time"], datetime.timezone.utc)
    stamp = f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{message['timeNano'] % 10**9:09d}Z"
    pairs = ", ".join(f"{key}={value}" for key, value in message["Actor"]["Attributes"].items())
    return f"{stamp} {message['Type']} {message['Action']} {message['Actor']['ID']} ({pairs})"

