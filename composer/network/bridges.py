"""Bridges of networks: a new network's plan (subnet, gateway, bridge name, MTU), its bridge made
with the gateway addresses, and a bridge's deletion overlapped with the rules' update."""

from __future__ import annotations

import os
import select
import time

from composer.errors import NetworkError
from composer.network import firewall, ipam
from composer.network.model import Network, is_interface_name
from composer.network.netlink import Netlink
from composer.network.store import NetworkStore

TYPE_CHECKING = False  # typing stays off ``container run``'s path
if TYPE_CHECKING:
    from collections.abc import Callable

BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
MTU_OPTION = "com.docker.network.driver.mtu"


def plan_network(store: NetworkStore, name: str, subnet: str | None, gateway: str | None, ip_range: str | None,
                 internal: bool, attachable: bool, labels: dict[str, str], options: dict[str, str],
                 ipv6: bool, subnet6: str | None, default: bool) -> Network:
    """The Network ``create`` makes (a free or the given subnet, its gateway, bridge name, MTU);
    NetworkError for what docker refuses."""
    existing = store.all()
    taken = [ipam.parse_subnet(net.subnet) for net in existing]
    if subnet:
        chosen = ipam.parse_subnet(subnet)
        clash = next((net for net in existing if ipam.parse_subnet(net.subnet).overlaps(chosen)), None)
        if clash:
            raise NetworkError(f"subnet {chosen} overlaps network {clash.name} ({clash.subnet})",
                               hint="pick a subnet that no other network uses")
    else:
        chosen = ipam.pick_subnet(taken + ipam.host_routes(), skip_first=not default)
    gw = ipam.check_in_subnet(gateway, chosen, "gateway") if gateway else ipam.default_gateway(chosen)
    net_id = os.urandom(32).hex()
    bridge = options.get(BRIDGE_NAME_OPTION) or (store.default_bridge if default else store.bridge_name(net_id))
    if not is_interface_name(bridge):
        raise NetworkError(f"invalid bridge name {bridge!r} (option {BRIDGE_NAME_OPTION})",
                           hint="at most 15 letters, digits, '_', '.' or '-'")
    net = Network(id=net_id, name=name, bridge=bridge, subnet=str(chosen), gateway=gw,
                  created=time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
                  ip_range=ip_range or "", internal=internal, attachable=attachable, default=default,
                  labels=dict(labels), options=dict(options), ipv6=ipv6,
                  mtu=mtu_option(options.get(MTU_OPTION)))
    if ip_range:
        if not ipam.parse_subnet(ip_range, "ip-range").subnet_of(chosen):
            raise NetworkError(f"ip-range {ip_range} is not inside subnet {chosen}")
    if ipv6:
        six = ipam.parse_subnet(subnet6 or _random_ula())
        net.subnet6, net.gateway6 = str(six), ipam.default_gateway(six)
    return net


def make_bridge(store: NetworkStore, net: Network) -> None:
    """Make ``net``'s bridge with its gateway addresses, ready for its rules."""
    from composer.network.orphans import bridge_alias

    with Netlink() as nl:
        index = nl.add_bridge(net.bridge, net.mtu, mac=_random_mac(), alias=bridge_alias(store))
        try:
            nl.add_address(index, f"{net.gateway}/{net.subnet.split('/')[1]}")
            if net.gateway6:
                nl.add_address(index, f"{net.gateway6}/{net.subnet6.split('/')[1]}")
            firewall.prepare_bridge(net.bridge, ipv6=bool(net.subnet6) and not net.internal)
        except NetworkError:
            nl.delete_link(net.bridge)
            raise


_TEARDOWNS: list[int] = []  # children finishing a bridge's teardown, reaped when seen done


def delete_bridge_meanwhile(bridge: str) -> "Callable[[], BaseException | None]":
    """Start deleting ``bridge`` and return the wait for it (which returns its error).

    The kernel's teardown of a bridge waits for three RCU grace periods (~40 ms of a ``down``
    here): the link leaves the namespace at once, its addresses, routes and /sys/class/net entry
    go after the first, and the rest is memory the kernel frees. A forked child sends the request;
    the wait ends as soon as /sys/class/net has no such link (or the child reports the kernel's
    refusal), and the child sees the teardown to its end alone, composer's command having
    returned, as the rules' update overlaps it meanwhile."""
    _reap_teardowns()
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: plain system calls only (other threads' locks are gone with them)
        code = 1
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # nor of the caller's pipes (one reading composer's output to EOF)
                os.dup2(null, fd)
            os.closerange(3, readable)  # no copy of a lock's descriptor outlives the parent's hold
            os.closerange(readable + 1, writable)
            os.closerange(writable + 1, 1 << 20)
            with Netlink() as nl:
                nl.delete_link(bridge)
            code = 0
        except BaseException as error:  # noqa: BLE001 - handed to the parent
            os.write(writable, (getattr(error, "message", None) or str(error) or type(error).__name__).encode())
        finally:
            os._exit(code)
    os.close(writable)
    _TEARDOWNS.append(pid)

    def wait() -> BaseException | None:
        try:
            words = b""
            while os.path.exists(f"/sys/class/net/{bridge}"):
                ready = select.select([readable], [], [], 0.002)[0]
                if ready:
                    words = os.read(readable, 4096)
                    break  # the child ended: refused, or done (the loop's test sees which)
            if words or os.path.exists(f"/sys/class/net/{bridge}"):
                return NetworkError(f"delete link {bridge}: {words.decode(errors='replace') or 'not deleted'}")
            return None
        finally:
            os.close(readable)
            _reap_teardowns()
    return wait


def _reap_teardowns() -> None:
    for pid in list(_TEARDOWNS):
        try:
            done = os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:
            done = True  # reaped by someone else
        if done:
            _TEARDOWNS.remove(pid)


def _random_mac() -> str:
    """A random locally administered unicast MAC (for bridges)."""
    raw = bytearray(os.urandom(6))
    raw[0] = (raw[0] & 0xFC) | 0x02
    return ":".join(f"{byte:02x}" for byte in raw)


def _random_ula() -> str:
    """A random unique-local /64 (fdXX:XXXX:XXXX::/64) for --ipv6 without a subnet."""
    raw = os.urandom(5).hex()
    return f"fd{raw[:2]}:{raw[2:6]}:{raw[6:10]}::/64"


def mtu_option(option: str | None) -> int:
    """The ``com.docker.network.driver.mtu`` option, or the host's MTU."""
    if option is None:
        return _host_mtu()
    if not option.isdigit() or not 68 <= int(option) <= 65535:
        raise NetworkError(f"invalid {MTU_OPTION} {option!r}", hint="an MTU between 68 and 65535")
    return int(option)


def _host_mtu() -> int:
    """The MTU of the host's default-route interface (1500 when unknown)."""
    try:
        with open("/proc/net/route") as routes:
            for line in routes.read().splitlines()[1:]:
                fields = line.split()
                if fields[1] == "00000000":
                    with open(f"/sys/class/net/{fields[0]}/mtu") as mtu:
                        return int(mtu.read())
    except (OSError, ValueError, IndexError):
        pass
    return 1500
