"""``container run`` on the default bridge network (no ``--network``), ``-P``, end to end."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.integration.network.conftest import wait_port

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_run_without_network_joins_the_default_bridge_with_egress(composer, busybox_image, manager, outside,
                                                                  webroot):
    outside.ns.spawn("httpd", "-f", "-p", "8080", "-h", str(webroot))
    wait_port(outside.ns, 8080)
    script = f"ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf; wget -q -O- http://{outside.ip}:8080/"
    result = composer("container", "run", "--rm", "-h", "plain", "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    net = manager.get("bridge")
    assert net.default and net.bridge == manager.store.default_bridge and net.endpoints == {}
    assert f"inet {net.subnet.rsplit('.', 2)[0]}." in result.stdout and f"default via {net.gateway}" in result.stdout
    assert f"nameserver {net.gateway}" not in result.stdout  # no name resolution, as docker's bridge
    assert result.stdout.endswith("hello from composer\n")
    shown = json.loads(composer("network", "inspect", "bridge").stdout)[0]
    assert shown["Options"]["com.docker.network.bridge.name"] == manager.store.default_bridge


def test_network_none_makes_no_bridge(composer, busybox_image, manager):
    result = composer("container", "run", "--rm", "--network", "none", "busybox", "true")
    assert result.returncode == 0, result.stderr
    assert manager.list() == []


def test_publish_all_exposes_ports_on_random_host_ports(composer, busybox_image, manager, webroot):
    started = composer("container", "run", "-d", "-P", "--expose", "80", "--expose", "7000-7001/udp",
                       "-p", "7001:7001/udp", "-v", f"{webroot}:/www:ro", "busybox", "httpd", "-f", "-p", "80",
                       "-h", "/www")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        listed = dict(line.split(" -> ") for line in composer("container", "port", cid).stdout.splitlines())
        assert set(listed) == {"80/tcp", "7000/udp", "7001/udp"}, listed
        assert listed["7001/udp"].endswith(":7001")  # an explicit -p wins over -P
        port = int(listed["80/tcp"].rsplit(":", 1)[1])
        assert 32768 <= port <= 60999
        for _ in range(50):  # httpd may still be starting
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as answer:
                    assert answer.read() == b"hello from composer\n"
                break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            pytest.fail("the -P port never answered")
    finally:
        composer("container", "rm", "-f", cid)


def test_inspect_shows_addresses_and_ports_as_docker(composer, busybox_image, manager):
    started = composer("container", "run", "-d", "--name", "shown", "-p", "127.0.0.1::80", "busybox", "sleep", "30")
    assert started.returncode == 0, started.stderr
    try:
        info = json.loads(composer("container", "inspect", "shown").stdout)[0]
        settings, net = info["NetworkSettings"], manager.get("bridge")
        endpoint = settings["Networks"]["bridge"]
        assert settings["IPAddress"] == endpoint["IPAddress"] and endpoint["IPAddress"].startswith(
            net.subnet.rsplit(".", 2)[0])
        assert endpoint["Gateway"] == settings["Gateway"] == net.gateway and endpoint["NetworkID"] == net.id
        [binding] = settings["Ports"]["80/tcp"]
        assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) > 0
        assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        address = composer("container", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "shown").stdout.strip()
        assert address == endpoint["IPAddress"]
    finally:
        composer("container", "rm", "-f", "shown")
    stopped = composer("container", "create", "--name", "idle", "busybox", "true")
    assert stopped.returncode == 0, stopped.stderr
    info = json.loads(composer("container", "inspect", "idle").stdout)[0]
    assert info["NetworkSettings"]["IPAddress"] == "" and info["NetworkSettings"]["Ports"] == {}
    composer("container", "rm", "idle")


def test_network_connect_is_kept_across_restarts_and_works_on_stopped_containers(composer, busybox_image, manager):
    """docker keeps ``network connect`` in the container: a running one joins at once and again at
    every start; a created one joins when it starts; disconnect is for good."""
    manager.create("extra")
    started = composer("container", "run", "-d", "--name", "keeper", "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    created = composer("container", "create", "--name", "later", "busybox", "sleep", "60")
    assert created.returncode == 0, created.stderr
    try:
        assert composer("network", "connect", "--alias", "kk", "extra", "keeper").returncode == 0
        assert "eth1" in composer("container", "exec", "keeper", "ip", "-o", "link").stdout
        again = composer("network", "connect", "extra", "keeper")
        assert again.returncode == 1 and "already exists in network extra" in again.stderr
        assert composer("container", "restart", "-t", "0", "keeper").returncode == 0
        assert "eth1" in composer("container", "exec", "keeper", "ip", "-o", "link").stdout
        assert manager.get("extra").endpoints[started.stdout.strip()].aliases == ["kk"]

        assert composer("network", "connect", "extra", "later").returncode == 0
        assert created.stdout.strip() not in manager.get("extra").endpoints  # not running: nothing yet
        assert composer("container", "start", "later").returncode == 0
        assert created.stdout.strip() in manager.get("extra").endpoints

        assert composer("network", "disconnect", "extra", "keeper").returncode == 0
        assert "eth1" not in composer("container", "exec", "keeper", "ip", "-o", "link").stdout
        assert composer("container", "restart", "-t", "0", "keeper").returncode == 0
        assert started.stdout.strip() not in manager.get("extra").endpoints
    finally:
        composer("container", "rm", "-f", "keeper", "later")


def test_run_network_alias_and_ip_on_a_user_network(composer, busybox_image, manager):
    from tests.integration.network.conftest import free_prefix24

    prefix = free_prefix24()
    manager.create("named", subnet=f"{prefix}.0/24")
    started = composer("container", "run", "-d", "--network", "named", "--network-alias", "one",
                       "--network-alias", "two", "--ip", f"{prefix}.77", "busybox", "sleep", "30")
    assert started.returncode == 0, started.stderr
    try:
        endpoint = manager.get("named").endpoints[started.stdout.strip()]
        assert endpoint.aliases == ["one", "two"] and endpoint.ipv4 == f"{prefix}.77"
        assert endpoint.ifname == "eth0"  # one join, not the network twice
    finally:
        composer("container", "rm", "-f", started.stdout.strip())
    refused = composer("container", "run", "--rm", "--network-alias", "x", "busybox", "true")
    assert refused.returncode != 0 and "user defined networks" in refused.stderr


def test_network_connect_survives_a_restart_policy_restart(composer, busybox_image, manager):
    """The supervisor restarting the container (its restart policy) joins the connected network
    again: it reloads the recorded networks after each life."""
    import time

    manager.create("again")
    script = "while [ ! -e /tmp/stop ]; do sleep 0.1; done; rm /tmp/stop; exit 3"
    started = composer("container", "run", "-d", "--restart", "on-failure", "busybox", "sh", "-c", script)
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        assert composer("network", "connect", "again", cid).returncode == 0
        first = manager.get("again").endpoints[cid].endpoint_id
        assert composer("container", "exec", cid, "touch", "/tmp/stop").returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = json.loads(composer("container", "inspect", cid).stdout)[0]
            endpoint = manager.get("again").endpoints.get(cid)
            if info["RestartCount"] >= 1 and info["State"]["Running"] and endpoint and endpoint.endpoint_id != first:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the restarted container did not join the connected network again")
    finally:
        composer("container", "rm", "-f", cid)
