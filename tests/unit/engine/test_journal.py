"""The project event log: state.json writes of compose containers become docker's actions."""

from __future__ import annotations

import os
from pathlib import Path

from composer.engine import journal
from composer.engine.runtime.state import ContainerDir, write_json_atomic

LABELS = {"com.docker.compose.project": "demo", "com.docker.compose.service": "web", "team": "a"}


def _container(container_id: str, labels: dict = LABELS) -> ContainerDir:
    cdir = ContainerDir(container_id)
    os.makedirs(cdir.path)
    write_json_atomic(cdir.config, {"name": f"demo-{container_id}", "image": "busybox", "labels": labels,
                                    "healthcheck": {"test": ["CMD", "true"]}})
    write_json_atomic(cdir.state, {"Status": "created", "Pid": 0, "Created": "2026-01-01T00:00:00Z"})
    return cdir


def test_every_state_change_is_logged_in_order(state_root: Path) -> None:
    cdir = _container("a" * 64)
    cdir.write_state(Status="running", Pid=10, StartedAt="2026-01-01T00:00:01Z")
    cdir.write_state(Health={"Status": "healthy", "Log": ["ok"]})
    cdir.write_state(Health={"Status": "healthy", "Log": ["ok", "ok"]})  # nothing an event shows
    cdir.write_state(LastSignal=15, SignalledAt="2026-01-01T00:00:02Z", StopRequestedAt="2026-01-01T00:00:02Z")
    cdir.write_state(Status="exited", Pid=0, ExitCode=143, FinishedAt="2026-01-01T00:00:03Z")
    cdir.write_state(Status="running", Pid=11, StartedAt="2026-01-01T00:00:04Z")
    cdir.write_state(RestartedAt="2026-01-01T00:00:04Z")  # mark_restart, after that start
    cdir.write_state(Status="exited", Pid=0, ExitCode=137, OOMKilled=True, FinishedAt="2026-01-01T00:00:05Z")
    cdir.remove()
    changes = journal.read("demo", 0.0)
    assert [c.action for c in changes] == [
        "create", "start", "health_status: healthy", "kill", "die", "stop", "start", "restart", "oom", "die",
        "destroy"]
    assert changes[4].attributes() == {"team": "a", "image": "busybox", "name": f"demo-{'a' * 64}",
                                       "exitCode": "143"}
    assert [c.time for c in changes] == sorted(c.time for c in changes)
    assert journal.read("demo", changes[-1].time + 1) == [] and journal.read("other", 0.0) == []


def test_containers_of_no_project_are_logged_only_at_their_removal(state_root: Path) -> None:
    cdir = _container("b" * 64, labels={"team": "a"})
    cdir.write_state(Status="running", Pid=10, StartedAt="2026-01-01T00:00:01Z")
    assert not (state_root / "events").exists() or not any((state_root / "events").iterdir())
    cdir.write_state(Status="exited", Pid=0, ExitCode=3, FinishedAt="2026-01-01T00:00:02Z")
    cdir.remove()
    assert sorted(os.listdir(state_root / "events")) == ["removed.log"]  # (no project's: prune leaves it)
    changes = journal.read_removed(0.0)
    assert [c.action for c in changes] == ["create", "start", "die", "destroy"]
    assert changes[2].attributes() == {"team": "a", "image": "busybox", "name": f"demo-{'b' * 64}", "exitCode": "3"}
    assert journal.read_removed(changes[-1].time + 1) == [] and journal.prune(set()) == []


def test_the_log_is_rotated_and_both_generations_are_read(state_root: Path, monkeypatch) -> None:
    monkeypatch.setattr(journal, "MAX_BYTES", 2000)
    cdir = _container("c" * 64)
    for run in range(10):
        cdir.write_state(Status="running", Pid=100 + run, StartedAt=f"2026-01-01T00:00:{run:02d}Z")
        cdir.write_state(Status="exited", Pid=0, FinishedAt=f"2026-01-01T00:00:{run:02d}.5Z")
    assert os.path.exists(journal.journal_path("demo") + ".1")
    actions = [c.action for c in journal.read("demo", 0.0)]
    assert actions[-2:] == ["start", "die"] and len(actions) < 21  # the oldest generation dropped
    with open(journal.journal_path("demo"), "a") as handle:
        handle.write('{"time": 1, "act')  # a line cut by a crash is skipped
    assert [c.action for c in journal.read("demo", 0.0)] == actions


def test_a_renamed_container_is_logged_under_its_new_name(state_root: Path) -> None:
    cdir = _container("d" * 64)
    config = {"name": "demo-one", "image": "busybox", "labels": LABELS}
    write_json_atomic(cdir.config, config)
    cdir.write_state(Status="running", Pid=10, StartedAt="2026-01-01T00:00:01Z")
    write_json_atomic(cdir.config, {**config, "name": "demo-two"})  # same size, within the same tick
    cdir.write_state(Status="exited", Pid=0, FinishedAt="2026-01-01T00:00:02Z")
    assert [(c.action, c.view.name) for c in journal.read("demo", 0.0)][1:] == [
        ("start", "demo-one"), ("die", "demo-two")]


def test_writers_past_the_limit_together_rotate_the_log_once(state_root: Path) -> None:
    """Two writers that both found the log full: the second must not move the new log (begun
    by a third after the first rotated) over the full generation."""
    path = journal.journal_path("demo")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write("full\n")
    first, second = os.open(path, os.O_RDONLY), os.open(path, os.O_RDONLY)
    try:
        journal._rotate(path, first)
        os.close(first)  # as _append does: the lock ends with the descriptor
        with open(path, "w") as handle:
            handle.write("new\n")
        journal._rotate(path, second)
    finally:
        os.close(second)
    assert open(path + ".1").read() == "full\n" and open(path).read() == "new\n"


def test_a_container_of_no_project_costs_no_read_of_its_state(state_root: Path, monkeypatch) -> None:
    """Its state writes read nothing more; only its removal reads its last state, once."""
    cdir = _container("e" * 64, labels={"team": "a"})
    read: list[str] = []
    real = journal._read
    monkeypatch.setattr(journal, "_read", lambda path: read.append(os.path.basename(path)) or real(path))
    cdir.write_state(Status="running", Pid=10, StartedAt="2026-01-01T00:00:01Z")
    cdir.write_state(Status="exited", Pid=0, FinishedAt="2026-01-01T00:00:02Z")
    assert "state.json" not in read
    cdir.remove()
    assert read.count("state.json") == 1
