"""NAT, isolation and published ports in ONE nftables table, rendered from state and swapped whole.

``render()`` is pure: networks in, ``nft -f`` text out. ``apply()`` replaces the table atomically
(one transaction: create-if-missing, delete, define) so the kernel never sees a half-written rule
set, and deleting composer's rules is deleting its table. See docs/networking.md for the why.

Host changes besides the table (undone by ``restore_host`` when the last network goes):
- ``net.ipv4.conf.<bridge>.forwarding=1`` and ``route_localnet=1`` on our bridges (they vanish
  with the bridges);
- ``net.ipv4.conf.<uplink>.forwarding=1`` on routed host interfaces that had it off (``uplinks``
  counts the state roots needing it), with a rule that still drops anything entering them that is
  not going to a composer bridge, so the host forwards nothing it did not forward before.
  ``net.ipv4.ip_forward`` is never touched.
- IPv6, only while a non-internal network has an IPv6 subnet: ``net.ipv6.conf.<if>.force_forwarding=1``
  (Linux 6.17+) on those bridges and on the routed interfaces, with the same drop rule. Never
  ``net.ipv6.conf.all.forwarding``, which would turn every interface into a router that ignores
  router advertisements (and so could cost the host its own IPv6 address or default route).
"""

from __future__ import annotations

import _thread
import os

from composer.errors import NetworkError
from composer.network.model import NAME_CHARS, Network, PortBinding

TYPE_CHECKING = False  # collections.abc stays off ``container run``'s path
if TYPE_CHECKING:
    from collections.abc import Iterable

SYSCTL = "/proc/sys/net/{family}/conf"
FORWARDING = {"ipv4": "forwarding", "ipv6": "force_forwarding"}  # the per-interface switch
ROUTES = {"ipv4": "/proc/net/route", "ipv6": "/proc/net/ipv6_route"}


def _names(items: Iterable[str]) -> str:
    return "{ " + ", ".join(f'"{item}"' for item in sorted(items)) + " }"


def _port_rules(net: Network) -> list[str]:
    rules = []
    for ep in net.endpoints.values():
        for port in ep.ports:
            rules += _dnat(port, ep.ipv4, ep.ipv6, "".join(ch for ch in ep.container_id if ch in NAME_CHARS)[:12])
    return rules


def _dnat(port: PortBinding, ipv4: str, ipv6: str, tag: str) -> list[str]:
    """The DNAT rules of one binding: IPv4, IPv6 (when the endpoint has an IPv6 address), or both
    for the wildcard host addresses. IPv6 loopback cannot be DNATed out of ``lo`` (no
    route_localnet for IPv6), so ``[::1]`` bindings only work through the host's other addresses."""
    wildcard = port.host_ip in ("", "0.0.0.0", "::")
    tail = f'{port.proto} dport {port.host_port} dnat'
    rules = []
    if ipv4 and (wildcard or ":" not in port.host_ip):
        match = "" if wildcard else f"ip daddr {port.host_ip} "
        rules.append(f'{match or "meta nfproto ipv4 "}{tail} ip to {ipv4}:{port.container_port} comment "{tag}"')
    if ipv6 and (port.host_ip in ("", "::") or ":" in port.host_ip):
        match = f"ip6 daddr {port.host_ip} " if port.host_ip not in ("", "::") else "meta nfproto ipv6 "
        rules.append(f'{match}{tail} ip6 to [{ipv6}]:{port.container_port} comment "{tag}"')
    return rules


def _forward_rules(networks: list[Network], uplinks: list[str], uplinks6: list[str]) -> list[str]:
    """Internal networks sealed; published ports reachable across networks; bridges isolated."""
    bridges = [net.bridge for net in networks]
    rules = []
    for net in networks:
        if net.internal:
            br = f'"{net.bridge}"'
            rules.append(f"iifname {br} oifname != {br} drop")
            rules.append(f"oifname {br} iifname != {br} drop")
    if bridges:
        rules.append(f"oifname {_names(bridges)} ct status dnat accept")
    for net in networks:
        others = [b for b in bridges if b != net.bridge]
        if others:
            rules.append(f'iifname "{net.bridge}" oifname {_names(others)} drop')
    others = 'oifname != "cm*" oifname != "composer0"'  # other state roots' bridges: their business
    for family, names in (("ipv4", uplinks), ("ipv6", uplinks6)):
        if names and bridges:
            rules.append(f"meta nfproto {family} iifname {_names(names)} oifname != {_names(bridges)} {others} drop")
    return rules


def _postrouting_rules(networks: list[Network]) -> list[str]:
    rules = []
    for net in networks:
        br = f'"{net.bridge}"'
        if not net.internal:
            rules.append(f"ip saddr {net.subnet} oifname != {br} masquerade")
        # the host reaching a published port (127.0.0.1 or any of its own addresses): the container
        # answers the gateway, as docker's "-o docker0 -m addrtype --src-type LOCAL -j MASQUERADE"
        rules.append(f"oifname {br} ct status dnat fib saddr type local masquerade")
        rules.append(f"oifname {br} ip saddr {net.subnet} ct status dnat masquerade")
        if net.subnet6:
            if not net.internal:
                rules.append(f"ip6 saddr {net.subnet6} oifname != {br} masquerade")
            rules.append(f"oifname {br} ip6 saddr {net.subnet6} ct status dnat masquerade")
    return rules


OWNER_COMMENT_MAX = 128  # bytes nft keeps of a table's comment (NFTNL_UDATA_COMMENT_MAXLEN)


def owner_comment(folder: str, limit: int = OWNER_COMMENT_MAX) -> str:
    """The comment naming a state folder on its table (``orphans.sweep_abandoned`` removes the
    table once the folder is gone) or its iptables rules; "" when ``limit`` bytes cannot hold it."""
    comment = "composer " + folder
    return comment if len(comment.encode()) < limit and '"' not in comment else ""


def render(table: str, networks: list[Network], uplinks: list[str], uplinks6: list[str] = (),
           owner: str = "") -> str:
    """The complete ``nft -f`` script that (re)defines ``table`` for ``networks``; ``owner``, the
    state folder, goes into the table's comment."""
    def chain(name: str, hook: str, rules: list[str]) -> str:
        body = "".join(f"\t\t{rule}\n" for rule in rules)
        return f"\tchain {name} {{\n\t\t{hook}\n{body}\t}}\n"

    publish = [rule for net in networks for rule in _port_rules(net)]
    comment = owner_comment(owner) if owner else ""
    return (
        f"table inet {table} {{}}\ndelete table inet {table}\ntable inet {table} {{\n"
        + (f'\tcomment "{comment}"\n' if comment else "")
        + chain("forward", "type filter hook forward priority filter; policy accept;",
                _forward_rules(networks, uplinks, list(uplinks6)))
        + chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;",
                ["fib daddr type local jump publish"])
        + chain("output", "type nat hook output priority -100; policy accept;",
                ["fib daddr type local jump publish"])
        + "\tchain publish {\n" + "".join(f"\t\t{rule}\n" for rule in publish) + "\t}\n"
        + chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;",
                _postrouting_rules(networks))
        + "}\n"
    )


_LIBNFTABLES: list = []  # [the loaded library, or None when it is missing]
_ONE_AT_A_TIME = _thread.allocate_lock()  # libnftables keeps some global state: one script at a time


def _fresh_lock_in_child() -> None:
    """A forked child gets its own free lock: the parent's may be held by a thread freeing a
    context (``_free``), which does not exist in the child, and would never be released there
    (a zygote forked meanwhile, then its containers' launchers publishing ports, hung for ever)."""
    global _ONE_AT_A_TIME
    _ONE_AT_A_TIME = _thread.allocate_lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


def nft(script: str) -> None:
    """Run an nft script; errors become NetworkError. Through libnftables in this process (nft's
    own library: ~2 ms to load once), else the ``nft`` tool: a process whose start-up alone took
    10-40 ms here (its dozen shared libraries), the same again under load."""
    library = _libnftables()
    if library is None:
        return _nft_tool(script)
    _ONE_AT_A_TIME.acquire()
    try:
        ctx = library.nft_ctx_new(0)
        library.nft_ctx_buffer_output(ctx)  # as ``nft -f``: nothing printed
        library.nft_ctx_buffer_error(ctx)
        failed = library.nft_run_cmd_from_buffer(ctx, script.encode())
        message = (library.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace")
    except BaseException:
        _ONE_AT_A_TIME.release()
        raise
    # Freed meanwhile (the lock held until then): closing the context's netlink socket after a
    # transaction that deleted anything waits for the kernel's deferred destruction (an RCU
    # grace period, 8-19 ms here), and the rules are in force already.
    _thread.start_new_thread(_free, (library, ctx))
    if failed:
        raise NetworkError(f"nftables refused composer's rules: {message.strip()}")


def _free(library: object, ctx: object) -> None:
    try:
        library.nft_ctx_free(ctx)
    finally:
        _ONE_AT_A_TIME.release()


def _libnftables() -> object:
    """libnftables.so.1 with the functions ``nft`` calls typed, or None (missing, or too old to
    have them all: its buffered output came with 0.9.1)."""
    if not _LIBNFTABLES:
        import ctypes

        try:
            library = ctypes.CDLL("libnftables.so.1")
            pointer = ctypes.c_void_p
            library.nft_ctx_new.restype, library.nft_ctx_new.argtypes = pointer, [ctypes.c_uint32]
            library.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
            library.nft_run_cmd_from_buffer.argtypes = [pointer, ctypes.c_char_p]
            for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_get_error_buffer", "nft_ctx_free"):
                getattr(library, name).argtypes = [pointer]
        except (OSError, AttributeError):
            library = None
        _LIBNFTABLES.append(library)
    return _LIBNFTABLES[0]


def _nft_tool(script: str) -> None:
    import subprocess

    try:
        result = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
    except FileNotFoundError:
        raise NetworkError("the nft tool is missing", hint="apt-get install nftables") from None
    if result.returncode != 0:
        raise NetworkError(f"nftables refused composer's rules: {result.stderr.strip()}")


def remove(table: str) -> None:
    """Delete ``table`` if it exists."""
    nft(f"table inet {table} {{}}\ndelete table inet {table}\n")


# --- sysctls ----------------------------------------------------------------------------------
def read_sysctl(interface: str, key: str, family: str = "ipv4") -> str | None:
    try:
        with open(f"{SYSCTL.format(family=family)}/{interface}/{key}") as handle:
            return handle.read().strip()
    except OSError:
        return None


def write_sysctl(interface: str, key: str, value: str, family: str = "ipv4") -> None:
    try:
        with open(f"{SYSCTL.format(family=family)}/{interface}/{key}", "w") as handle:
            handle.write(value)
    except OSError as error:
        raise NetworkError(f"cannot set net.{family}.conf.{interface}.{key}: {error.strerror}") from None


def prepare_bridge(bridge: str, ipv6: bool = False) -> None:
    """Forwarding and 127.0.0.1 DNAT (route_localnet) on one of our bridges (IPv6 forwarding too
    for a non-internal IPv6 network, where the kernel has the per-interface switch)."""
    write_sysctl(bridge, "forwarding", "1")
    write_sysctl(bridge, "route_localnet", "1")
    if ipv6 and read_sysctl(bridge, FORWARDING["ipv6"], "ipv6") is not None:
        write_sysctl(bridge, FORWARDING["ipv6"], "1", "ipv6")


def routed_interfaces(family: str = "ipv4") -> list[str]:
    """Host interfaces that some route of ``family`` goes out of (the device is the first column
    of /proc/net/route, the last of /proc/net/ipv6_route)."""
    column = 0 if family == "ipv4" else -1
    try:
        with open(ROUTES[family]) as handle:
            lines = handle.readlines()[1 if family == "ipv4" else 0:]
    except OSError:
        return []
    return sorted({line.split()[column] for line in lines if line.strip()})
