"""Real-kernel tests of the session-5 leftovers: a failed bridge deletion keeps the network, and
``links`` aliases resolve for the linking container only."""

from __future__ import annotations

import os
import subprocess

import pytest

from composer.errors import NetworkError
from composer.network.netlink import Netlink
from composer.network.store import NetworkStore

pytestmark = pytest.mark.root


def test_a_bridge_that_cannot_be_deleted_keeps_its_network(manager, monkeypatch):
    """The state (and its rules) stay, so a later ``network rm``/``prune``/``down`` retries."""
    net = manager.create("sticky")
    real_delete = Netlink.delete_link

    def refuse(self, name):
        if name == net.bridge:
            raise NetworkError(f"delete link {name}: Device or resource busy")
        return real_delete(self, name)

    with monkeypatch.context() as patch:  # undone before the manager's teardown even when an assert fails
        patch.setattr(Netlink, "delete_link", refuse)
        with pytest.raises(NetworkError, match="error while removing network: network sticky id .*Device or resource busy"):
            manager.remove("sticky")
        assert NetworkStore(manager.store.dir).find("sticky") is not None
        assert os.path.exists(f"/sys/class/net/{net.bridge}")
        rules = subprocess.run(["nft", "list", "table", "inet", manager.store.table], capture_output=True, text=True)
        assert net.bridge in rules.stdout
        assert manager.prune() == [] and manager.store.find("sticky") is not None  # skipped, as docker's prune
    manager.remove("sticky")
    assert manager.store.find("sticky") is None
    assert not os.path.exists(f"/sys/class/net/{net.bridge}")


def test_a_link_alias_resolves_for_the_linking_container_only(manager, make_netns):
    """``--link db:database`` (compose ``links: [db:database]``): docker's embedded DNS answers the
    alias to the linking container; another container of the network gets NXDOMAIN."""
    from composer.network.dns import control
    from tests.integration.network.conftest import container_id

    net = manager.create("linked")
    web, db, other = make_netns(), make_netns(), make_netns()
    target = manager.connect("linked", container_id(), db.path, name="db")
    manager.connect("linked", container_id(), web.path, name="web", links=["db:database"])
    manager.connect("linked", container_id(), other.path, name="other")
    assert control.wait_listening(net.gateway)
    answer = web.run("nslookup", "database", net.gateway)
    assert target.ipv4 in answer.stdout, answer.stderr
    refused = other.run("nslookup", "database", net.gateway)
    assert refused.returncode != 0 and target.ipv4 not in refused.stdout
    assert target.ipv4 in other.run("nslookup", "db", net.gateway).stdout  # the name itself: everyone


def test_ip6_and_link_local_addresses(manager, make_netns):
    """``--ip6`` only on a network with IPv6 (docker's error otherwise, nothing created);
    ``--link-local-ip`` addresses land on the interface with docker's prefixes."""
    from tests.integration.network.conftest import container_id, free_prefix64

    p6 = free_prefix64()
    manager.create("six", ipv6=True, subnet6=f"{p6}:/64")
    manager.create("four")
    box, plain = make_netns(), make_netns()
    ep = manager.connect("six", container_id(), box.path, ipv6=f"{p6}:42",
                         link_local_ips=["169.254.9.9", "fe80::9:9"])
    assert ep.ipv6 == f"{p6}:42"
    shown = box.run("ip", "addr", "show", "eth0").stdout
    assert f"{p6}:42/64" in shown and "169.254.9.9/16" in shown and "fe80::9:9/64" in shown
    with pytest.raises(NetworkError, match="user specified IP address is supported only when connecting to networks "
                                           "with user configured subnets"):
        manager.connect("four", container_id(), plain.path, ipv6=f"{p6}:43")
    with pytest.raises(NetworkError, match=r"Invalid link-local IP address: \[nope\]"):
        manager.connect("four", container_id(), plain.path, link_local_ips=["nope"])
    assert manager.get("four").endpoints == {}
    assert "eth0" not in plain.run("ip", "link").stdout


@pytest.mark.slow
def test_run_and_connect_flags_link_ip6_and_link_local_ip(composer, busybox_image, manager):
    """``container run --link/--ip6/--link-local-ip`` and ``network connect --link/--ip6`` end to end."""
    from tests.integration.network.conftest import free_prefix64

    p6 = free_prefix64()
    manager.create("lk", ipv6=True, subnet6=f"{p6}:/64")
    manager.create("lk4")
    db = composer("container", "run", "-d", "--name", "lkdb", "--network", "lk", "busybox", "sleep", "30")
    assert db.returncode == 0, db.stderr
    try:
        db_ip = manager.get("lk").endpoints[db.stdout.strip()].ipv4
        script = "ip addr show eth0; nslookup database"
        run = composer("container", "run", "--rm", "--network", "lk", "--link", "lkdb:database", "--ip6", f"{p6}:77",
                       "--link-local-ip", "169.254.4.4", "busybox", "sh", "-c", script)
        assert run.returncode == 0, run.stderr
        assert f"{p6}:77/64" in run.stdout and "169.254.4.4/16" in run.stdout and db_ip in run.stdout
        unknown = composer("container", "run", "--rm", "--network", "lk", "--link", "nosuchbox:x", "busybox", "true")
        assert unknown.returncode == 0, unknown.stderr  # docker checks the target of legacy links only
        refused = composer("container", "run", "--rm", "--network", "lk4", "--ip6", f"{p6}:78", "busybox", "true")
        assert refused.returncode != 0 and "user configured subnets" in refused.stderr
        web = composer("container", "run", "-d", "--name", "lkweb", "--network", "lk4", "busybox", "sleep", "30")
        assert web.returncode == 0, web.stderr
        joined = composer("network", "connect", "--link", "lkdb:store", "--ip6", f"{p6}:79", "lk", "lkweb")
        assert joined.returncode == 0, joined.stderr
        looked = composer("container", "exec", "lkweb", "nslookup", "store")
        assert db_ip in looked.stdout, looked.stderr
        assert f"{p6}:79/64" in composer("container", "exec", "lkweb", "ip", "addr", "show", "eth1").stdout
        bad = composer("network", "connect", "--ip6", f"{p6}:80", "lk4", "lkdb")
        assert bad.returncode != 0 and "user configured subnets" in bad.stderr
        assert composer("network", "connect", "--link", "nosuchbox", "lk4", "lkdb").returncode == 0  # as docker
    finally:
        composer("container", "rm", "-f", "lkdb", "lkweb")


def test_the_fast_network_verbs_print_what_the_typer_commands_print(composer, manager):
    """``network create/ls/inspect/rm`` bypass typer (FAST_PATHS); same output and exit codes."""
    from typer.testing import CliRunner

    from composer.cli.app import build_app

    app = build_app(["composer.cli.networks"])

    def typer_run(*args: str):
        return CliRunner().invoke(app, list(args))

    created = composer("network", "create", "--label", "k=v", "-o", "com.docker.network.driver.mtu=1400", "fastnet")
    assert created.returncode == 0, created.stderr
    for args in (["network", "ls"], ["network", "ls", "--no-trunc", "-f", "label=k"], ["network", "ls", "-q"],
                 ["network", "ls", "--format", "json"], ["network", "inspect", "fastnet"]):
        fast, slow = composer(*args), typer_run(*args)
        assert (fast.returncode, fast.stdout) == (slow.exit_code, slow.stdout), args
    missing = composer("network", "inspect", "fastnet", "nope")
    assert missing.returncode == 1 and "network nope not found" in missing.stderr
    assert json_names(missing.stdout) == ["fastnet"]
    assert composer("network", "rm", "-f", "nope").returncode == 0
    removed = composer("network", "rm", "fastnet", "nope")
    assert removed.returncode == 1 and removed.stdout == "fastnet\n" and "network nope not found" in removed.stderr


def json_names(text: str) -> list[str]:
    import json

    return [item["Name"] for item in json.loads(text)]


@pytest.mark.slow
def test_a_link_on_the_default_bridge_is_a_hosts_entry(composer, busybox_image, manager):
    """docker's legacy links: the default bridge has no DNS, the alias is an /etc/hosts line."""
    db = composer("container", "run", "-d", "--name", "legacydb", "busybox", "sleep", "30")
    assert db.returncode == 0, db.stderr
    try:
        db_ip = manager.get("bridge").endpoints[db.stdout.strip()].ipv4
        run = composer("container", "run", "--rm", "--link", "legacydb:database", "busybox", "sh", "-c",
                       "cat /etc/hosts; ping -c 1 -W 2 database")
        assert run.returncode == 0, run.stderr
        assert f"{db_ip}\tdatabase {db.stdout.strip()[:12]} legacydb\n" in run.stdout
        missing = composer("container", "run", "--rm", "--link", "nosuchbox:x", "busybox", "true")
        assert missing.returncode != 0 and "could not get container for nosuchbox" in missing.stderr
    finally:
        composer("container", "rm", "-f", "legacydb")


@pytest.mark.slow
def test_container_port_as_docker(composer, busybox_image, manager):
    started = composer("container", "run", "-d", "--name", "porty", "-p", "80", "busybox", "sleep", "30")
    assert started.returncode == 0, started.stderr
    try:
        listed = composer("container", "port", "porty")
        assert listed.returncode == 0 and listed.stdout.startswith("80/tcp -> 0.0.0.0:"), listed.stderr
        host_port = listed.stdout.strip().rpartition(":")[2]
        assert composer("container", "port", "porty", "80").stdout == f"0.0.0.0:{host_port}\n"
        missing = composer("container", "port", "porty", "81")
        assert missing.returncode == 1 and "No public port '81' published for porty" in missing.stderr
    finally:
        composer("container", "rm", "-f", "porty")
