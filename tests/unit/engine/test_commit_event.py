"""A container's ``commit`` (recorded in its state) is dockerd's ``commit`` event with its attributes."""

from composer.engine.monitor import Change, View, actions, past_changes

COMMITTED = {"At": "2026-01-01T00:00:05Z", "Comment": "hi", "ImageID": "sha256:ab", "ImageRef": "snap:1"}


def view(**fields) -> View:
    base = View("c1", "p-web-1", "web", "busybox", "running", "2026-01-01T00:00:01Z", 7, "", 0, 42, {"a": "b"},
                created="2026-01-01T00:00:00Z")
    return base._replace(**fields)


def test_a_new_commit_is_an_event_and_an_old_one_is_not():
    assert actions(view(), view(committed=COMMITTED)) == ["commit"]
    assert actions(view(committed=COMMITTED), view(committed=COMMITTED)) == []
    again = {**COMMITTED, "At": "2026-01-01T00:00:06Z"}
    assert actions(view(committed=COMMITTED), view(committed=again)) == ["commit"]
    assert actions(view(), view(status="paused", committed=COMMITTED)) == ["pause", "commit"]  # dockerd's order
    assert actions(view(status="paused"), view(committed=COMMITTED)) == ["commit", "unpause"]


def test_its_attributes_are_dockerds():
    change = Change(0.0, "commit", view(committed=COMMITTED))
    assert change.attributes() == {"a": "b", "image": "busybox", "name": "p-web-1", "comment": "hi",
                                   "imageID": "sha256:ab", "imageRef": "snap:1"}


def test_replayed_in_time_order():
    stopped = view(status="exited", finished_at="2026-01-01T00:00:09Z", committed=COMMITTED)
    assert [change.action for change in past_changes(stopped)] == ["create", "start", "commit", "die"]
