"""The host's own firewall and forwarding: iptables FORWARD policy DROP, IPv6 egress."""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.network.conftest import container_id, free_prefix64, wait_port

pytestmark = pytest.mark.root

TOOLS = ("iptables", "ip6tables")


def _forward_rules(tool: str) -> str:
    return subprocess.run([tool, "-w", "-S", "FORWARD"], capture_output=True, text=True, check=True).stdout


def _policy(tool: str) -> str:
    return _forward_rules(tool).splitlines()[0].split()[2]


def _accepts(manager, tool: str) -> bool:
    """Whether the root's accept pair (its bridges' prefix, its directory in the comment) is there."""
    comment = f'--comment "composer {manager.store.dir}"'
    rules = _forward_rules(tool)
    return all(f"-A FORWARD {flag} {manager.store.bridge_prefix}+ -m comment {comment} -j ACCEPT" in rules
               for flag in ("-i", "-o"))


@pytest.fixture
def forward_drop():
    """The host's FORWARD policies set to DROP (as Docker leaves them) for the test, then restored."""
    before = {tool: _policy(tool) for tool in TOOLS}
    try:
        for tool in TOOLS:
            subprocess.run([tool, "-w", "-P", "FORWARD", "DROP"], check=True)
        yield
    finally:
        for tool, policy in before.items():
            subprocess.run([tool, "-w", "-P", "FORWARD", policy], check=True)


def test_forward_policy_drop_does_not_cut_our_traffic(manager, make_netns, outside, webroot, forward_drop):
    net = manager.create("guarded", ipv6=True, subnet6=f"{free_prefix64()}:/64")
    one, two = make_netns(), make_netns()
    first = manager.connect("guarded", container_id(), one.path, name="one")
    manager.connect("guarded", container_id(), two.path, name="two")
    for tool in TOOLS:
        assert _accepts(manager, tool), _forward_rules(tool)
    outside.ns.spawn("httpd", "-f", "-p", "8080", "-h", str(webroot))
    one.spawn("httpd", "-f", "-p", "8000", "-h", str(webroot))
    wait_port(outside.ns, 8080)
    wait_port(one, 8000)
    fetched = one.run("wget", "-q", "-O-", f"http://{outside.ip}:8080/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr
    across = two.run("wget", "-q", "-O-", f"http://{first.ipv4}:8000/")  # br_netfilter: FORWARD too
    assert across.stdout == "hello from composer\n", across.stderr
    manager.reset()
    for tool in TOOLS:
        assert manager.store.dir not in _forward_rules(tool)


def test_rules_follow_the_policy_on_cleanup(manager, make_netns):
    """A policy that turns DROP after the network exists (Docker started later) is seen by cleanup;
    back to ACCEPT, the rules go too."""
    net = manager.create("later")
    before = _policy("iptables")
    try:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)
        manager.cleanup()
        assert _accepts(manager, "iptables")
    finally:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", before], check=True)
    manager.cleanup()
    assert manager.store.dir not in _forward_rules("iptables")


def test_ipv6_egress_through_nat_with_per_interface_forwarding(manager, make_netns, outside, webroot):
    if not __import__("os").path.exists("/proc/sys/net/ipv6/conf/lo/force_forwarding"):
        pytest.skip("the kernel has no per-interface IPv6 forwarding (force_forwarding, Linux 6.17+)")
    net = manager.create("six-out", ipv6=True, subnet6=f"{free_prefix64()}:/64")
    inside = make_netns()
    manager.connect("six-out", container_id(), inside.path, name="inside")
    with open("/proc/sys/net/ipv6/conf/all/forwarding") as handle:
        assert handle.read().strip() == "0"  # the host as a whole still does not forward IPv6
    with open(f"/proc/sys/net/ipv6/conf/{net.bridge}/force_forwarding") as handle:
        assert handle.read().strip() == "1"
    outside.ns.spawn("httpd", "-f", "-p", "[::]:8080", "-h", str(webroot))
    wait_port(outside.ns, 8080)
    fetched = inside.run("wget", "-q", "-O-", f"http://[{outside.ip6}]:8080/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr


def test_ipv6_published_port_reachable_from_another_machine(manager, make_netns, outside, webroot):
    """The 'outside' namespace reaches the host's IPv6 address on its link: forwarded from that
    uplink into the bridge, which needs the uplink's per-interface forwarding too."""
    if not __import__("os").path.exists("/proc/sys/net/ipv6/conf/lo/force_forwarding"):
        pytest.skip("the kernel has no per-interface IPv6 forwarding (force_forwarding, Linux 6.17+)")
    from composer.network.ports import parse_publish

    manager.create("six-in", ipv6=True, subnet6=f"{free_prefix64()}:/64")
    inside = make_netns()
    import socket

    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::", 0))
        port = probe.getsockname()[1]
    manager.connect("six-in", container_id(), inside.path, ports=parse_publish(f"[::]:{port}:80"))
    inside.spawn("httpd", "-f", "-p", "[::]:80", "-h", str(webroot))
    wait_port(inside, 80)
    fetched = outside.ns.run("wget", "-q", "-O-", f"http://[{outside.host_ip6}]:{port}/")
    assert fetched.stdout == "hello from composer\n", fetched.stderr


def test_a_policy_turned_drop_later_is_seen_by_the_next_container_start(manager, make_netns):
    """Docker started after the network: the next connect (not only cleanup) adds the accept
    rules, from the policies read over nf_tables netlink; the one after the policy is back
    removes them."""
    net = manager.create("late")
    before = _policy("iptables")
    try:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)
        manager.connect("late", container_id(), make_netns().path)
        assert _accepts(manager, "iptables")
    finally:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", before], check=True)
    manager.connect("late", container_id(), make_netns().path)
    assert _accepts(manager, "iptables") == (before == "DROP")


def test_networks_come_and_go_without_iptables_once_the_root_has_its_rules(manager, forward_drop):
    """The root's wildcard pair comes with its first network and stays when the last one goes:
    the next networks' creation and removal run no iptables process; cleanup with no network
    left removes the pair; a deleted root's pair is stale and goes at the next synchronization."""
    from composer.network import forward_policy

    manager.remove(manager.create("first").name)
    assert all(_accepts(manager, tool) for tool in TOOLS)
    calls: list[tuple] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("_listing", "_change"):
            original = getattr(forward_policy, name)
            patch.setattr(forward_policy, name, lambda *args, _original=original: calls.append(args) or _original(*args))
        manager.remove(manager.create("second").name)
        manager.remove(manager.create("third").name)
    assert calls == []
    manager.cleanup()
    assert not any(_accepts(manager, tool) for tool in TOOLS)
