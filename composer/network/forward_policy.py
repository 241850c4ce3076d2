"""Accept rules for composer's bridges in the host's iptables FORWARD chain, when it drops.

nftables runs every base chain on a hook, and a packet dropped by any of them is gone: an
``accept`` in composer's own table does not save it from another table's drop. Docker sets the
policy of iptables' ``filter FORWARD`` chain to DROP when it starts (and ``br_netfilter``
makes even traffic between two containers of one bridge pass that chain), so on a host that runs
Docker too, composer's containers would lose their way out, published ports and, across the
bridge, each other. Like Docker's own rules for docker0, composer then inserts, at the top of
FORWARD, ``-i BRIDGE -j ACCEPT`` and ``-o BRIDGE -j ACCEPT`` for each of its bridges (isolation
and internal networks stay enforced by composer's table, whose drops still win), through the
``iptables``/``ip6tables`` tools so that whichever backend the host uses (nft or legacy) gets
them. They are removed with the bridges, or as soon as the policy is no longer DROP.

The rules are synchronized when the set of bridges changes, on ``cleanup``, and when a container
connects while the policies differ from the ones seen at the last synchronization: a policy that
turns DROP later (Docker started afterwards) is noticed by the next container start. That check
reads the two chains' policies straight from nf_tables over netlink (``kernel_policies``, well
under a millisecond, where ``iptables -S`` is a process of 5-20 ms); iptables' nft backend keeps
FORWARD there. With the legacy backend (x_tables, no nf_tables chain) the check sees nothing and
only network changes and ``cleanup`` synchronize.
"""

from __future__ import annotations

import os

from composer.network import netlink

TOOLS = ("iptables", "ip6tables")
COMMENT = "composer"
# nf_tables over netlink (linux/netfilter/nfnetlink.h, nf_tables.h)
NETLINK_NETFILTER, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETCHAIN = 12, 10, 4
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, NFTA_CHAIN_POLICY = 1, 3, 5
NFPROTO = {"iptables": 2, "ip6tables": 10}  # NFPROTO_IPV4, NFPROTO_IPV6
VERDICTS = {0: "DROP", 1: "ACCEPT"}  # NF_DROP, NF_ACCEPT


def kernel_policies() -> dict[str, str | None]:
    """The policy of each tool's ``filter FORWARD`` chain as nf_tables holds it (None: no such
    chain, e.g. the legacy backend or no rules ever loaded), read in one netlink round trip."""
    import _socket

    try:
        sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, NETLINK_NETFILTER)
    except OSError:
        return dict.fromkeys(TOOLS)
    with netlink.Netlink(sock) as nl:
        requests = [((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, 0,
                     bytes((NFPROTO[tool], 0, 0, 0)) + netlink.attr_str(NFTA_CHAIN_TABLE, "filter")
                     + netlink.attr_str(NFTA_CHAIN_NAME, "FORWARD")) for tool in TOOLS]
        results = nl.batch(requests)
    return {tool: _chain_policy(answers) for tool, (answers, _code) in zip(TOOLS, results)}


def _chain_policy(answers: list[bytes]) -> str | None:
    for payload in answers:
        for kind, value in netlink.parse_attrs(payload[4:]):  # after the nfgenmsg header
            if kind == NFTA_CHAIN_POLICY and len(value) == 4:
                return VERDICTS.get(int.from_bytes(value, "big"))
    return None


def _listing(tool: str) -> list[str]:
    """``TOOL -S FORWARD`` lines of the filter table ([] when the tool is missing or fails)."""
    import shutil
    import subprocess

    if shutil.which(tool) is None:
        return []
    result = subprocess.run([tool, "-w", "-t", "filter", "-S", "FORWARD"], capture_output=True, text=True)
    return result.stdout.splitlines()


def policy(tool: str, listing: list[str] | None = None) -> str | None:
    """The policy of ``tool``'s filter FORWARD chain (ACCEPT/DROP), None when it cannot be read."""
    for line in _listing(tool) if listing is None else listing:
        words = line.split()
        if words[:2] == ["-P", "FORWARD"] and len(words) > 2:
            return words[2]
    return None


def stale_rules(listing: list[str]) -> list[list[str]]:
    """composer's accept rules (by their comment) naming an interface that no longer exists: left
    by a state root deleted without teardown, whose bridges ``orphans.sweep_abandoned`` removed."""
    stale = []
    for line in listing:
        words = line.split()
        if words[:2] != ["-A", "FORWARD"] or f"--comment {COMMENT} " not in f"{line} ":
            continue
        if len(words) > 3 and words[2] in ("-i", "-o") and not os.path.exists(f"/sys/class/net/{words[3]}"):
            stale.append(words[2:])
    return stale


def _rules(bridge: str) -> list[list[str]]:
    tail = ["-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"]
    return [["-i", bridge, *tail], ["-o", bridge, *tail]]


def _change(tool: str, action: str, rule: list[str]) -> bool:
    import subprocess

    spot = ["1"] if action == "-I" else []
    result = subprocess.run([tool, "-w", "-t", "filter", action, "FORWARD", *spot, *rule], capture_output=True)
    return result.returncode == 0


def sync(bridges: list[str], added: dict[str, list[str]]) -> dict[str, list[str]]:
    """Make the accept rules match ``bridges`` where a FORWARD policy drops, given the bridges
    that have rules now (``added``, per tool); return the bridges that have rules afterwards."""
    now: dict[str, list[str]] = {}
    for tool in TOOLS:
        listing = _listing(tool)
        for rule in stale_rules(listing):
            _change(tool, "-D", rule)
        have = set(added.get(tool, []))
        want = set(bridges) if bridges and policy(tool, listing) == "DROP" else set()
        for bridge in sorted(have - want):
            for rule in _rules(bridge):
                _change(tool, "-D", rule)  # absent already (a flush, a reboot): fine
        kept = have & want
        for bridge in sorted(want - have):
            if all(_change(tool, "-I", rule) for rule in _rules(bridge)):
                kept.add(bridge)
            else:  # never leave half a pair behind
                for rule in _rules(bridge):
                    _change(tool, "-D", rule)
        if kept:
            now[tool] = sorted(kept)
    return now
