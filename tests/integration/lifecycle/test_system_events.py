"""``system events``: docker's ``events`` of the host's containers, images, networks and volumes,
past (``--since``) and live, docker's line and JSON message, ``--filter`` and ``--format``; the
shapes compared with docker CLI 28 on a private dockerd 20.10."""

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
    assert [line.split()[1:3] for line in lines] == [["image", "tag"], ["image", "import"],  # (the fixture's)
                                                    ["container", "create"], ["container", "attach"],
                                                    ["network", "connect"], ["container", "start"],
                                                    ["container", "die"], ["network", "disconnect"]]  # dockerd's order
    assert lines[4].endswith(" (container=" + lines[2].split()[3] + ", name=none, type=null)")
    assert lines[-2].endswith("(exitCode=0, image=busybox, name=ev1, team=a)") and lines[0][10] == "T"
    shown = cli("system", "events", "--since", "10m", "--until", "0s", "--format", "{{json .}}", "-f", "type=container",
                check=True).stdout
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
    assert seen[:4] == ["create", "attach", "start", "die"]  # (an attached run: dockerd's attach)


def test_live_events_of_quick_removed_containers(cli, state_root: Path):
    """``run -d --rm busybox true`` may be made, run and removed between two looks of the live
    stream: each one still shows its whole life in dockerd's order (a foreground ``--rm`` run too,
    with the attach of its client: create, attach, connect, start)."""
    events = subprocess.Popen([sys.executable, "-m", "composer", "system", "events", "--format",
                               "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.container}}"],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    watchdog = threading.Timer(120, events.kill)
    watchdog.start()
    try:
        time.sleep(1.0)  # (the stream shows what happens once it has begun)
        ids = [cli("container", "run", "-d", "--rm", "busybox", "true", check=True).stdout.strip() for _ in range(4)]
        cli("container", "run", "--rm", "--name", "fg", "busybox", "true", check=True)
        lives: dict[str, list[str]] = {}
        while len(lives) < 5 or any(life[-1] != "container destroy" for life in lives.values()):
            line = events.stdout.readline()
            assert line, f"the stream ended: {lives}"
            kind, action, actor, container = line.split(" ", 3)  # (a container's: "<no value>")
            lives.setdefault(container.strip() if kind == "network" else actor, []).append(f"{kind} {action}")
    finally:
        watchdog.cancel()
        events.kill()
        events.wait()
    detached = ["container create", "network connect", "container start", "container die", "network disconnect",
                "container destroy"]
    assert [lives[container] for container in ids] == [detached] * 4
    assert list(lives.values())[4] == detached[:1] + ["container attach"] + detached[1:]  # the foreground run's


def _events(cli, *filters: str) -> list[dict]:
    shown = cli("system", "events", "--since", "10m", "--until", "0s", "--format", "json", *filters, check=True)
    return [json.loads(line) for line in shown.stdout.splitlines()]


def _digest(messages: list[dict]) -> list[tuple[str, str, str]]:
    return [(m["Type"], m["Action"], m["Actor"]["Attributes"].get("name", "")) for m in messages]


def test_image_network_and_volume_events_as_dockerd(cli, state_root: Path, tmp_path: Path):
    """dockerd's Type/Action/Actor of each object event, in order, and the object filters."""
    busybox = cli("image", "inspect", "-f", "{{.Id}}", "busybox", check=True).stdout.strip()
    cli("network", "create", "evnet", check=True)
    network = cli("network", "inspect", "-f", "{{.Id}}", "evnet", check=True).stdout.strip()
    cli("volume", "create", "evvol", check=True)
    cli("image", "tag", "busybox", "evimg:x", check=True)
    container = cli("container", "run", "-d", "--name", "ev3", "--network", "evnet", "-v", "evvol:/data:ro",
                    "busybox", "sleep", "30", check=True).stdout.strip()
    cli("container", "rm", "-f", "ev3", check=True)
    cli("image", "rm", "evimg:x", check=True)
    cli("image", "save", "-o", str(tmp_path / "saved.tar"), "busybox", check=True)
    cli("volume", "rm", "evvol", check=True)
    cli("network", "rm", "evnet", check=True)
    objects = [m for m in _events(cli) if m["Type"] != "container"][2:]  # after the fixture's tag and import
    assert _digest(objects) == [
        ("network", "create", "evnet"), ("volume", "create", ""), ("image", "tag", "evimg:x"),
        ("volume", "create", ""),  # (dockerd's again when a container names it)
        ("volume", "mount", ""), ("network", "connect", "evnet"), ("network", "disconnect", "evnet"),
        ("volume", "unmount", ""), ("image", "untag", busybox), ("image", "save", busybox),
        ("volume", "destroy", ""), ("network", "destroy", "evnet")]
    by_action = {(m["Type"], m["Action"]): m for m in objects}
    assert by_action["network", "connect"]["Actor"] == {
        "ID": network, "Attributes": {"container": container, "name": "evnet", "type": "bridge"}}
    assert by_action["volume", "mount"]["Actor"] == {"ID": "evvol", "Attributes": {
        "container": container, "destination": "/data", "driver": "local", "propagation": "", "read/write": "false"}}
    assert by_action["volume", "unmount"]["Actor"]["Attributes"] == {"container": container, "driver": "local"}
    tag = by_action["image", "tag"]
    assert (tag["status"], tag["id"], tag["Actor"]["ID"], tag["scope"]) == ("tag", busybox, busybox, "local")
    assert "status" not in by_action["network", "create"] and sorted(by_action["volume", "create"]) == [
        "Action", "Actor", "Type", "scope", "time", "timeNano"]
    # docker's filters: type=, network= / volume= (id or name, by prefix), image= (id, name, name without tag)
    assert _digest(_events(cli, "-f", "type=network", "-f", "event=connect")) == [("network", "connect", "evnet")]
    assert [m["Action"] for m in _events(cli, "-f", "volume=evv")] == ["create", "create", "mount", "unmount", "destroy"]
    assert [m["Action"] for m in _events(cli, "-f", "network=evnet", "-f", "type=network")] == [
        "create", "connect", "disconnect", "destroy"]
    assert [m["Action"] for m in _events(cli, "-f", "image=evimg", "-f", "type=image")] == ["tag"]
    line = cli("system", "events", "--since", "10m", "--until", "0s", "-f", "type=volume", "-f", "event=destroy",
               check=True).stdout
    assert line.endswith(" volume destroy evvol (driver=local)\n")


def test_image_import_load_and_delete_events(cli, tmp_path: Path):
    saved = tmp_path / "saved.tar"
    cli("image", "save", "-o", str(saved), "busybox", check=True)
    cli("image", "rm", "busybox", check=True)
    cli("image", "load", "-i", str(saved), check=True)
    image_id = cli("image", "inspect", "-f", "{{.Id}}", "busybox", check=True).stdout.strip()
    images = [(m["Action"], m["Actor"]["ID"], m["Actor"]["Attributes"]["name"])
              for m in _events(cli, "-f", "type=image")][2:]
    assert images == [("save", image_id, image_id), ("untag", image_id, image_id), ("delete", image_id, image_id),
                      ("load", image_id, image_id)]


def test_live_events_of_objects(cli, state_root: Path):
    since = str(int(time.time()) - 1)  # the log and the live stream meet: nothing is lost in between
    events = subprocess.Popen([sys.executable, "-m", "composer", "system", "events", "--filter", "type=volume",
                               "--since", since, "--format", "{{.Action}} {{.Actor.ID}}"], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    watchdog = threading.Timer(60, events.kill)
    watchdog.start()
    try:
        cli("volume", "create", "livevol", check=True)
        cli("volume", "rm", "livevol", check=True)
        seen = [events.stdout.readline().strip() for _ in range(2)]
    finally:
        watchdog.cancel()
        events.kill()
        events.wait()
    assert seen == ["create livevol", "destroy livevol"]


def test_image_events_carry_the_images_labels(cli):
    """dockerd adds an image's labels to its events (not to ``delete``: the image is gone); a
    commit with a name is a ``tag`` too."""
    cli("container", "create", "--name", "lb", "--network", "none", "busybox", "true", check=True)
    image_id = cli("container", "commit", "-c", "LABEL team=x", "lb", "lb:1", check=True).stdout.strip()
    cli("image", "tag", "lb:1", "lb:2", check=True)
    cli("image", "rm", "lb:2", "lb:1", check=True)
    images = [(m["Action"], m["Actor"]["Attributes"]) for m in _events(cli, "-f", "type=image")][2:]
    assert images == [("tag", {"name": "lb:1", "team": "x"}), ("tag", {"name": "lb:2", "team": "x"}),
                      ("untag", {"name": image_id, "team": "x"}), ("untag", {"name": image_id, "team": "x"}),
                      ("delete", {"name": image_id})]
    assert [m["Action"] for m in _events(cli, "-f", "label=team=x")] == ["tag", "tag", "untag", "untag"]


def test_container_create_makes_its_named_volumes(cli):
    """As docker: ``create -v NAME:/d`` makes the volume at once (``volume ls`` lists it)."""
    cli("container", "create", "--name", "nv", "-v", "newvol:/d", "busybox", "true", check=True)
    assert cli("volume", "ls", "-q", check=True).stdout.split() == ["newvol"]
    assert [m["Action"] for m in _events(cli, "-f", "type=volume")] == ["create"]


def test_a_build_tags_its_image_each_time(cli, tmp_path: Path):
    """dockerd's ``tag`` event at the end of every build naming an image (a rebuild that changes
    nothing too), with the image's labels."""
    (tmp_path / "Dockerfile").write_text("FROM busybox\nLABEL team=y\n")
    built = [cli("image", "build", "-q", "-t", "bld:1", str(tmp_path), check=True).stdout.strip() for _ in range(2)]
    tags = [(m["Actor"]["ID"], m["Actor"]["Attributes"]) for m in _events(cli, "-f", "type=image")][2:]
    assert tags == [(built[0], {"name": "bld:1", "team": "y"})] * 2 and built[0] == built[1]


def test_prunes_are_events(cli):
    """dockerd's ``prune`` event of each prune (no actor, ``reclaimed``); ``status`` for containers
    and images, as dockerd's legacy fields."""
    for what in ("container", "network", "volume", "image", "builder"):
        cli(what, "prune", "-f", check=True)
    pruned = _events(cli, "-f", "event=prune")
    assert [(m["Type"], m["Actor"]) for m in pruned] == [
        (kind, {"ID": "", "Attributes": {"reclaimed": "0"}}) for kind in ("container", "network", "volume", "image",
                                                                           "builder")]
    assert [sorted(m) for m in pruned[:2]] == [
        ["Action", "Actor", "Type", "scope", "status", "time", "timeNano"],
        ["Action", "Actor", "Type", "scope", "time", "timeNano"]]
    cli("system", "prune", "-f", check=True)  # no --volumes: no volume prune
    assert [m["Type"] for m in _events(cli, "-f", "event=prune")][5:] == ["container", "network", "image", "builder"]


def test_a_removed_container_of_no_project_keeps_its_past(cli):
    """``run --rm`` (and ``rm``) of a container of no project: ``--since`` still shows its actions,
    as dockerd's memory does; a foreground ``--rm`` run's exit code too (never in its state)."""
    assert cli("container", "run", "--rm", "--network", "none", "--name", "gone", "busybox", "sh", "-c",
               "exit 3").returncode == 3
    cli("container", "run", "--network", "none", "--name", "kept", "busybox", "true", check=True)
    cli("container", "rm", "kept", check=True)
    shown = [(m["Action"], m["Actor"]["Attributes"]["name"], m["Actor"]["Attributes"].get("exitCode"))
             for m in _events(cli, "-f", "type=container")]
    assert shown == [("create", "gone", None), ("attach", "gone", None), ("start", "gone", None),
                     ("die", "gone", "3"), ("destroy", "gone", None), ("create", "kept", None),
                     ("attach", "kept", None), ("start", "kept", None), ("die", "kept", "0"), ("destroy", "kept", None)]


def test_templates_see_dockers_message_fields(cli):
    """``--format`` templates see docker's ``events.Message`` fields (``.Status``, ``.ID``, ``.From``,
    ``.Scope``, ``.Time``, ``.TimeNano``; empty where dockerd leaves them out)."""
    cli("container", "run", "--network", "none", "--name", "tf", "busybox", "true", check=True)
    cli("volume", "create", "tfv", check=True)
    shown = cli("system", "events", "--since", "10m", "--until", "0s", "-f", "event=create", "-f", "type=container",
                "-f", "type=volume", "--format", "{{.Status}}|{{.ID}}|{{.From}}|{{.Scope}}|{{.Time}}|{{.TimeNano}}",
                check=True).stdout.splitlines()
    container = cli("container", "inspect", "-f", "{{.Id}}", "tf", check=True).stdout.strip()
    fields = [line.split("|") for line in shown]
    assert [row[:4] for row in fields] == [["create", container, "busybox", "local"], ["", "", "", "local"]]
    assert all(row[5].startswith(row[4]) and len(row[5]) == len(row[4]) + 9 for row in fields)
