"""The host side of the state: the nftables table re-rendered from the networks, forwarding
claimed on the host's uplinks, and iptables FORWARD accept rules when the host's policy drops."""

from __future__ import annotations

import zlib

from composer.network import firewall
from composer.network.model import Network
from composer.network.store import NetworkStore


def apply_rules(store: NetworkStore, force: bool = False, networks: list[Network] | None = None) -> None:
    """Re-render the nftables table from state (``networks``: as the caller, holding the lock,
    read and saved them); skipped when nothing in it would change."""
    networks = store.all() if networks is None else networks
    previous = store.host_state()
    host = dict(previous)
    _sync_forward_policy(store, host, sorted(net.bridge for net in networks), force)
    if networks:
        ours = {net.bridge for net in networks}
        _claim_uplinks(store, host, "ipv4", ours, force)
        if any(net.subnet6 and not net.internal for net in networks):
            _claim_uplinks(store, host, "ipv6", ours, force)
        elif host.pop("uplinks6", None) is not None:
            host.pop("routes6", None)
            _release_uplinks(store, "ipv6")
        script = firewall.render(store.table, networks, host["uplinks"], host.get("uplinks6", []),
                                 owner=store.dir)
        host["rules"] = f"{zlib.crc32(script.encode()):08x}-{len(script)}"
        if host != previous:
            store.save_host_state(host)  # before nft: a failure must not lose what we changed
        if force or host["rules"] != previous.get("rules"):
            firewall.nft(script)
        return
    for key, family in (("uplinks", "ipv4"), ("uplinks6", "ipv6")):
        if host.get(key) is not None:
            _release_uplinks(store, family)
    firewall.remove(store.table)
    kept = any(host.get("forward_rules", {}).values())  # the root's accept rules outlive its last network
    store.save_host_state({key: host[key] for key in FORWARD_KEYS if key in host} if kept else {})


def _claim_uplinks(store: NetworkStore, host: dict, family: str, ours: set[str], force: bool) -> None:
    """Claim forwarding on the host's uplinks (``uplinks.claim``, under the host-wide lock)
    only when the candidates changed since the last claim (the routed interfaces other than
    composer bridges, from one read of /proc/net/route: a VPN came up, a link went), for the
    first network of a family, or on ``cleanup``: not on every container start, nor when any
    state root's bridge comes or goes."""
    key, seen = ("uplinks", "routes") if family == "ipv4" else ("uplinks6", "routes6")
    routes = [name for name in firewall.routed_interfaces(family)
              if name not in ours and not name.startswith("cm") and name != "composer0"]
    if force or key not in host or host.get(seen) != routes:
        from composer.network import uplinks

        host[key] = uplinks.claim(store.dir, ours, family, host.get(key, []))
        host[seen] = routes


def _release_uplinks(store: NetworkStore, family: str) -> None:
    from composer.network import uplinks

    uplinks.release(store.dir, family)


FORWARD_KEYS = ("forward_rules", "forward_wanted", "forward_policies")  # host state kept without networks


def _sync_forward_policy(store: NetworkStore, host: dict, bridges: list[str], force: bool) -> None:
    """iptables FORWARD accept rules for this root's bridges when the host's policy drops (see
    ``forward_policy``): the root's patterns from its first network on, kept when its last one
    goes (removed by ``cleanup`` then); synchronized when they or the chains' policies differ
    from those of the last synchronization (read from nf_tables, cheap enough for every
    container start); recorded in ``host`` before and after."""
    from composer.network import forward_policy

    legacy = host.pop("forward_accept", None)  # per-bridge rules of an earlier version
    host.pop("forward_bridges", None)
    if legacy:
        store.save_host_state(host)
        forward_policy.sync([], legacy)
    if not bridges and not force:
        return
    wanted = forward_policy.patterns(store.bridge_prefix, store.default_bridge) if bridges else []
    policies = forward_policy.kernel_policies()
    if not force and host.get("forward_wanted") == wanted and host.get("forward_policies") == policies:
        return
    added = host.get("forward_rules", {})
    if not force and not any(added.values()) and all(policy == "ACCEPT" for policy in policies.values()):
        host["forward_wanted"], host["forward_policies"] = wanted, policies  # nothing to add or remove:
        return  # no iptables processes (stale rules of deleted roots wait for ``cleanup``)
    host["forward_rules"] = {tool: sorted(set(added.get(tool, [])) | set(wanted)) for tool in forward_policy.TOOLS}
    store.save_host_state(host)  # what may exist if we die half-way
    host["forward_rules"] = forward_policy.sync(wanted, added, forward_policy.comment_for(store.dir))
    host["forward_wanted"], host["forward_policies"] = wanted, policies
    store.save_host_state(host)
