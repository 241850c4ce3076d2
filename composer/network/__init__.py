"""Networking: bridges, veths, IPAM, NAT and published ports, embedded DNS.

The API the runtime and the orchestrator call (all state under ``<state root>/networks``)::

    from composer.network.manager import NetworkManager
    from composer.network.ports import parse_publish          # docker's -p syntax
    from composer.network.mode import parse_network_mode      # --network none|host|container:X|NAME

    nm = NetworkManager()                     # root = state_root()/"networks"
    nm.ensure_default()                       # the default "bridge" network (composer0, no DNS)
    net = nm.create("app_default", labels={"com.docker.compose.project": "app"})
    ep = nm.connect("app_default", container_id, "/proc/PID/ns/net", name="app-web-1",
                    aliases=["web"], ports=parse_publish("8080:80"), project="app")
    # a second network gives eth1, ...; ipv4=/ipv6=/mac=/ifname= override; links=["db:database"]
    # (the alias resolves for this container only), link_local_ips=[...]; PortConflictError
    # names the holder before anything is created
    nm.publish(net.id, container_id, parse_publish("53/udp")); nm.unpublish(...)
    nm.resolv_conf(container_id, dns=[], dns_search=[], dns_options=[])   # text for /etc/resolv.conf
    nm.hosts(container_id, hostname, extra_hosts=["gw:host-gateway"])      # text for /etc/hosts
    nm.ports_of(container_id)                 # PortBinding list (composer container port)
    nm.disconnect("app_default", container_id); nm.release(container_id)  # one / every network
    nm.remove("app_default"); nm.prune(); nm.cleanup()  # cleanup: dead endpoints, orphan links
    net.inspect()                             # the ``docker network inspect`` dict

Modules: ``netlink`` (own small rtnetlink client), ``ipam``, ``model``, ``store``, ``endpoint``
(veth plumbing), ``firewall`` (one nftables table rendered from state, forwarding sysctls),
``forward_policy`` (iptables FORWARD accepts while the host's policy is DROP), ``ports``,
``resolvconf``, ``orphans`` (crash leftovers, bridges of deleted state roots), ``mode``, ``dns``
(the detached trio + dnslib server). Errors: ``NetworkError``,
``PortConflictError``. Nothing here imports trio, pyroute2 or dnslib except ``dns.server``, which
runs in its own process. Design and host changes: docs/networking.md.
"""
