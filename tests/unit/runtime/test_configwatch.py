"""The supervisor's view of config.json: parsed again only when ``update`` / ``network connect``
rewrote it (a rename: new inode), never on every start and exit."""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig, Resources
from composer.engine.runtime.configwatch import ConfigWatch
from composer.engine.runtime.restarts import restart_wanted
from composer.engine.runtime.state import write_json_atomic


def _write(path, **resources) -> None:
    config = ContainerConfig(id="c" * 64, name="x", image="busybox", image_id="", layers=[], args=["sh"], env=[],
                             resources=Resources(**resources))
    write_json_atomic(str(path), config.to_dict())


def test_an_unchanged_file_is_not_parsed_again(tmp_path):
    path = tmp_path / "config.json"
    _write(path, memory=64 << 20)
    watch = ConfigWatch(str(path))
    first = watch.load()
    for _ in range(5):
        assert watch.current() is first
    assert watch.parses == 1


def test_a_rewrite_is_seen_even_with_the_same_size_and_time(tmp_path):
    path = tmp_path / "config.json"
    _write(path, pids_limit=5)
    watch = ConfigWatch(str(path))
    watch.load()
    stamp = os.stat(path)
    _write(path, pids_limit=9)  # same length; a new inode
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert watch.current().resources.pids_limit == 9
    assert watch.parses == 2
    assert watch.current().resources.pids_limit == 9 and watch.parses == 2


def test_an_unreadable_or_broken_file_keeps_what_was_read(tmp_path):
    path = tmp_path / "config.json"
    watch = ConfigWatch(str(path))
    assert watch.current() is None  # absent
    _write(path)
    assert watch.current() is not None
    path.write_text("{broken")
    assert watch.current() is None
    os.unlink(path)
    assert watch.current() is None


def test_restart_policies_as_docker():
    on_failure = {"Name": "on-failure", "MaximumRetryCount": 2}
    assert restart_wanted(on_failure, 1, 1, False) and not restart_wanted(on_failure, 1, 2, False)
    assert not restart_wanted(on_failure, 0, 0, False)
    assert restart_wanted({"Name": "on-failure"}, 3, 100, False)
    assert restart_wanted({"Name": "always"}, 0, 9, False) and restart_wanted({"Name": "unless-stopped"}, 0, 0, False)
    assert not restart_wanted({"Name": "always"}, 0, 0, True)
    assert not restart_wanted(None, 1, 0, False) and not restart_wanted({"Name": "no"}, 1, 0, False)
