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
    assert control.names_me(store, wait=5.0)
    late.join()
    assert control.forget_pid(store)
    assert not (tmp_path / "dns.pid").exists()
    assert not control.forget_pid(store)


def test_a_retiring_server_waits_for_its_pid_file_outside_the_store_lock(tmp_path):
    """Other network commands must not block on a server waiting for its ``start`` to finish:
    it waits without the lock, then decides again (and exits once its pid file is removed)."""
    from composer.network.dns.server import Server

    store, server, decisions = NetworkStore(tmp_path), Server(NetworkStore(tmp_path)), []
    retiring = threading.Thread(target=lambda: decisions.append(server.retire()))
    retiring.start()
    time.sleep(0.1)  # the server is waiting for dns.pid now
    began = time.monotonic()
    with store.locked():  # another network command
        assert time.monotonic() - began < 0.5
        (tmp_path / "dns.pid").write_text(f"{os.getpid()} 7")  # the late write of its start
    retiring.join(5)
    assert decisions == [False]  # not decided while the lock was free: decide again
    assert (tmp_path / "dns.pid").exists()
    assert server.retire() is True
    assert not (tmp_path / "dns.pid").exists()


def test_refresh_without_a_server_reads_the_network_files_once(tmp_path, monkeypatch):
    store, reads, started = NetworkStore(tmp_path), [], []
    net = Network(id="n" * 64, name="app", bridge="lo", subnet="10.5.0.0/24", gateway="10.5.0.1", created="now")
    monkeypatch.setattr(store, "all", lambda: reads.append(1) or [net])
    monkeypatch.setattr(control, "_take_lock", lambda _store: 99)
    monkeypatch.setattr(control, "bind", lambda gateway: started.append(gateway) or [])
    monkeypatch.setattr(control, "_spawn", lambda *args: None)
    monkeypatch.setattr(control.os, "close", lambda fd: None)
    control.refresh(store)
    assert started == ["10.5.0.1"] and len(reads) == 1


def test_host_resolvers_are_read_again_only_when_resolv_conf_changes(tmp_path, monkeypatch):
    from composer.network.dns import server

    monkeypatch.delenv("COMPOSER_DNS_UPSTREAM", raising=False)
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 10.0.0.1\n")
    monkeypatch.setattr(server, "RESOLV_CONF", str(conf))
    assert server.upstreams() == [("10.0.0.1", 53)]
    stamp = conf.stat()
    with open(conf, "r+") as handle:  # same inode, size and mtime: the cached answer stands
        handle.write("nameserver 10.0.0.2\n")
    os.utime(conf, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert server.upstreams() == [("10.0.0.1", 53)]
    (tmp_path / "new").write_text("search x\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n")
    os.replace(tmp_path / "new", conf)  # replaced (a new inode), as resolvconf does
    assert server.upstreams() == [("10.0.0.3", 53), ("10.0.0.4", 53)]
    conf.unlink()
    assert server.upstreams() == []


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


def test_a_spawned_server_gets_its_lock_and_sockets_only_in_a_session_of_its_own(tmp_path, monkeypatch):
    """``posix_spawn`` passes every inheritable descriptor: one a caller left inheritable (a
    pipe a test harness waits on) must not live on in the long-running server."""
    (tmp_path / "lister.py").write_text(
        "import os, sys\nprint(repr((sorted(int(fd) for fd in os.listdir('/proc/self/fd')), sys.argv[1:], "
        "os.getsid(0) == os.getpid(), os.read(0, 1) == b'')), flush=True)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(control, "MODULE", "lister")
    store = NetworkStore(tmp_path / "networks")
    os.makedirs(store.dir)
    lock = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    keep, stray = os.pipe(), os.pipe()
    os.set_inheritable(stray[1], True)
    try:
        control._spawn(store, lock, [keep[0]])
        pid = int((tmp_path / "networks" / "dns.pid").read_text().split()[0])
        os.waitpid(pid, 0)
        fds, argv, own_session, empty_stdin = eval((tmp_path / "networks" / "dns.log").read_text())
        assert argv == [store.dir, str(lock), str(keep[0])] and own_session and empty_stdin
        assert {lock, keep[0]} <= set(fds) and stray[1] not in fds
        assert not os.get_inheritable(lock) and not os.get_inheritable(keep[0])
    finally:
        for fd in (lock, *keep, *stray):
            os.close(fd)


def test_the_lock_stays_close_on_exec_in_the_spawning_process(tmp_path, monkeypatch):
    """Another thread may fork while the server is spawned (the head start): the lock and the
    sockets must never be inheritable here, or a long-lived child would keep the lock held."""
    store = NetworkStore(tmp_path)
    lock = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    seen = []

    def spawn(path, argv, env, *, file_actions, setsid):
        seen.append((os.get_inheritable(lock), (os.POSIX_SPAWN_DUP2, lock, lock) in file_actions))
        return os.getpid()

    monkeypatch.setattr(control.os, "posix_spawn", spawn)
    monkeypatch.setattr(control, "_SPAWNED", [])
    try:
        control._spawn(store, lock, [])
    finally:
        os.close(lock)
    assert seen == [(False, True)]


def test_stop_never_signals_the_caller_named_by_a_pid_file(tmp_path, monkeypatch):
    """dns.pid is read from disk: its pid goes through ``signal_process`` (never our own, a group
    or pid 1), so a pid file naming the caller cannot make ``stop`` SIGTERM it."""
    from composer.engine.runtime.state import process_start_time

    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    store = NetworkStore(tmp_path)
    (tmp_path / "dns.pid").write_text(f"{os.getpid()} {process_start_time(os.getpid())}")
    control.refresh(store)
    control.stop(store, timeout=0.1)
    assert sent == [] and not (tmp_path / "dns.pid").exists()
