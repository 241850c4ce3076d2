"""The FORWARD accept-rule bookkeeping, with the iptables calls recorded instead of run."""

from __future__ import annotations

import pytest

from composer.network import forward_policy


@pytest.fixture
def recorded(monkeypatch):
    """Policies per tool and the (tool, action, interface flag, bridge) calls made."""
    state = {"policies": {"iptables": "DROP", "ip6tables": "ACCEPT"}, "calls": [], "fail": set()}

    def change(tool, action, rule):
        state["calls"].append((tool, action, rule[0], rule[1]))
        return (tool, rule[1]) not in state["fail"]

    monkeypatch.setattr(forward_policy, "_listing", lambda tool: [f"-P FORWARD {state['policies'][tool]}"])
    monkeypatch.setattr(forward_policy, "_change", change)
    return state


def test_rules_only_where_the_policy_drops(recorded):
    assert forward_policy.sync(["br1"], {}) == {"iptables": ["br1"]}
    assert recorded["calls"] == [("iptables", "-I", "-i", "br1"), ("iptables", "-I", "-o", "br1")]


def test_rules_follow_the_bridges_and_the_policy(recorded):
    now = forward_policy.sync(["br1", "br2"], {"iptables": ["br1", "gone"]})
    assert now == {"iptables": ["br1", "br2"]}
    assert ("iptables", "-D", "-i", "gone") in recorded["calls"]
    assert ("iptables", "-I", "-i", "br1") not in recorded["calls"]  # kept, not inserted twice
    recorded["policies"]["iptables"] = "ACCEPT"
    assert forward_policy.sync(["br1", "br2"], now) == {}
    assert ("iptables", "-D", "-o", "br2") in recorded["calls"]


def test_half_inserted_pair_is_taken_back(recorded):
    recorded["fail"].add(("iptables", "br1"))
    assert forward_policy.sync(["br1"], {}) == {}
    assert recorded["calls"][-2:] == [("iptables", "-D", "-i", "br1"), ("iptables", "-D", "-o", "br1")]


def test_stale_rules_name_vanished_interfaces():
    listing = ["-P FORWARD DROP", "-A FORWARD -j DOCKER-USER",
               "-A FORWARD -i lo -m comment --comment composer -j ACCEPT",
               "-A FORWARD -o cmgone-x1 -m comment --comment composer -j ACCEPT",
               "-A FORWARD -o cmgone-x2 -m comment --comment other -j ACCEPT"]
    assert forward_policy.stale_rules(listing) == [["-o", "cmgone-x1", "-m", "comment", "--comment", "composer",
                                                     "-j", "ACCEPT"]]


def test_stale_rules_of_a_deleted_root_and_wildcards_of_old_comments(tmp_path):
    live, gone = tmp_path / "live" / "networks", tmp_path / "gone" / "networks"
    live.mkdir(parents=True)
    listing = [f'-A FORWARD -i cmaaaa-+ -m comment --comment "composer {live}" -j ACCEPT',
               f'-A FORWARD -o cmbbbb-+ -m comment --comment "composer {gone}" -j ACCEPT',
               "-A FORWARD -i cm-+ -m comment --comment composer -j ACCEPT"]  # a wildcard: never "gone"
    assert forward_policy.stale_rules(listing) == [["-o", "cmbbbb-+", "-m", "comment", "--comment",
                                                     f"composer {gone}", "-j", "ACCEPT"]]


def test_a_root_s_patterns_and_comment():
    assert forward_policy.patterns("cm-", "composer0") == ["cm-+", "composer0"]
    assert forward_policy.patterns("cm1a2b-", "cm1a2b-default") == ["cm1a2b-+"]
    assert forward_policy.comment_for("/var/lib/composer/networks") == "composer /var/lib/composer/networks"
    assert forward_policy.comment_for("/" + "x" * 300) == "composer"  # iptables keeps 255 bytes


def test_no_forward_chain_anywhere_reads_as_accept(monkeypatch, tmp_path):
    """No nf_tables FORWARD chain and no legacy filter table: nothing can drop."""
    monkeypatch.setattr(forward_policy, "_chain_policy", lambda answers: None)
    monkeypatch.setattr(forward_policy, "LEGACY_TABLES", {"iptables": str(tmp_path / "none"),
                                                          "ip6tables": str(tmp_path / "names")})
    (tmp_path / "names").write_text("filter\nnat\n")
    assert forward_policy.kernel_policies() == {"iptables": "ACCEPT", "ip6tables": None}


def test_chain_policy_read_from_an_nf_tables_answer():
    from composer.network import netlink

    def answer(policy: int | None) -> bytes:
        attrs = netlink.attr_str(forward_policy.NFTA_CHAIN_TABLE, "filter")
        if policy is not None:
            attrs += netlink.attr(forward_policy.NFTA_CHAIN_POLICY, policy.to_bytes(4, "big"))
        return bytes((2, 0, 0, 0)) + attrs  # nfgenmsg, then the chain's attributes

    assert forward_policy._chain_policy([answer(0)]) == "DROP"
    assert forward_policy._chain_policy([answer(1)]) == "ACCEPT"
    assert forward_policy._chain_policy([answer(None)]) is None  # a chain without policy
    assert forward_policy._chain_policy([]) is None  # no such chain (ENOENT)


def test_kernel_policies_are_cheap_and_well_formed():
    policies = forward_policy.kernel_policies()
    assert set(policies) == set(forward_policy.TOOLS)
    assert all(value in ("ACCEPT", "DROP", None) for value in policies.values())
