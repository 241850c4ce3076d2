"""A container that died while another connects: its endpoint waits for its own disconnect,
which records dockerd's ``network disconnect`` event (a connect used to drop it silently, so 1-2
of 40-60 parallel runs missed the event); one dropped for its address records it instead."""

from __future__ import annotations

import json
import time

import pytest

from composer.engine.object_events import log_path
from tests.integration.network.conftest import container_id, free_prefix24

pytestmark = pytest.mark.root


def _disconnects() -> list[str]:
    try:
        with open(log_path()) as handle:
            events = [json.loads(line) for line in handle]
    except FileNotFoundError:
        return []
    return [e["attributes"]["container"] for e in events if e["type"] == "network" and e["action"] == "disconnect"]


def _wait_veth_gone(host_ifname: str) -> None:
    deadline = time.monotonic() + 5  # the kernel deletes the pair with the namespace, in the background
    while host_ifname in open("/proc/net/dev").read() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_connect_leaves_a_dead_endpoint_to_its_own_disconnect(manager, make_netns):
    manager.create("racy")
    dying, other = make_netns(), make_netns()
    gone = manager.connect("racy", container_id(), dying.path, name="gone")
    dying.destroy()
    _wait_veth_gone(gone.host_ifname)
    manager.connect("racy", container_id(), other.path, name="other")
    assert gone.container_id in manager.get("racy").endpoints  # (the connect left it)
    assert _disconnects() == []
    manager.disconnect("racy", gone.container_id, force=True)  # its runtime's, once it saw the exit
    assert _disconnects() == [gone.container_id]


def test_a_dead_endpoint_dropped_for_its_address_records_its_disconnect(manager, make_netns):
    prefix = free_prefix24()
    manager.create("static", subnet=f"{prefix}.0/24")
    dying, other = make_netns(), make_netns()
    gone = manager.connect("static", container_id(), dying.path, ipv4=f"{prefix}.42")
    dying.destroy()
    _wait_veth_gone(gone.host_ifname)
    assert manager.connect("static", container_id(), other.path, ipv4=f"{prefix}.42").ipv4 == f"{prefix}.42"
    assert gone.container_id not in manager.get("static").endpoints
    manager.disconnect("static", gone.container_id, force=True)  # finds nothing: no second event
    assert _disconnects() == [gone.container_id]
