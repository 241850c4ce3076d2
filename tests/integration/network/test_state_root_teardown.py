"""The ``state_root`` fixture's teardown (tests/fixtures/leftovers.py): a test's containers are
stopped before its networks go, so nothing makes the default ``bridge`` network again after the
look; what is still on the host is named (and removed) so that the leaking test fails."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixtures.leftovers import host_leftovers, release_state_root, remove_leftovers

pytestmark = pytest.mark.root


def test_a_running_default_network_container_is_stopped_before_its_network_goes(busybox_image, state_root):
    from composer.network.store import NetworkStore

    started = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-d", "--restart", "always",
                              "busybox", "sleep", "1"], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    assert started.returncode == 0, started.stderr
    default_bridge = NetworkStore(state_root / "networks").default_bridge
    assert default_bridge in host_leftovers(state_root)
    assert release_state_root(state_root) == []
    assert not list((state_root / "containers").iterdir())  # no supervisor left to restart it
    assert host_leftovers(state_root) == []
    assert not os.path.exists(f"/sys/class/net/{default_bridge}")


def test_a_container_whose_removal_failed_is_killed_and_named(busybox_image, state_root, monkeypatch):
    import json

    from composer.engine.runtime import containers
    from composer.engine.runtime.state import supervisor_alive

    started = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-d", "--network", "none",
                              "busybox", "sleep", "60"], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    assert started.returncode == 0, started.stderr
    container_id = started.stdout.strip()
    state_file = state_root / "containers" / container_id / "state.json"
    with monkeypatch.context() as patch:
        patch.setattr(containers, "remove", lambda *args, **kwargs: None)  # a removal that did nothing
        assert release_state_root(state_root) == [f"container {container_id[:12]}"]
    assert not supervisor_alive(json.loads(state_file.read_text()))
    containers.remove(container_id, force=True)


def test_leftovers_made_after_the_teardown_are_named_and_removed(tmp_path, monkeypatch):
    from composer.network.manager import NetworkManager

    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", "127.0.0.1:9")
    root = tmp_path / "late-root"
    release_state_root(root)  # (nothing there yet)
    manager = NetworkManager(root / "networks", dns=False)
    try:
        net = manager.ensure_default()  # as a supervisor restarting a container would
        found = host_leftovers(root)
        assert found == [net.bridge, f"inet {manager.store.table}"]
        remove_leftovers(root, found)
        assert host_leftovers(root) == []
    finally:
        manager.reset()


def test_the_default_network_of_a_deleted_root_is_swept_at_the_next_creation(tmp_path, monkeypatch):
    """What no teardown removed (a root deleted with its default ``bridge`` network, as CI's
    ``cme272-default``) goes at the next network creation of any root."""
    import shutil

    from composer.network.manager import NetworkManager

    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", "127.0.0.1:9")
    lost_root, next_root = tmp_path / "lost-root", tmp_path / "next-root"
    lost = NetworkManager(lost_root / "networks", dns=False)
    following = NetworkManager(next_root / "networks", dns=False)
    try:
        lost.ensure_default()
        assert host_leftovers(lost_root) == [lost.store.default_bridge, f"inet {lost.store.table}"]
        shutil.rmtree(lost_root)
        following.ensure_default()
        assert not os.path.exists(f"/sys/class/net/{lost.store.default_bridge}")
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.splitlines()
        assert f"table inet {lost.store.table}" not in tables
    finally:
        remove_leftovers(lost_root, [lost.store.default_bridge, f"inet {lost.store.table}"])
        following.reset()
