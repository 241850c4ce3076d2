"""The DNS server of a root changes hands safely: a network removed and another made at once (the
``down`` then ``up`` of a project) always ends with a server that answers on the new network."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest

from composer.network.dns import control
from tests.integration.network.conftest import container_id, free_prefix24

pytestmark = pytest.mark.root


def _resolves(ns, name: str, address: str, gateway: str) -> None:
    looked = ns.run("nslookup", name, gateway)
    assert address in looked.stdout, f"{name} on {gateway}: {looked.stdout} {looked.stderr}"


def test_down_then_up_at_once_always_finds_a_server(manager, make_netns):
    """Each round removes the last network (its server exits) and at once makes it again on the
    same gateway, then resolves from a container: the exiting server and the new start race."""
    subnet = f"{free_prefix24()}.0/24"
    asker, answerer = make_netns(), make_netns()
    for _ in range(6):
        net = manager.create("flap", subnet=subnet)
        asking, answering = container_id(), container_id()
        manager.connect("flap", asking, asker.path, name="asker")
        db = manager.connect("flap", answering, answerer.path, name="db")
        assert control.is_listening(net.gateway)  # connect returns only once it is served
        _resolves(asker, "db", db.ipv4, net.gateway)
        manager.disconnect("flap", asking)
        manager.disconnect("flap", answering)
        manager.remove("flap")


def test_a_start_waits_for_a_server_on_its_way_out(manager, make_netns):
    """A server that has given up its pid file but still holds the root's lock (exiting) makes a
    new start wait for the lock and then serve, instead of leaving the network without DNS."""
    os.makedirs(manager.store.dir, exist_ok=True)
    exiting = os.open(os.path.join(manager.store.dir, "dns.lock"), os.O_RDWR | os.O_CREAT)
    leaves = threading.Timer(0.4, fcntl.flock, [exiting, fcntl.LOCK_UN])  # it goes while create waits
    try:
        fcntl.flock(exiting, fcntl.LOCK_EX)
        leaves.start()
        began = time.monotonic()
        net = manager.create("after")
        assert time.monotonic() - began >= 0.3  # it waited for the lock
    finally:
        leaves.cancel()
        leaves.join()
        os.close(exiting)
    ns, peer = make_netns(), make_netns()
    manager.connect("after", container_id(), ns.path, name="asker")
    db = manager.connect("after", container_id(), peer.path, name="db")
    assert control.pid_of(manager.store) is not None
    _resolves(ns, "db", db.ipv4, net.gateway)


def test_a_fresh_network_answers_before_the_server_has_imported_anything(manager, make_netns):
    """``network create`` binds the server's sockets itself: the gateway listens when it returns,
    queries wait in the socket until the server reads them, and a container connected at once
    neither waits nor starts a second server; pokes before its handler exists do not kill it."""
    net = manager.create("eager")
    pid = control.pid_of(manager.store)
    assert pid is not None and control.is_listening(net.gateway)
    control.refresh(manager.store)  # a poke while it still imports
    ns, peer = make_netns(), make_netns()
    manager.connect("eager", container_id(), ns.path, name="first")
    db = manager.connect("eager", container_id(), peer.path, name="db")
    _resolves(ns, "db", db.ipv4, net.gateway)
    assert control.pid_of(manager.store) == pid
