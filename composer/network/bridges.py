"""Bridges of networks: a new network's plan (subnet, gateway, bridge name, MTU), its bridge made
with the gateway addresses, and a bridge's deletion overlapped with the rules' update."""

from __future__ import annotations

import _thread
import os
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


def delete_bridge_meanwhile(bridge: str) -> "Callable[[], BaseException | None]":
    """Start deleting ``bridge`` in a thread and return the wait for it (which returns its error):
    the kernel's teardown of a bridge waits for RCU grace periods (~40 ms of a ``down`` here), time
    that the rules' update can use."""
    done, failures = _thread.allocate_lock(), []
    done.acquire()

    def delete() -> None:
        try:
            with Netlink() as nl:
                nl.delete_link(bridge)
        except BaseException as error:  # noqa: BLE001 - handed to the waiter
            failures.append(error)
        finally:
            done.release()

    _thread.start_new_thread(delete, ())

    def wait() -> BaseException | None:
        done.acquire()
        return failures[0] if failures else None
    return wait


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
