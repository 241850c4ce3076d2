"""A settled project's fingerprint, so a repeated ``up -d`` with nothing to change costs almost nothing.

After an ``up -d`` succeeded with every container of the project running, :func:`remember` stores
what the next identical ``up -d`` would observe: the compose files' digests (through the config
cache of ``composer.spec.cache``, keyed by the command line, the environment, the working
directory and the code), the list of container directories, each project container's live state
(status, pids, supervisor start time, health status), the networks and volumes present and the
image index. :func:`recall` compares all of it with the disk and ``/proc`` and returns the lines
to show (the running containers', then the Waiting/Healthy of the healthy dependencies Compose's
start phase waits for) only when nothing differs; otherwise the command plans as usual.

Only ``os``, ``json`` and the runtime's small ``state`` module are imported: this runs before the
loader, the runtime and trio.
"""

from __future__ import annotations

import json
import os

from composer.engine.runtime.state import supervisor_alive
from composer.settings import state_root_dir

_WAITED = ("service_healthy", "service_completed_successfully")  # the conditions up's start phase waits for
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


def snapshot(project: str, services: set[str], depends: dict[str, dict[str, str]] | None = None) -> dict | None:
    """The fingerprint of ``project``, or None when an ``up`` could change something (a container not
    running, a one-off or orphan container) or wait (a dependency to complete, one not healthy).
    ``depends``: each service's dependencies and the conditions ``up`` waits for. The lines are
    in the order ``up`` shows them: the Running ones dependencies first, then the waits."""
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
        names.append((labels["com.docker.compose.service"], config.get("name", container_id), live[-1]))
    names.sort()
    running = _in_up_order([(service, name) for service, name, _ in names], depends or {})
    waits = _dependency_waits(running, names, depends or {})
    if waits is None:
        return None
    return {"world": world, "containers": containers, "lines": [[name, "Running"] for name in running] + waits}


def _in_up_order(names: list[tuple[str, str]], depends: dict[str, dict[str, str]]) -> list[str]:
    """The container names as ``up`` says they run: dependencies first (``RunningInOrder``)."""
    from composer.engine.events import RunningInOrder, discard

    running: dict[str, list[str]] = {}
    for service, name in names:
        running.setdefault(service, []).append(name)
    shown: list[str] = []
    RunningInOrder(discard, lambda event: shown.append(event.name), running, depends, {}, set()).begin()
    return shown


def _dependency_waits(order: list[str], names: list[tuple[str, str, str | None]],
                      depends: dict[str, dict[str, str]]) -> list[list[str]] | None:
    """``[name, "Waiting"]`` then ``[name, "Healthy"]`` for the containers of each healthy
    dependency (once each), services in ``up``'s order; None when a wait would not pass at once."""
    service_of = {name: service for service, name, _ in names}
    health: dict[str, list[tuple[str, str | None]]] = {}
    for service, name, status in names:
        health.setdefault(service, []).append((name, status))
    lines: list[list[str]] = []
    waited: set[str] = set()
    for service in dict.fromkeys(service_of[name] for name in order):
        for dep, condition in depends.get(service, {}).items():
            if dep not in health or dep in waited or condition not in _WAITED:
                continue
            if condition != "service_healthy" or any(status != "healthy" for _, status in health[dep]):
                return None
            waited.add(dep)
            lines += [[name, "Waiting"] for name, _ in health[dep]] + [[name, "Healthy"] for name, _ in health[dep]]
    return lines


def remember(key: str, project: str, services: set[str], depends: dict[str, dict[str, str]] | None = None) -> None:
    """Store the project's fingerprint under ``key`` (nothing when it is not settled); best effort."""
    from composer.spec.cache import store

    record = snapshot(project, services, depends)
    if record is not None:
        store(key, json.dumps(record))


def recall(key: str) -> list[list[str]] | None:
    """The lines (``[container name, status]``) of the last ``up -d`` if nothing changed since
    :func:`remember`."""
    from composer.spec.cache import lookup

    text = lookup(key)
    if text is None:
        return None
    record = json.loads(text)
    if record["world"] != _world():
        return None
    if any(_live(container_id) != live for container_id, live in record["containers"].items()):
        return None
    return record.get("lines")  # (None: a record of older code)
