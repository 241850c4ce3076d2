"""The pure parts of the DNS server's hand-over: its pid file, and where a container's other names go."""

from __future__ import annotations

import os
import threading
import time

from composer.network.dns import control
from composer.network.model import Endpoint, Network
from composer.network.store import NetworkStore


def test_a_server_removes_only_its_own_pid_file(tmp_path):
    store = NetworkStore(tmp_path)
    pid_file = tmp_path / "dns.pid"
    pid_file.write_text("1 5")  # another server's
    control.forget_pid(store)
    assert pid_file.read_text() == "1 5"
    pid_file.write_text(f"{os.getpid()} 7")
    control.forget_pid(store)
    assert not pid_file.exists()
    control.forget_pid(store)  # absent is fine


def test_a_retiring_server_waits_for_the_start_that_spawned_it_to_write_its_pid(tmp_path):
    """Else a late write by ``start`` would name a server that already decided to exit."""
    store = NetworkStore(tmp_path)
    late = threading.Timer(0.05, (tmp_path / "dns.pid").write_text, [f"{os.getpid()} 7"])
    late.start()
    control.forget_pid(store, wait=5.0)
    late.join()
    assert not (tmp_path / "dns.pid").exists()


def test_a_pid_file_names_a_server_only_while_its_process_lives(tmp_path):
    from composer.engine.runtime.state import process_start_time

    store = NetworkStore(tmp_path)
    (tmp_path / "dns.pid").write_text(f"{os.getpid()} {process_start_time(os.getpid())}")
    assert control.pid_of(store) == os.getpid()
    (tmp_path / "dns.pid").write_text(f"{os.getpid()} 1")  # that pid, started at another time: reused
    assert control.pid_of(store) is None
    (tmp_path / "dns.pid").write_text("garbage")
    assert control.pid_of(store) is None


def test_other_names_go_to_the_containers_own_resolvers(monkeypatch):
    from composer.network.dns.server import resolvers_of

    monkeypatch.setenv("COMPOSER_DNS_UPSTREAM", "10.0.0.53:5353")
    net = Network(id="n" * 64, name="app", bridge="cm-x", subnet="10.5.0.0/24", gateway="10.5.0.1", created="now")
    for cid, address, dns in (("a" * 64, "10.5.0.2", ["9.9.9.9", "1.1.1.1"]), ("b" * 64, "10.5.0.3", [])):
        net.endpoints[cid] = Endpoint(container_id=cid, endpoint_id=cid, netns_path="/nonexistent",
                                      netns_inode=(0, 0), host_ifname="veth0", ipv4=address, dns=dns)
    assert resolvers_of(net, "10.5.0.2") == [("9.9.9.9", 53), ("1.1.1.1", 53)]
    assert resolvers_of(net, "10.5.0.3") == [("10.0.0.53", 5353)]
    assert resolvers_of(None, "10.5.0.1") == [("10.0.0.53", 5353)]


def test_the_server_lists_its_folder_only_when_it_changed(tmp_path, monkeypatch):
    """A query's reload is one stat of a settled folder; a save (a rename in it) is seen at once,
    and a folder changed in the last moments is listed every time (same-tick changes)."""
    from pathlib import Path

    from composer.network.dns import server as dns_server

    store = NetworkStore(tmp_path)
    store.save(Network(id="a" * 64, name="one", bridge="cm-a", subnet="10.6.0.0/24", gateway="10.6.0.1", created="1"))
    listings = []
    glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: listings.append(pattern) or glob(self, pattern))
    server = dns_server.Server(store)
    server.reload()
    server.reload()
    assert [net.name for net in server.networks] == ["one"] and len(listings) == 2  # just changed
    os.utime(tmp_path, ns=(time.time_ns() - 10**9,) * 2)  # settled
    server.reload()
    server.reload()
    server.reload()
    assert len(listings) == 3
    store.save(Network(id="b" * 64, name="two", bridge="cm-b", subnet="10.7.0.0/24", gateway="10.7.0.1", created="2"))
    server.reload()
    assert [net.name for net in server.networks] == ["one", "two"]
    server.reload(force=True)
    assert len(listings) == 5
