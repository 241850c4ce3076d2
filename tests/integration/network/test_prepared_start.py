"""A prepared start (``containers.prepare_start``): the container built up to its exec (cgroup,
PID 1 in its namespaces, network plugged in, port published) while it still counts as created;
``go`` execs the program, ``abandon`` (or the caller's or the supervisor's death) leaves the
container exactly as it was created: no process, cgroup, endpoint or veth, the same state.json
and files. A refused preparation (a port taken) is raised by ``go``."""

from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from composer.engine.runtime.state import signal_process, supervisor_alive
from composer.engine.runtime.watch import wait_until

pytestmark = pytest.mark.root
NETWORK = "prepnet"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cgroups(cid: str) -> list[str]:
    return glob.glob(f"/sys/fs/cgroup/*/composer/{cid}") + glob.glob(f"/sys/fs/cgroup/composer/{cid}")


def _host_veths() -> set[str]:
    links = json.loads(subprocess.run(["ip", "-j", "link", "show", "type", "veth"], capture_output=True,
                                      text=True, check=True).stdout or "[]")
    return {link["ifname"] for link in links}


def _held_veth(manager, cid: str) -> str:
    """The host side of the prepared container's veth (it exists)."""
    veth = manager.get(NETWORK).endpoints[cid].host_ifname
    assert veth in _host_veths()
    return veth


def _snapshot(state_root: Path, cid: str) -> tuple[dict, list[str]]:
    directory = state_root / "containers" / cid
    return json.loads((directory / "state.json").read_text()), sorted(os.listdir(directory))


@pytest.fixture
def created(composer, busybox_image, manager, state_root):
    """``created(*args)``: a container created on the test's network (``-p`` etc. in ``args``);
    its id. Every container is force-removed at the end."""
    manager.create(NETWORK)
    names: list[str] = []

    def create(name: str, *args: str) -> str:
        result = composer("container", "create", "--name", name, "--network", NETWORK, *args, "busybox",
                          "sh", "-c", "echo started; exec sleep 60")
        assert result.returncode == 0, result.stderr
        names.append(name)
        return result.stdout.strip()

    yield create
    for name in names:
        composer("container", "rm", "-f", name)


def _assert_as_created(state_root: Path, manager, cid: str, before: tuple[dict, list[str]], veth: str) -> None:
    assert _cgroups(cid) == []
    assert cid not in manager.get(NETWORK).endpoints
    assert veth not in _host_veths()
    assert _snapshot(state_root, cid) == before


def test_go_execs_the_prepared_container(created, state_root, manager):
    from composer.engine.runtime import containers

    port = _free_port()
    cid = created("held", "-p", f"127.0.0.1:{port}:80")
    handle = containers.prepare_start(cid)
    state = json.loads((state_root / "containers" / cid / "state.json").read_text())
    assert state["Status"] == "created" and not state.get("StartedAt")
    assert _cgroups(cid) and cid in manager.get(NETWORK).endpoints  # built, plugged in
    pids = [int(p) for path in _cgroups(cid)[:1] for p in Path(path, "cgroup.procs").read_text().split()]
    assert len(pids) == 1 and os.readlink(f"/proc/{pids[0]}/exe") != "/bin/busybox"  # not exec'd yet
    handle.go()
    info = containers.inspect(cid)
    assert info["State"]["Status"] == "running" and info["State"]["Pid"] == pids[0]
    assert "Prepared" not in _snapshot(state_root, cid)[0]  # held no more
    deadline = time.monotonic() + 30
    while "started" not in "".join(line.text for line in containers.read_logs(cid)):
        assert time.monotonic() < deadline, "the program never ran"
        time.sleep(0.05)
    with pytest.raises(RuntimeError):
        handle.abandon()  # a handle is used once


def test_abandon_leaves_the_container_as_created(created, state_root, manager):
    from composer.engine.runtime import containers

    cid = created("abandoned", "-p", f"127.0.0.1:{_free_port()}:80")
    before = _snapshot(state_root, cid)
    handle = containers.prepare_start(cid)
    assert _cgroups(cid)
    veth = _held_veth(manager, cid)
    handle.abandon()
    _assert_as_created(state_root, manager, cid, before, veth)
    containers.start(cid)  # nothing left in the way of a start
    assert containers.inspect(cid)["State"]["Status"] == "running"


def _wait_given_back(state_root: Path, manager, cid: str, before: tuple[dict, list[str]], veth: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _assert_as_created(state_root, manager, cid, (before[0], _snapshot(state_root, cid)[1]), veth)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_caller_that_dies_while_holding_gives_everything_back(created, state_root, manager):
    cid = created("orphaned", "-p", f"127.0.0.1:{_free_port()}:80")
    before = _snapshot(state_root, cid)
    code = ("import os, sys; from composer.engine.runtime import containers; "
            f"held = containers.prepare_start({cid!r}); print('held', flush=True); sys.stdin.readline(); os._exit(0)")
    caller = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert caller.stdout.readline().strip() == "held"
        assert _cgroups(cid)
        veth = _held_veth(manager, cid)
    finally:
        caller.communicate("\n", timeout=30)  # it exits without go or abandon
    _wait_given_back(state_root, manager, cid, before, veth)


def test_a_supervisor_killed_while_holding_gives_everything_back(created, state_root, manager):
    from composer.engine.runtime import containers
    from composer.errors import ContainerRuntimeError

    cid = created("unsupervised", "-p", f"127.0.0.1:{_free_port()}:80")
    before = _snapshot(state_root, cid)
    handle = containers.prepare_start(cid)
    veth = _held_veth(manager, cid)
    state = json.loads((state_root / "containers" / cid / "state.json").read_text())
    signal_process(state["SupervisorPid"], signal.SIGKILL, state["SupervisorStart"])
    _wait_given_back(state_root, manager, cid, before, veth)
    with pytest.raises(ContainerRuntimeError):
        handle.go()


def test_a_refused_preparation_is_raised_by_go_and_abandon_gives_the_state_back(created, state_root, manager):
    from composer.engine.runtime import containers
    from composer.errors import ContainerRuntimeError

    publish = f"127.0.0.1:{_free_port()}:80"
    containers.start(created("first", "-p", publish))
    cid = created("second", "-p", publish)
    before = _snapshot(state_root, cid)
    containers.prepare_start(cid).abandon()
    _assert_as_created(state_root, manager, cid, before, "")
    with pytest.raises(ContainerRuntimeError, match="already allocated"):
        containers.prepare_start(cid).go()
    wait_until(str(state_root / "containers" / cid), lambda: not supervisor_alive(_snapshot(state_root, cid)[0]), timeout=30)
    assert "Prepared" not in _snapshot(state_root, cid)[0]  # the refused start held nothing


def test_removing_a_held_container_gives_up_its_preparation(created, state_root, manager, composer):
    from composer.engine.runtime import containers
    from composer.errors import ContainerRuntimeError

    cid = created("removed", "-p", f"127.0.0.1:{_free_port()}:80")
    handle = containers.prepare_start(cid)
    veth = _held_veth(manager, cid)
    began = time.monotonic()
    removed = composer("container", "rm", "-f", "removed")  # (down from another terminal while up waits)
    assert removed.returncode == 0, removed.stderr
    assert time.monotonic() - began < 25  # not the 30 s wait for a supervisor to leave
    assert _cgroups(cid) == [] and cid not in manager.get(NETWORK).endpoints and veth not in _host_veths()
    assert not (state_root / "containers" / cid).exists()
    with pytest.raises(ContainerRuntimeError):
        handle.go()
    handle = containers.prepare_start(created("removed2"))
    composer("container", "rm", "-f", "removed2")
    handle.abandon()  # (nothing left to give back)


def test_a_start_of_a_held_container_takes_it_over(created, state_root, manager):
    from composer.engine.runtime import containers
    from composer.errors import ContainerRuntimeError

    cid = created("taken", "-p", f"127.0.0.1:{_free_port()}:80")
    handle = containers.prepare_start(cid)
    began = time.monotonic()
    containers.start(cid)  # (``composer start`` while an ``up`` waits with it held)
    assert time.monotonic() - began < 25 and containers.inspect(cid)["State"]["Status"] == "running"
    with pytest.raises(ContainerRuntimeError):
        handle.go()  # its preparation was given up
