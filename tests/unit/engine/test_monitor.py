"""The container actions the project monitor derives from two views of a container."""

from composer.engine.monitor import Change, View, actions, past_changes


def view(status: str = "running", pid: int = 7, health: str = "", **labels: str) -> View:
    return View("c1", "p-web-1", "web", "busybox", status, "t1", pid, health, 3, 42, dict(labels))


def test_created_and_started():
    assert actions(None, view("created", 0)) == ["create"]
    assert actions(None, view()) == ["create", "start"]
    assert actions(view("created", 0), view()) == ["start"]
    assert actions(None, view("exited")) == ["create", "start", "die"]  # it all happened between two looks
    assert actions(None, view("exited", 0)._replace(started_at="")) == ["create"]  # never started
    assert actions(view("created", 0)._replace(started_at=""), view("exited", 0)) == ["start", "die"]  # (between looks)
    assert actions(view("exited", 0), view("exited", 0)._replace(started_at="t2")) == ["start", "die"]


def test_stop_restart_and_remove():
    assert actions(view(), view("exited")) == ["die"]
    assert actions(view(), view(pid=8)) == ["die", "start"]  # restarted between two looks
    assert actions(view("exited", 0), view(pid=8)) == ["start"]
    assert actions(view(), None) == ["die", "destroy"]
    assert actions(view(), view()._replace(started_at="t2")) == []  # a rewritten state, same PID 1
    assert actions(view("exited"), None) == ["destroy"]
    assert actions(view(), view()) == []


def test_pause_and_health():
    assert actions(view(), view("paused")) == ["pause"]
    assert actions(view("paused"), view()) == ["unpause"]
    assert actions(view(health="starting"), view(health="healthy")) == ["health_status: healthy"]
    assert actions(view(health="healthy"), view(health="healthy")) == []


def test_attributes_leave_compose_labels_out_and_add_the_exit_code():
    change = Change(0.0, "die", view(**{"com.docker.compose.project": "p", "team": "a"}))
    assert change.attributes() == {"team": "a", "image": "busybox", "name": "p-web-1", "exitCode": "3"}


def test_signals_and_stops_named_as_compose_does():
    running = view()._replace(started_at="2026-01-01T00:00:01Z")
    signalled = running._replace(signal=15, signalled_at="2026-01-01T00:00:02Z")
    stopped = signalled._replace(status="exited", stop_requested_at="2026-01-01T00:00:02Z")
    assert actions(running, stopped) == ["kill", "die", "stop"]
    assert actions(signalled, stopped) == ["die", "stop"]
    killed = signalled._replace(status="exited", stop_requested_at="2026-01-01T00:00:00Z")  # an earlier run's stop
    assert actions(running, killed) == ["kill", "die"]
    assert Change(0.0, "kill", signalled).attributes()["signal"] == "15"


def stamp(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}.000000000Z"


def test_a_restart_commands_start_is_also_a_restart():
    """docker reports ``restart`` after the ``start`` of ``docker restart``, not of a policy
    restart; the mark (the restarted run's StartedAt) is written once that start succeeded."""
    running = view()._replace(started_at=stamp(1))
    restarted = running._replace(pid=8, started_at=stamp(3))
    marked = restarted._replace(restarted_at=stamp(3))
    assert actions(running, marked) == ["die", "start", "restart"]  # start and mark seen at once
    assert actions(running, restarted) == ["die", "start"]
    assert actions(restarted, marked) == ["restart"]  # the mark seen after the start
    assert actions(marked, marked._replace(pid=9, started_at=stamp(9))) == ["die", "start"]  # its policy
    assert actions(marked, marked._replace(health="healthy")) == ["health_status: healthy"]
    failed = running._replace(status="exited", restarted_at=stamp(1))  # an older mark, the restart failed
    assert actions(failed, failed._replace(status="running", pid=8, started_at=stamp(4))) == ["start"]


def test_past_changes_are_rebuilt_from_the_recorded_times():
    stopped = view("exited")._replace(created=stamp(0), started_at=stamp(1), signalled_at=stamp(4), signal=15,
                                      stop_requested_at=stamp(4), finished_at=stamp(5))
    assert [(c.time % 60, c.action) for c in past_changes(stopped)] == [
        (0, "create"), (1, "start"), (4, "kill"), (5, "die"), (5, "stop")]
    restarted = view()._replace(created=stamp(0), started_at=stamp(3), restarted_at=stamp(3),
                                signalled_at=stamp(2), finished_at=stamp(2))
    assert [c.action for c in past_changes(restarted)] == ["create", "start", "restart"]
    assert [c.action for c in past_changes(view("created", 0)._replace(created=stamp(0), started_at=""))] == ["create"]


def test_an_update_is_dockers_update_event():
    assert actions(view(), view()._replace(updated_at="t5")) == ["update"]
    assert actions(view("exited", 0), view("exited", 0)._replace(updated_at="t5")) == ["update"]
    assert actions(view()._replace(updated_at="t5"), view()._replace(updated_at="t5")) == []
