"""``network connect``/``disconnect`` change a container's config.json under the container's lock:
concurrent ones never lose each other's changes."""

from __future__ import annotations

import threading

import pytest

from composer.engine.runtime.state import find_container
from composer.network.attachments import connect_container, disconnect_container

pytestmark = [pytest.mark.root, pytest.mark.slow]
NETWORKS = [f"side{n}" for n in range(6)]


def _at_once(work, arguments: list) -> None:
    """Run ``work(argument)`` in one thread per argument, released together; re-raise failures."""
    start, failures = threading.Barrier(len(arguments)), []

    def run(argument) -> None:
        start.wait()
        try:
            work(argument)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures


def test_concurrent_connects_and_disconnects_are_all_kept(composer, busybox_image, manager):
    for name in NETWORKS:
        manager.create(name)
    created = composer("container", "create", "--name", "busy", "busybox", "sleep", "60")
    assert created.returncode == 0, created.stderr
    try:
        _at_once(lambda net: connect_container(manager, net, "busy", aliases=[net]), NETWORKS)
        config = find_container("busy").read_config()
        assert sorted(ep["network"] for ep in config["endpoints"]) == NETWORKS
        leaving, staying = NETWORKS[:3], NETWORKS[3:]
        _at_once(lambda net: disconnect_container(manager, net, "busy"), leaving)
        config = find_container("busy").read_config()
        assert sorted(ep["network"] for ep in config["endpoints"]) == staying
        started = composer("container", "start", "busy")
        assert started.returncode == 0, started.stderr
        assert all(created.stdout.strip() in manager.get(net).endpoints for net in staying)
        _at_once(lambda net: disconnect_container(manager, net, "busy"), staying)
        assert find_container("busy").read_config()["endpoints"] == []
        assert not any(created.stdout.strip() in manager.get(net).endpoints for net in NETWORKS)
    finally:
        composer("container", "rm", "-f", "busy")


def test_connect_with_fixed_addresses_keeps_them_across_restarts(composer, busybox_image, manager):
    """``network connect --ip --ip6`` (docker's flags): the addresses now, and again after a restart."""
    from tests.integration.network.conftest import free_prefix24, free_prefix64

    prefix, six = free_prefix24(), free_prefix64()
    manager.create("dual", subnet=f"{prefix}.0/24", ipv6=True, subnet6=f"{six}:/64")
    started = composer("container", "run", "-d", "--name", "fixed", "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        connected = composer("network", "connect", "--ip", f"{prefix}.40", "--ip6", f"{six}:40", "dual", "fixed")
        assert connected.returncode == 0, connected.stderr
        for _ in range(2):
            endpoint = manager.get("dual").endpoints[cid]
            assert (endpoint.ipv4, endpoint.ipv6) == (f"{prefix}.40", f"{six}:40")
            shown = composer("container", "exec", "fixed", "ip", "-o", "addr").stdout
            assert f"inet {prefix}.40/24" in shown and f"inet6 {six}:40/64" in shown
            assert composer("container", "restart", "-t", "0", "fixed").returncode == 0
    finally:
        composer("container", "rm", "-f", "fixed")
