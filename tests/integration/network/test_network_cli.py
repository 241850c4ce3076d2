"""The ``composer network`` commands end to end (real bridges, private state root)."""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.network.conftest import free_prefix24

pytestmark = pytest.mark.root


def test_create_ls_inspect_connect_rm(composer, manager, make_netns):
    p, bridge = free_prefix24(), f"cmpt{os.urandom(3).hex()}"
    created = composer("network", "create", "--subnet", f"{p}.0/24", "--label", "team=net",
                       "-o", f"com.docker.network.bridge.name={bridge}", "front")
    assert created.returncode == 0, created.stderr
    net_id = created.stdout.strip()
    assert len(net_id) == 64
    listed = composer("network", "ls")
    assert listed.stdout.splitlines()[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert any(line.split()[:3] == [net_id[:12], "front", "bridge"] for line in listed.stdout.splitlines())
    assert composer("network", "ls", "-q", "--filter", "label=team=net").stdout.split() == [net_id[:12]]
    assert composer("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout == \
        "front bridge\nhost host\nnone null\n"  # docker's pre-defined networks too, by name
    shown_id, _, labels = composer("network", "inspect", "-f", "{{.Id}} {{json .Labels}}", "front").stdout.partition(" ")
    assert (shown_id, json.loads(labels)) == (net_id, {"team": "net"})

    inspected = json.loads(composer("network", "inspect", "front").stdout)[0]
    assert inspected["IPAM"]["Config"] == [{"Subnet": f"{p}.0/24", "Gateway": f"{p}.1"}]
    assert inspected["Options"]["com.docker.network.bridge.name"] == bridge
    assert inspected["Labels"] == {"team": "net"}
    ns = make_netns()
    joined = composer("network", "connect", "--netns", ns.path, "--ip", f"{p}.9", "front", "box")
    assert joined.returncode == 0, joined.stderr
    assert f"{p}.9/24" in ns.run("ip", "addr").stdout
    assert composer("network", "inspect", "front").stdout.count(f"{p}.9/24") == 1
    busy = composer("network", "rm", "front")
    assert busy.returncode == 1 and "active endpoints" in busy.stderr
    assert composer("network", "disconnect", "front", "box").returncode == 0
    removed = composer("network", "rm", "front")
    assert removed.returncode == 0 and removed.stdout.strip() == "front"


def test_errors_are_clear(composer, manager):
    missing = composer("network", "inspect", "nope")
    assert missing.returncode == 1 and "network nope not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = composer("network", "create", "--subnet", "10.0.0.300/24", "bad")
    assert (bad.returncode, bad.stderr) == (1, "Error response from daemon: Invalid subnet 10.0.0.300/24 : invalid CIDR "
                                                "address: 10.0.0.300/24\n")  # dockerd's words
    assert composer("network", "create", "dup").returncode == 0
    again = composer("network", "create", "dup")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_prune_removes_unused(composer, manager):
    assert composer("network", "create", "unused").returncode == 0
    for bad, words in (("bogus=1", "Invalid filter 'bogus'"),
                       ("until=xyz", 'failed to parse value as time or duration: "xyz"')):
        refused = composer("network", "prune", "-f", "--filter", bad)  # dockerd's refusal: nothing removed
        assert (refused.returncode, refused.stderr) == (1, f"Error response from daemon: {words}\n")
    assert composer("network", "prune", "-f", "--filter", "label=x", "--filter", "until=1h").stdout == ""
    pruned = composer("network", "prune", "-f")
    assert pruned.stdout.split() == ["Deleted", "Networks:", "unused"]
    assert composer("network", "ls", "-q", "--filter", "type=custom").stdout.strip() == ""


def test_names_that_could_reach_the_rule_set_are_refused(composer, manager):
    bad = composer("network", "create", "-o", 'com.docker.network.bridge.name=x"; flush ruleset', "evil")
    assert bad.returncode == 1 and "invalid bridge name" in bad.stderr
    assert composer("network", "create", "../../etc").returncode == 1
    assert composer("network", "ls", "-q", "--filter", "type=custom").stdout.strip() == ""


def test_connect_a_running_container_by_name(composer, manager, make_netns):
    """Until ``container run`` joins networks itself, connect finds a container's PID 1 netns."""
    import json
    import os

    from composer.engine.runtime.state import ContainerDir, claim_name

    ns = make_netns()
    sleeper = ns.spawn("sleep", "60")
    cid = os.urandom(32).hex()
    cdir = ContainerDir(cid)
    cdir.create()
    with open(cdir.config, "w") as handle:
        json.dump({"name": "sleepy"}, handle)
    cdir.write_state(Status="running", Running=True, Pid=sleeper.pid)
    claim_name("sleepy", cid)
    assert composer("network", "create", "pets").returncode == 0
    joined = composer("network", "connect", "--alias", "zzz", "pets", "sleepy")
    assert joined.returncode == 0, joined.stderr
    containers = json.loads(composer("network", "inspect", "pets").stdout)[0]["Containers"]
    assert containers[cid]["Name"] == "sleepy"
    assert "eth0" in ns.run("ip", "link").stdout
    assert composer("network", "disconnect", "pets", "sleepy").returncode == 0


def test_an_existing_host_interface_is_never_adopted(composer, manager):
    taken = composer("network", "create", "-o", "com.docker.network.bridge.name=lo", "grab")
    assert taken.returncode == 1 and "already exists on the host" in taken.stderr
    import subprocess

    lo = subprocess.run(["ip", "-4", "-o", "addr", "show", "lo"], capture_output=True, text=True).stdout
    assert lo.count("inet ") == 1  # no gateway address was added to the host's lo
    bad_mtu = composer("network", "create", "-o", "com.docker.network.driver.mtu=huge", "mtu")
    assert bad_mtu.returncode == 1 and "invalid com.docker.network.driver.mtu" in bad_mtu.stderr
