"""The host's object event log (images, networks, volumes): records, dockerd's message shape, the
live follower across a rotation, and ``system events``' dockerd filters."""

from __future__ import annotations

import os
from pathlib import Path

from composer.cli.system_events import selected
from composer.engine import journal, object_events


def test_records_read_back_as_dockerd_messages(state_root: Path) -> None:
    object_events.image_event("tag", "sha256:abc", "bb:x")
    object_events.volume_event("create", "v1")
    found = object_events.read(0.0)
    assert [(e.type, e.action, e.actor, e.attributes) for e in found] == [
        ("image", "tag", "sha256:abc", {"name": "bb:x"}), ("volume", "create", "v1", {"driver": "local"})]
    image, volume = (event.message() for event in found)
    assert list(image)[:4] == ["status", "id", "Type", "Action"] and image["id"] == "sha256:abc"
    assert sorted(volume) == ["Action", "Actor", "Type", "scope", "time", "timeNano"]
    assert volume["time"] == volume["timeNano"] // 10**9
    assert object_events.read(found[-1].time + 1) == []
    assert not list((state_root / "events").glob("*.jsonl"))  # never taken for a project's log (journal.prune)


def test_follower_sees_only_new_lines_across_a_rotation(state_root: Path, monkeypatch) -> None:
    object_events.volume_event("create", "before")
    follower = object_events.Follower()
    assert follower.new_events() == []
    object_events.volume_event("create", "one")
    monkeypatch.setattr(journal, "MAX_BYTES", 10)  # the next write rotates the log
    object_events.volume_event("create", "two")
    monkeypatch.setattr(journal, "MAX_BYTES", 1 << 20)
    object_events.volume_event("create", "three")
    assert [event.actor for event in follower.new_events()] == ["one", "two", "three"]
    assert follower.new_events() == []
    with open(object_events.log_path(), "a") as handle:
        handle.write('{"time": 1, "type": "volume"')  # a line being written: read once whole
    assert follower.new_events() == []


def test_recording_never_raises(state_root: Path) -> None:
    os.makedirs(state_root / "events")
    os.mkdir(object_events.log_path())  # not a file
    object_events.volume_event("create", "v1")


def _message(kind: str, actor: str, action: str, **attributes: str) -> dict:
    return {"Type": kind, "Action": action, "Actor": {"ID": actor, "Attributes": attributes}}


def test_filters_as_dockerd() -> None:
    connect = _message("network", "4cbc60f0", "connect", container="311bb2", name="n1", type="bridge")
    tag = _message("image", "sha256:9a19", "tag", name="bb:x")
    volume = _message("volume", "webdata", "create", driver="local")
    assert selected(connect, {"network": ["n1"]}) and selected(connect, {"network": ["4cbc"]})
    assert not selected(connect, {"container": ["311bb2"]})  # container= matches the actor, as moby
    assert selected(volume, {"container": ["web"]})  # (moby's fuzzy name match, whatever the type)
    assert selected(tag, {"image": ["bb"]}) and selected(tag, {"image": ["bb:x"]})
    assert selected(tag, {"image": ["sha256:9a19"]}) and not selected(tag, {"image": ["b"]})
    assert selected(volume, {"type": ["image", "volume"], "event": ["create"]})
    assert not selected(volume, {"type": ["image"]})
    assert selected(volume, {"label": ["driver=local"]}) and not selected(volume, {"label": ["driver=x"]})
    assert selected({**volume, "scope": "local"}, {"scope": ["local"]}) and not selected(volume, {"service": ["x"]})


def test_predefined_network_ids_are_network_ls_ids() -> None:
    from composer.cli.network_fast import predefined_networks

    assert {net.name: (net.id, net.driver) for net in predefined_networks([])} == object_events.PREDEFINED_NETWORKS
