"""DirWatch: one inotify descriptor reused by a process's successive waits (closing one costs an
RCU grace period), a private one for a nested wait, none inherited by a forked child."""

from __future__ import annotations

import os

from composer.engine.runtime import watch


def test_successive_watches_share_one_descriptor_and_see_their_own_events(tmp_path):
    first = watch.DirWatch(str(tmp_path))
    shared = first.fd
    (tmp_path / "a").write_text("x")
    assert first.wait(1.0)
    first.close()
    (tmp_path / "b").write_text("x")  # after its watch was removed: no event for the next waiter
    with watch.DirWatch(str(tmp_path)) as second:
        assert second.fd == shared
        assert not second.wait(0.05)
        os.rename(tmp_path / "b", tmp_path / "c")
        assert second.wait(1.0)
    os.fstat(shared)  # still open for the next wait


def test_a_nested_watch_gets_its_own_descriptor(tmp_path):
    with watch.DirWatch(str(tmp_path)) as outer, watch.DirWatch(str(tmp_path)) as inner:
        assert inner.fd != outer.fd
        private = inner.fd
    try:
        os.fstat(private)
        closed = False
    except OSError:
        closed = True
    assert closed


def test_wait_until_returns_the_first_truthy_check(tmp_path):
    target = tmp_path / "state.json"

    def check():
        if not target.exists():
            target.write_text("{}")  # an event for the next wait
            return None
        return "seen"

    assert watch.wait_until(str(tmp_path), check, timeout=2) == "seen"
    assert watch.wait_until(str(tmp_path), lambda: None, timeout=0.05) is None


def test_a_forked_child_opens_its_own(tmp_path):
    with watch.DirWatch(str(tmp_path)):
        pass
    parent_fd = watch._SHARED["fd"]
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write_fd, b"%d" % watch._SHARED["fd"])
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write_fd)
    assert parent_fd >= 0 and os.read(read_fd, 16) == b"-1"
    os.close(read_fd)
