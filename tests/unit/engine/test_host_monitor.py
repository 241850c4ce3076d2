"""``system events``' live stream (HostMonitor) of a container too quick for its looks: its
removal record tells how it ended, each action at the time its state records, in dockerd's order
with the object log's events (create, connect, start; die, disconnect, destroy)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from composer.engine import object_events
from composer.engine.host_events import HostMonitor
from composer.engine.monitor import Change
from composer.engine.runtime.state import ContainerDir, now_iso, process_start_time, write_json_atomic


def _digest(found: list) -> list[str]:
    return [f"container {item.action}" if isinstance(item, Change) else f"{item.type} {item.action}" for item in found]


def _quick_life(container_id: str) -> None:
    """A ``run -d --rm`` container's life as its writers record it (no runtime: files only)."""
    cdir = ContainerDir(container_id)
    created = now_iso()
    os.makedirs(cdir.path)
    write_json_atomic(cdir.config, {"name": "quick", "image": "busybox", "labels": {}})
    write_json_atomic(cdir.state, {"Status": "created", "Pid": 0, "Created": created})
    object_events.record("network", "connect", "n1", {"container": container_id, "name": "bridge", "type": "bridge"})
    cdir.write_state(Status="running", Pid=10, StartedAt=now_iso())
    cdir.write_state(Status="exited", Pid=0, ExitCode=0, FinishedAt=now_iso())
    object_events.record("network", "disconnect", "n1", {"container": container_id, "name": "bridge", "type": "bridge"})
    cdir.remove()


def _changes(monitor: HostMonitor, count: int) -> list:
    found: list = []
    deadline = time.time() + 5
    while len(found) < count and time.time() < deadline:
        found += monitor.wait_changes(0.2)
    return found


def test_a_life_between_two_looks_is_told_whole(state_root: Path) -> None:
    with HostMonitor() as monitor:
        _quick_life("a" * 64)
        found = _changes(monitor, 6)
    assert _digest(found) == ["container create", "network connect", "container start", "container die",
                              "network disconnect", "container destroy"]
    assert found[3].attributes()["exitCode"] == "0" and [item.time for item in found] == sorted(i.time for i in found)


def test_a_container_seen_running_then_gone(state_root: Path) -> None:
    """Seen running, then its exit, disconnect and removal between two looks: its die (from the
    removal record) comes before the disconnect the object log told first."""
    with HostMonitor() as monitor:
        cdir = ContainerDir("c" * 64)
        os.makedirs(cdir.path)
        write_json_atomic(cdir.config, {"name": "later", "image": "busybox", "labels": {}})
        keeper = {"SupervisorPid": os.getpid(), "SupervisorStart": process_start_time(os.getpid())}  # (alive)
        write_json_atomic(cdir.state, {"Status": "running", "Pid": 10, "Created": now_iso(), "StartedAt": now_iso(),
                                       **keeper})
        assert _digest(_changes(monitor, 2)) == ["container create", "container start"]
        cdir.write_state(Status="exited", Pid=0, ExitCode=3, FinishedAt=now_iso())
        object_events.record("network", "disconnect", "n1", {"container": cdir.id, "name": "bridge", "type": "bridge"})
        cdir.remove()
        ended = _changes(monitor, 3)
    assert _digest(ended) == ["container die", "network disconnect", "container destroy"]
    assert ended[0].attributes()["exitCode"] == "3"


def _exited_life(container_id: str, labels: dict[str, str]) -> None:
    """A container made, started and exited, as its writers record it (files only)."""
    cdir = ContainerDir(container_id)
    os.makedirs(cdir.path)
    write_json_atomic(cdir.config, {"name": "window", "image": "busybox", "labels": labels})
    stamp = now_iso()
    write_json_atomic(cdir.state, {"Status": "exited", "Pid": 0, "ExitCode": 0, "Created": stamp,
                                   "StartedAt": stamp, "FinishedAt": now_iso()})


def _opened_early(monkeypatch, seconds: float) -> None:
    """The next monitor's ``opened`` stamp is ``seconds`` before its first look: what happened in
    between is in its first views, and neither in its history (up to ``opened``) nor in a change."""
    import composer.engine.monitor as monitor_module

    real, calls = time.time, []

    def clock() -> float:
        calls.append(1)
        return real() - seconds if len(calls) == 1 else real()

    monkeypatch.setattr(monitor_module.time, "time", clock)


def test_a_life_between_opening_and_the_first_look_is_live(state_root: Path, monkeypatch) -> None:
    """A container that ran and died after the stream opened but before its first look (CI saw
    ``events`` show create, attach, start and never the die): the first live round tells it."""
    _exited_life("d" * 64, {})
    _opened_early(monkeypatch, 5.0)
    with HostMonitor() as monitor:
        monkeypatch.undo()  # (its COMPOSER_ROOT too: the host's own root would be read)
        monkeypatch.setenv("COMPOSER_ROOT", str(state_root))
        assert monitor.history(time.time() - 60) == []  # all of it after ``opened``
        assert _digest(_changes(monitor, 3)) == ["container create", "container start", "container die"]


def test_a_projects_monitor_tells_the_window_too(state_root: Path, monkeypatch) -> None:
    from composer.engine.monitor import ProjectMonitor

    _exited_life("e" * 64, {"com.docker.compose.project": "p", "com.docker.compose.service": "web"})
    _opened_early(monkeypatch, 5.0)
    with ProjectMonitor("p") as monitor:
        monkeypatch.undo()
        assert [change.action for change in monitor.wait_changes(0.0)] == ["create", "start", "die"]
        assert monitor.wait_changes(0.0) == []  # told once
