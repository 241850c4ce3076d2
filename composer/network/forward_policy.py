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

The rules name a state root's bridges by its prefix (``-i cm<tag>-+``, plus ``composer0``, the
default root's default bridge), carry the root's directory in their comment, and are inserted with
the root's first network and kept while the root lives: creating or removing a network then runs
no iptables process (each is a 5-20 ms process, and the dozen of a network's own pair made a
one-service ``down`` 100 ms slower on a host running Docker). ``cleanup`` with no network left
(``network prune``, a reset) removes them; those of a deleted root are stale and go at the next
synchronization of any root.

The rules are synchronized when a root's wanted patterns change, on ``cleanup``, and when a
container connects while the policies differ from the ones seen at the last synchronization: a
policy that turns DROP later (Docker started afterwards) is noticed by the next container start.
That check reads the two chains' policies straight from nf_tables over netlink
(``kernel_policies``, well under a millisecond, where ``iptables -S`` is a process of 5-20 ms);
iptables' nft backend keeps FORWARD there. With the legacy backend (x_tables, no nf_tables chain)
the check sees nothing and only network changes and ``cleanup`` synchronize; with neither (no
FORWARD chain anywhere) nothing can drop: ACCEPT.
"""

from __future__ import annotations

import os

from composer.network import netlink

TOOLS = ("iptables", "ip6tables")
COMMENT = "composer"  # (alone: the per-bridge rules of earlier versions; now "composer ROOT/networks")
LEGACY_TABLES = {"iptables": "/proc/net/ip_tables_names", "ip6tables": "/proc/net/ip6_tables_names"}
# nf_tables over netlink (linux/netfilter/nfnetlink.h, nf_tables.h)
NFT_MSG_GETCHAIN = 4
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, NFTA_CHAIN_POLICY = 1, 3, 5
NFPROTO = {"iptables": 2, "ip6tables": 10}  # NFPROTO_IPV4, NFPROTO_IPV6
VERDICTS = {0: "DROP", 1: "ACCEPT"}  # NF_DROP, NF_ACCEPT


def kernel_policies() -> dict[str, str | None]:
    """The policy of each tool's ``filter FORWARD`` chain as nf_tables holds it (None: no such
    chain, e.g. the legacy backend or no rules ever loaded), read in one netlink round trip."""
    results = netlink.nftables_batch([(NFT_MSG_GETCHAIN, 0, bytes((NFPROTO[tool], 0, 0, 0))
                                       + netlink.attr_str(NFTA_CHAIN_TABLE, "filter")
                                       + netlink.attr_str(NFTA_CHAIN_NAME, "FORWARD")) for tool in TOOLS])
    if results is None:
        return dict.fromkeys(TOOLS)
    policies = {tool: _chain_policy(answers) for tool, (answers, _code) in zip(TOOLS, results)}
    return {tool: "ACCEPT" if policy is None and not _legacy_filter(tool) else policy
            for tool, policy in policies.items()}


def _legacy_filter(tool: str) -> bool:
    """Whether x_tables (iptables-legacy) has a ``filter`` table loaded for ``tool``'s family."""
    try:
        with open(LEGACY_TABLES[tool]) as handle:
            return "filter" in handle.read().split()
    except OSError:
        return False


def patterns(bridge_prefix: str, default_bridge: str) -> list[str]:
    """The interface names of a state root's bridges, as iptables matches them."""
    return sorted({bridge_prefix + "+"} | (set() if default_bridge.startswith(bridge_prefix) else {default_bridge}))


def comment_for(root: str) -> str:
    """The comment of a root's rules (its directory, when iptables' 256 bytes hold it)."""
    from composer.network.firewall import owner_comment

    return owner_comment(root, limit=256) or COMMENT


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
    """composer's accept rules whose state root is gone (their comment names its directory), or,
    for the per-bridge rules of earlier versions, whose interface no longer exists: left by a
    state root deleted without teardown, whose bridges ``orphans.sweep_abandoned`` removed."""
    import shlex

    stale = []
    for line in listing:
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if words[:2] != ["-A", "FORWARD"] or "--comment" not in words or len(words) < 4:
            continue
        comment = words[words.index("--comment") + 1] if words.index("--comment") + 1 < len(words) else ""
        interface = words[3]
        if comment == COMMENT:
            gone = not interface.endswith("+") and not os.path.exists(f"/sys/class/net/{interface}")
        else:
            gone = comment.startswith(COMMENT + " /") and not os.path.isdir(comment[len(COMMENT) + 1:])
        if words[2] in ("-i", "-o") and gone:
            stale.append(words[2:])
    return stale


def remove_stale() -> None:
    """Delete the accept rules of deleted state roots (``stale_rules``) from both tools' chains."""
    for tool in TOOLS:
        for rule in stale_rules(_listing(tool)):
            _change(tool, "-D", rule)


def _rules(interface: str, comment: str = COMMENT) -> list[list[str]]:
    tail = ["-m", "comment", "--comment", comment, "-j", "ACCEPT"]
    return [["-i", interface, *tail], ["-o", interface, *tail]]


def _change(tool: str, action: str, rule: list[str]) -> bool:
    import subprocess

    spot = ["1"] if action == "-I" else []
    result = subprocess.run([tool, "-w", "-t", "filter", action, "FORWARD", *spot, *rule], capture_output=True)
    return result.returncode == 0


def sync(interfaces: list[str], added: dict[str, list[str]], comment: str = COMMENT) -> dict[str, list[str]]:
    """Make the accept rules (with ``comment``) match ``interfaces`` where a FORWARD policy drops,
    given the interfaces that have rules now (``added``, per tool); return those that have rules
    afterwards. Stale rules of deleted roots are removed on the way."""
    now: dict[str, list[str]] = {}
    for tool in TOOLS:
        listing = _listing(tool)
        for rule in stale_rules(listing):
            _change(tool, "-D", rule)
        have = set(added.get(tool, []))
        want = set(interfaces) if interfaces and policy(tool, listing) == "DROP" else set()
        for interface in sorted(have - want):
            for rule in _rules(interface, comment):
                _change(tool, "-D", rule)  # absent already (a flush, a reboot): fine
        kept = have & want
        for interface in sorted(want - have):
            if all(_change(tool, "-I", rule) for rule in _rules(interface, comment)):
                kept.add(interface)
            else:  # never leave half a pair behind
                for rule in _rules(interface, comment):
                    _change(tool, "-D", rule)
        if kept:
            now[tool] = sorted(kept)
    return now
