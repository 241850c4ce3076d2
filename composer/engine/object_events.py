"""docker's image, network and volume events (``system events``), kept in one host log.

dockerd keeps its events in memory; composer has no daemon, so each command (and each container's
supervisor, for a volume's ``mount``/``unmount``) appends one JSON line to
``<state root>/events/objects.log``: the time, docker's ``Type``, ``Action``, ``Actor.ID`` and
``Actor.Attributes``. Container events come from the state files and the projects' logs
(``composer.engine.journal``); this log is for the rest:

- image: ``pull``, ``push``, ``tag``, ``untag``, ``delete``, ``import``, ``load``, ``save``
  (Actor.ID the image id, ``name`` the reference; pull and push name the reference, as dockerd)
- network: ``create``, ``connect``, ``disconnect``, ``destroy`` (``name``, ``type``; ``container``)
- volume: ``create``, ``mount``, ``unmount``, ``destroy`` (``driver``; ``container``,
  ``destination``, ``propagation``, ``read/write`` for a mount)
- ``prune`` of containers, networks, volumes, images and the build cache (``reclaimed``)

A record costs one ``O_APPEND`` write, no fsync, and imports nothing heavy (it runs on a start's
path when the container has volumes). Recording never raises: a log that cannot be written loses
events, never an operation. Past ``journal.MAX_BYTES`` the log becomes ``.1`` (one generation kept).
"""

from __future__ import annotations

import os
import time

LOG_NAME = "objects.log"  # not ``*.jsonl``: those are the projects' container logs


class ObjectEvent:
    """One event of an image, network or volume, as dockerd reports it (a plain class: this
    module is imported on a container start's path)."""

    __slots__ = ("time", "type", "action", "actor", "attributes")

    def __init__(self, time: float, type: str, action: str, actor: str, attributes: dict) -> None:
        self.time, self.type, self.action, self.actor, self.attributes = time, type, action, actor, attributes

    def message(self) -> dict:
        """dockerd's events message (``docker events --format '{{json .}}'``); image (and
        container) events keep the legacy ``status`` and ``id`` (when not empty) keys, as dockerd's do."""
        nano = int(round(self.time * 1e9))
        legacy = {"status": self.action, **({"id": self.actor} if self.actor else {}),
                  **({"from": self.attributes["image"]} if self.type == "container" and "image" in self.attributes
                     else {})} if self.type in ("container", "image") else {}
        return {**legacy, "Type": self.type, "Action": self.action,
                "Actor": {"ID": self.actor, "Attributes": dict(sorted(self.attributes.items()))},
                "scope": "local", "time": nano // 10**9, "timeNano": nano}


def log_path() -> str:
    from composer.settings import state_root_dir

    return os.path.join(state_root_dir(), "events", LOG_NAME)


def record(kind: str, action: str, actor: str, attributes: dict[str, str]) -> None:
    """Append one event (``kind``: image, network or volume); never raises."""
    try:
        from composer.engine.journal import append_line
        from composer.engine.runtime.state import dumps

        line = dumps({"time": time.time(), "type": kind, "action": action, "actor": actor,
                      "attributes": attributes}) + "\n"
        append_line(log_path(), line)
    except Exception:  # noqa: BLE001 - events must never break what they report
        pass


def image_event(action: str, image_id: str, name: str = "", labels: dict | None = None) -> None:
    """An image event: Actor.ID the image id (or the reference of a pull/push), ``name`` the
    reference it concerns (the id itself when none, as dockerd), the image's labels (dockerd
    adds them while the image exists: every action but ``delete``)."""
    record("image", action, image_id, {**(labels or {}), "name": name or image_id})


def image_labels(store, image_id: str) -> dict:
    """The labels of the image ``image_id`` of ``store`` (an ImageStore); {} when unreadable."""
    import json

    try:
        return dict((json.loads(store.blobs.read(image_id)).get("config") or {}).get("Labels") or {})
    except (OSError, ValueError, AttributeError):
        return {}


def network_event(action: str, network, container_id: str = "") -> None:
    """A network event of ``network`` (composer.network.model.Network); ``container`` for
    connect/disconnect."""
    attributes = {"name": network.name, "type": "bridge"}
    if container_id:
        attributes["container"] = container_id
    record("network", action, network.id, attributes)


# docker's pre-defined networks of the modes host and none (composer keeps no record of them):
# name -> (the id ``network ls`` and ``inspect`` give them, driver); the ids are fixed,
# sha256("composer predefined network NAME") (hashlib itself costs network ls ~3 ms to import).
# The one table: describe's ids and network_fast's drivers are read from it.
PREDEFINED_NETWORKS = {"host": ("deff455c2c7f4162c9854c573f851cbfcca5080c6a255f4970d38d421b088ebe", "host"),
                       "none": ("72772ca4e969dce71d073428f453e00f2fa18a170f9e48ef8ea425e6c1c4b0a8", "null")}


def predefined_network_event(action: str, config) -> bool:
    """``connect``/``disconnect`` of a container (a ContainerConfig) of ``--network none|host``, as
    dockerd reports them for its pre-defined networks; whether it was one (other modes: nothing)."""
    predefined = PREDEFINED_NETWORKS.get(config.network)
    if predefined is not None:
        record("network", action, predefined[0], {"container": config.id, "name": config.network,
                                                  "type": predefined[1]})
    return predefined is not None


def exec_event(action: str, container_id: str, config: dict, exec_id: str, **extra: str) -> None:
    """dockerd's ``exec_create: CMD``, ``exec_start: CMD`` or ``exec_die`` (``exitCode``) of an
    ``exec`` into the container of ``config`` (its config.json): its labels, ``execID``, ``image``
    (as given), ``name``."""
    from composer.engine.runtime.describe import familiar_image

    record("container", action, container_id, {**(config.get("labels") or {}), "execID": exec_id,
                                               "image": familiar_image(config.get("image", "")),
                                               "name": config.get("name", ""), **extra})


def prune_event(kind: str, reclaimed: int) -> None:
    """dockerd's ``prune`` event of a ``container``/``network``/``volume``/``image``/``builder``
    prune: no actor, the bytes it reclaimed."""
    record(kind, "prune", "", {"reclaimed": str(reclaimed)})


def volume_event(action: str, name: str, attributes: dict | None = None) -> None:
    """A volume event (the local driver)."""
    record("volume", action, name, {"driver": "local", **(attributes or {})})


def volume_mounted(name: str, container_id: str, mount) -> None:
    """dockerd's ``mount`` event of a starting container's volume (``mount``: its Mount)."""
    volume_event("mount", name, {"container": container_id, "destination": mount.target,
                                 "propagation": mount.propagation or "",
                                 "read/write": "false" if mount.readonly else "true"})


def volumes_unmounted(config) -> None:
    """dockerd's ``unmount`` events: the container (a ContainerConfig) that used the volumes stopped."""
    for name in config.volume_names():
        volume_event("unmount", name, {"container": config.id})


def log_records(path: str) -> list[dict]:
    """The records of the JSON-lines log at ``path`` (this one, a project's journal): each line
    an object with a numeric ``time``; a line cut by a crash is passed over."""
    return _records(_read_from(path)[0])


def _records(data: bytes) -> list[dict]:
    import json

    found = []
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if isinstance(record, dict) and isinstance(record.get("time"), (int, float)):
            found.append(record)
    return found


def _read_from(path: str, offset: int = 0) -> tuple[bytes, int]:
    """The whole lines of ``path`` from ``offset``, and the offset after them."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return b"", offset
    whole = data[:data.rfind(b"\n") + 1]
    return whole, offset + len(whole)


def _event(found: dict) -> ObjectEvent:
    return ObjectEvent(found["time"], str(found.get("type", "")), str(found.get("action", "")),
                       str(found.get("actor", "")), dict(found.get("attributes") or {}))


def read(since: float, until: float | None = None) -> list[ObjectEvent]:
    """The logged events between ``since`` and ``until`` (Unix times), oldest first."""
    path = log_path()
    lines = [record for name in (path + ".1", path) for record in log_records(name)]
    found = [_event(line) for line in lines if line["time"] >= since and (until is None or line["time"] <= until)]
    found.sort(key=lambda event: event.time)
    return found


class Follower:
    """The records appended to a log (the object log by default) after it was opened (``system
    events``' live part); ``from_start``: all of a log made after the stream began."""

    def __init__(self, path: str = "", from_start: bool = False) -> None:
        self.path = path or log_path()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.inode = self._inode(self.path)
        self.offset = 0 if from_start else _read_from(self.path)[1]

    @staticmethod
    def _inode(path: str) -> int:
        try:
            return os.stat(path).st_ino
        except FileNotFoundError:
            return 0

    def new_records(self) -> list[dict]:
        """What was appended since the last call (a rotation meanwhile: the old file's rest first)."""
        inode, data = self._inode(self.path), b""
        if inode != self.inode:
            if self.inode and self._inode(self.path + ".1") == self.inode:
                data = _read_from(self.path + ".1", self.offset)[0]
            self.inode, self.offset = inode, 0
        more, self.offset = _read_from(self.path, self.offset)
        return _records(data + more)

    def new_events(self) -> list[ObjectEvent]:
        """The object log's new events."""
        return [_event(line) for line in self.new_records()]
