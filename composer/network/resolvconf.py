"""The /etc/resolv.conf and /etc/hosts a container gets (pure text rendering).

On a user-defined network the container's nameserver is composer's DNS server on that network's
gateway, even with ``--dns`` (as docker's 127.0.0.11: the server forwards the names it does not
know to the container's ``--dns`` resolvers, so service names still resolve); on the default
``bridge`` network (no name resolution, as Docker's) it gets ``--dns`` or the host's resolvers,
minus loopback ones that its namespace cannot reach. ``--dns-search``/``--dns-option`` replace
search/options, ``--add-host`` adds host lines, ``host-gateway`` meaning the gateway of the
container's first network.
"""

from __future__ import annotations


from composer.errors import NetworkError
from composer.network.model import Endpoint, Network

TYPE_CHECKING = False  # collections.abc and ipaddress stay off ``container run``'s path
if TYPE_CHECKING:
    from collections.abc import Iterable


def host_resolv(path: str = "/etc/resolv.conf") -> tuple[list[str], list[str], list[str]]:
    """(nameservers, search domains, options) of the host."""
    servers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return servers, search, options
    for line in lines:
        words = line.split()
        if len(words) < 2 or words[0].startswith(("#", ";")):
            continue
        if words[0] == "nameserver":
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            options += words[1:]
    return servers, search, options


def render_resolv_conf(networks: list[Network], *, dns: Iterable[str] = (), dns_search: Iterable[str] = (),
                       dns_options: Iterable[str] = (), host_file: str = "/etc/resolv.conf") -> str:
    """The container's resolv.conf for its ``networks`` (first one first)."""
    host_servers, host_search, host_options = host_resolv(host_file)
    user = [net for net in networks if not net.default]
    if user:
        servers = [user[0].gateway]
    elif dns:
        servers = list(dns)
    else:
        servers = [s for s in host_servers if not (s.startswith("127.") or s == "::1")]  # loopback: not reachable
    search = list(dns_search) or host_search
    options = list(dns_options) or list(host_options)
    if user and not any(option.startswith("ndots:") for option in options):
        options.append("ndots:0")  # as docker's embedded DNS: single names go to it first
    lines = [f"nameserver {server}" for server in servers]
    if search:
        lines.append("search " + " ".join(search))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + "\n"


def link_lines(net: Network, ep: Endpoint) -> list[str]:
    """/etc/hosts lines of ``ep``'s links on the default ``bridge`` network (docker's legacy links:
    ``IP<TAB>ALIAS ID NAME`` of each live linked container; user networks resolve them by DNS)."""
    if not net.default:
        return []
    lines = []
    for link in ep.links:
        target, _, alias = link.partition(":")
        for cid, other in net.endpoints.items():
            if target in (other.name, cid[:12]) and other.ipv4 and other.alive():
                names = dict.fromkeys((alias, cid[:12], other.name or cid[:12]))
                lines.append(f"{other.ipv4}\t{' '.join(names)}")
    return lines


def render_hosts(hostname: str, addresses: Iterable[str], *, extra_hosts: Iterable[str] = (),
                 host_gateway: str | None = None, links: Iterable[str] = ()) -> str:
    """The container's /etc/hosts: localhost, its own addresses, then ``--add-host`` entries
    (and ``links``: lines from ``link_lines``)."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"]
    for entry in extra_hosts:
        name, sep, address = entry.partition("=" if "=" in entry else ":")
        if not sep or not name or not address:
            raise NetworkError(f"invalid --add-host {entry!r}", hint="use NAME:IP, NAME=IP or NAME:host-gateway")
        if address == "host-gateway":
            if not host_gateway:
                raise NetworkError(f"--add-host {entry}: the container has no network with a gateway")
            address = host_gateway
        import ipaddress

        try:
            address = str(ipaddress.ip_address(address.strip("[]")))
        except ValueError:
            raise NetworkError(f"invalid IP address {address!r} in --add-host {entry!r}") from None
        lines.append(f"{address}\t{name}")
    lines += links
    lines += [f"{address}\t{hostname}" for address in addresses]
    return "\n".join(lines) + "\n"
