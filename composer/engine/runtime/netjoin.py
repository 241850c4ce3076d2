"""A container's networks: the joins its config asks for, plugging it in once its network
namespace exists (``attach_network``), and undoing that; ``container:X`` sharing X's files; legacy links."""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.state import ContainerDir
from composer.errors import ContainerRuntimeError


def network_joins(config: ContainerConfig) -> list[tuple[str, dict]]:
    """(network, join options) for ``config.network`` (unless none/host/private) and each endpoint;
    an endpoint naming ``config.network`` gives that first join its options (``--network-alias``)."""
    joins: list[tuple[str, dict]] = []
    if config.network not in ("none", "host", "private") and not config.network.startswith("container:"):
        joins.append(("bridge" if config.network == "default" else config.network, {}))
    for endpoint in config.endpoints:
        options = {"aliases": endpoint.aliases, "ipv4": endpoint.ipv4_address or None,
                   "ipv6": endpoint.ipv6_address or None, "mac": endpoint.mac_address or None,
                   "links": endpoint.links, "link_local_ips": endpoint.link_local_ips,
                   "ifname": endpoint.interface_name or None}
        if joins and endpoint.network == joins[0][0] and not joins[0][1]:
            joins[0] = (endpoint.network, options)
        else:
            joins.append((endpoint.network, options))
    return joins


def attach_network(config: ContainerConfig, pid: int, directory: str) -> bool:
    """THE networking seam: plug the container whose PID 1 is ``pid`` into its networks.

    Called once the container's network namespace exists (``/proc/<pid>/ns/net``) and before its
    entrypoint runs. none/host/private (loopback only) need nothing; any other ``config.network``
    (``bridge`` = the default network) and every ``config.endpoints`` entry is joined through
    ``composer.network`` (published ports on the first), and the container's hosts and
    resolv.conf in ``directory`` are rewritten in place (they are bind-mounted already).
    Returns True when an endpoint was made (``detach_network`` undoes it).
    """
    joins = network_joins(config)
    if not joins:
        return False
    from composer.network.manager import NetworkManager
    from composer.network.ports import parse_publish
    from composer.network.resolvconf import link_lines, render_hosts, render_resolv_conf

    manager = NetworkManager()
    ports = [binding for spec in config.publish for binding in parse_publish(spec)]
    attached = [manager.join(name, config.id, pid, name=config.name, ports=ports if index == 0 else (),
                             dns=config.dns, **options) for index, (name, options) in enumerate(joins)]
    networks = [net for net, _ep in attached]
    hosts = render_hosts(config.hostname, [attached[0][1].ipv4], extra_hosts=config.extra_hosts,
                         host_gateway=networks[0].gateway, links=link_lines(*attached[0]))
    resolv = render_resolv_conf(networks, dns=config.dns, dns_search=config.dns_search,
                                dns_options=config.dns_options)
    for name, text in (("hosts", hosts), ("resolv.conf", resolv)):
        with open(os.path.join(directory, name), "w") as handle:  # in place: the bind mount follows
            handle.write(text)
    return True


def write_bridged_etc_files(config: ContainerConfig, directory: str) -> bool:
    """For a container that ``attach_network`` will plug in: its hostname, and empty hosts and
    resolv.conf to bind-mount (attach_network writes them once the address is known); False for
    the other network modes (``write_etc_files`` then writes all three)."""
    if not network_joins(config):
        return False
    with open(os.path.join(directory, "hostname"), "w") as handle:
        handle.write(config.hostname + "\n")
    for name in ("hosts", "resolv.conf"):
        open(os.path.join(directory, name), "w").close()
    return True


def detach_network(config: ContainerConfig) -> None:
    """Release the container's endpoints (their veths went with the namespace)."""
    from composer.network.manager import NetworkManager

    manager = NetworkManager()
    for name, _ in network_joins(config):
        manager.disconnect(name, config.id, force=True)


def copy_shared_etc_files(config: ContainerConfig, directory: str) -> bool:
    """``--network container:X`` also takes X's hostname, hosts and resolv.conf (as docker does);
    whether that changed ``config.hostname``."""
    if not config.network.startswith("container:"):
        return False
    from composer.engine.runtime.containers import resolve

    source = ContainerDir(resolve(config.network.partition(":")[2]))
    own, config.hostname = config.hostname, source.read_config().get("hostname") or config.hostname
    for name in ("hostname", "hosts", "resolv.conf"):
        with open(source.file(name), "rb") as handle:
            content = handle.read()
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(content)
    return config.hostname != own


def check_link_targets(config: ContainerConfig) -> None:
    """docker refuses to start a container whose legacy ``--link`` (default bridge) leads to a
    container that does not run."""
    if config.network != "bridge" or not config.endpoints or not config.endpoints[0].links:
        return
    from composer.engine.runtime.containers import LIVE, current_state
    from composer.engine.runtime.state import find_container

    for link in config.endpoints[0].links:
        target, _, alias = link.partition(":")
        cdir = find_container(target)
        if current_state(cdir).get("Status") not in LIVE:
            target = cdir.read_config().get("name", target)
            raise ContainerRuntimeError(f"Cannot link to a non running container: /{target} AS "
                                        f"/{config.name}/{alias}", hint="start the linked container first")


def link_env(config: ContainerConfig) -> list[str]:
    """docker's variables of the container's legacy links (``--link`` on the default bridge)."""
    if not config.endpoints:
        return []
    from composer.network.links import launch_env

    return launch_env(config)
