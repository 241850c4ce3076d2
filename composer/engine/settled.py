"""A settled project's fingerprint, so a repeated ``up -d`` with nothing to change costs almost nothing.

After an ``up -d`` succeeded with every container of the project running, :func:`remember` stores
what the next identical ``up -d`` would observe: the compose files' digests (through the config
cache of ``composer.spec.cache``, keyed by the command line, the environment, the working
directory and the code), the list of container directories, each project container's live state
(status, pids, supervisor start time, health status), the networks and volumes present and the
image index. :func:`recall` compares all of it with the disk and ``/proc`` and returns the names
of the running containers only when nothing differs; otherwise the command plans as usual.

Only ``os``, ``json`` and the runtime's small ``state`` module are imported: this runs before the
loader, the runtime and trio.
"""

from __future__ import annotations

import json
import os

from composer.engine.runtime.state import supervisor_alive
from composer.settings import state_root_dir

_LIVE_FIELDS = ("Status", "Pid", "SupervisorPid", "SupervisorStart", "StartedAt", "RestartCount")
_CODE = os.path.dirname(__file__)


def _code_stamp() -> str:
    """Modification times of the engine's modules (a changed planner never trusts old records)."""
    stamps = []
    for directory in (_CODE, os.path.join(_CODE, "runtime")):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".py"):
                stamps.append(f"{name}:{os.stat(os.path.join(directory, name)).st_mtime_ns}")
    return ",".join(stamps)


def key_for(argv: list[str]) -> str:
    """The record key of one ``up`` command line in this environment and directory."""
    from composer.spec.cache import key_for as config_key

    environment = {k: v for k, v in os.environ.items() if k != "_"}  # the shell's last command
    return config_key(["up-settled", _code_stamp(), *argv], environment, os.getcwd())


def _listing(*parts: str) -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(state_root_dir(), *parts)))
    except OSError:
        return []


def _read_json(*parts: str) -> dict:
    try:
        with open(os.path.join(state_root_dir(), *parts)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _live(container_id: str) -> list | None:
    """What of a container's state an ``up`` looks at; None unless it runs under a live supervisor."""
    state = _read_json("containers", container_id, "state.json")
    if state.get("Status") != "running" or not supervisor_alive(state):
        return None
    return [state.get(name) for name in _LIVE_FIELDS] + [(state.get("Health") or {}).get("Status")]


def _world() -> dict:
    """What does not belong to one container: container ids, networks, volumes, the image index."""
    images = [_read_json("images", name) for name in ("index.json", "images.json")]
    return {"ids": _listing("containers"), "networks": _listing("networks"), "volumes": _listing("volumes"),
            "images": images}


def snapshot(project: str, services: set[str], depends: dict[str, tuple[str, ...]] | None = None) -> dict | None:
    """The fingerprint of ``project``, or None when an ``up`` could change something (a container not
    running, a one-off or orphan container). The names are in the order ``up`` shows them
    (``depends``: each service's dependencies, first)."""
    world = _world()
    containers: dict[str, list] = {}
    names = []
    for container_id in world["ids"]:
        config = _read_json("containers", container_id, "config.json")
        labels = config.get("labels") or {}
        if labels.get("com.docker.compose.project") != project:
            continue
        live = _live(container_id)
        if live is None or labels.get("com.docker.compose.oneoff") == "True" \
                or labels.get("com.docker.compose.service") not in services:
            return None
        containers[container_id] = live
        names.append((labels["com.docker.compose.service"], config.get("name", container_id)))
    return {"world": world, "containers": containers, "names": _in_up_order(sorted(names), depends or {})}


def _in_up_order(names: list[tuple[str, str]], depends: dict[str, tuple[str, ...]]) -> list[str]:
    """The container names as ``up`` says they run: dependencies first (``RunningInOrder``)."""
    from composer.engine.events import RunningInOrder, discard

    running: dict[str, list[str]] = {}
    for service, name in names:
        running.setdefault(service, []).append(name)
    shown: list[str] = []
    RunningInOrder(discard, lambda event: shown.append(event.name), running, depends, {}, set()).begin()
    return shown


def remember(key: str, project: str, services: set[str], depends: dict[str, tuple[str, ...]] | None = None) -> None:
    """Store the project's fingerprint under ``key`` (nothing when it is not settled); best effort."""
    from composer.spec.cache import store

    record = snapshot(project, services, depends)
    if record is not None:
        store(key, json.dumps(record))


def recall(key: str) -> list[str] | None:
    """The names of the project's running containers if nothing changed since :func:`remember`."""
    from composer.spec.cache import lookup

    text = lookup(key)
    if text is None:
        return None
    record = json.loads(text)
    if record["world"] != _world():
        return None
    if any(_live(container_id) != live for container_id, live in record["containers"].items()):
        return None
    return record["names"]
