"""Networking: bridges, veths, IPAM, NAT and published ports, embedded DNS.

The API the runtime and the orchestrator call (all state under ``<state root>/networks``)::

    from composer.network.manager import NetworkManager
    nm = NetworkManager()                          # root=state_root()/"networks"
    net = nm.create("app_default", subnet=None, internal=False, labels={...})
    nm.ensure_default()                            # the default "bridge" network (composer0)
    ep = nm.connect("app_default", container_id, "/proc/PID/ns/net",
                    name="app-web-1", aliases=["web"], ipv4=None,
                    ports=parse_publish("8080:80"), project="app")
    nm.publish(net.id, container_id, parse_publish("53/udp"))   # later additions
    nm.disconnect("app_default", container_id)     # or nm.release(container_id): every network
    nm.remove("app_default"); nm.prune(); nm.cleanup()          # cleanup: forget dead endpoints
    net.inspect()                                  # the ``docker network inspect`` dict

    from composer.network.ports import parse_publish                   # -p syntax
    from composer.network.resolvconf import render_resolv_conf, render_hosts

Modules: ``netlink`` (own small rtnetlink client), ``ipam``, ``model``, ``store``, ``endpoint``
(veth plumbing), ``firewall`` (one nftables table rendered from state), ``ports``, ``resolvconf``,
``dns`` (the detached trio + dnslib server). Errors are ``NetworkError``/``PortConflictError``.
Nothing here imports trio, pyroute2 or dnslib except ``dns.server`` (its own process).
"""
