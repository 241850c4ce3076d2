"""A state root deleted without its teardown: ``orphans.sweep_abandoned`` removes its nftables
table (named in the table's comment) even once its bridges are gone, and its iptables FORWARD
accept rules; a live root's table and rules stay."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.integration.network.test_host_firewall import TOOLS, _accepts, forward_drop  # noqa: F401

pytestmark = pytest.mark.root


@pytest.fixture
def doomed(tmp_path):
    """A second root's manager, its folder deleted by the test; reset if the test failed first."""
    from composer.network.manager import NetworkManager

    nm = NetworkManager(tmp_path / "doomed-root" / "networks", dns=False)  # pure plumbing: no DNS server
    try:
        yield nm
    finally:
        if (tmp_path / "doomed-root").is_dir():
            nm.reset()
        else:
            from composer.network import firewall, forward_policy, uplinks
            from composer.network.store import host_locked

            firewall.remove(nm.store.table)
            forward_policy.remove_stale()
            with host_locked():
                uplinks.drop_abandoned()


def _sweep() -> list[str]:
    """``sweep_abandoned`` under the host-wide lock, as ``NetworkManager.create`` calls it."""
    from composer.network.orphans import sweep_abandoned
    from composer.network.store import host_locked

    with host_locked():
        return sweep_abandoned()


def _claimed_by(folder: str) -> bool:
    """Whether ``folder`` still claims forwarding on one of the host's uplinks."""
    from composer.network.uplinks import REGISTRY

    return os.path.exists(REGISTRY) and folder in open(REGISTRY).read()


def _delete_without_teardown(nm) -> None:
    """What a killed test leaves: the bridges removed (by hand, by a reboot's loss) and the folder."""
    from composer.network.netlink import Netlink

    with Netlink() as nl:
        for net in nm.store.all():
            nl.delete_link(net.bridge)
    shutil.rmtree(nm.store.root.parent)


def test_a_deleted_roots_table_goes_without_its_bridges(manager, doomed):
    from composer.network.orphans import table_owners

    manager.create("alive")
    doomed.create("doomed")
    owners = table_owners()
    assert owners[doomed.store.table] == doomed.store.dir and owners[manager.store.table] == manager.store.dir
    _delete_without_teardown(doomed)
    assert _sweep() == []  # no bridge of it was left
    assert not _claimed_by(doomed.store.dir)
    owners = table_owners()
    assert doomed.store.table not in owners and owners[manager.store.table] == manager.store.dir


def test_a_deleted_roots_accept_rules_go_with_its_table(manager, doomed, forward_drop):  # noqa: F811
    manager.create("alive")
    doomed.create("doomed")
    assert all(_accepts(doomed, tool) and _accepts(manager, tool) for tool in TOOLS)
    _delete_without_teardown(doomed)
    _sweep()
    for tool in TOOLS:
        rules = subprocess.run([tool, "-w", "-S", "FORWARD"], capture_output=True, text=True).stdout
        assert doomed.store.dir not in rules and _accepts(manager, tool), rules


def test_a_deleted_roots_dns_server_leaves_its_folder_deleted(tmp_path):
    """The server retires once its networks are gone; it must not make the folder again (under
    its lock file), or the deleted root would look alive and its table would stay."""
    from composer.network.dns import control
    from composer.network.manager import NetworkManager
    from composer.network.orphans import table_owners
    nm = NetworkManager(tmp_path / "served-root" / "networks")
    nm.create("named")
    pid = control.pid_of(nm.store)
    try:
        assert pid is not None
        _delete_without_teardown(nm)
        os.kill(pid, control.RESCAN)
        deadline = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(pid), "the DNS server stayed"
        assert not (tmp_path / "served-root").exists()
        _sweep()
        assert nm.store.table not in table_owners()
        assert not _claimed_by(nm.store.dir)  # its uplinks' forwarding given back
    finally:
        if (tmp_path / "served-root").is_dir():
            nm.reset()
        else:
            from composer.network import firewall

            firewall.remove(nm.store.table)
        if pid is not None and not _gone(pid):
            os.kill(pid, 9)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` ended (exited, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True
