"""`composer network create|ls|inspect|rm|connect|disconnect|prune` (docker's flags and output)."""

from __future__ import annotations

from typing import Optional

import typer


def _manager():
    from composer.network.manager import NetworkManager

    return NetworkManager()


def create(
    name: str = typer.Argument(..., help="Network name."),
    driver: str = typer.Option("bridge", "-d", "--driver", help="Driver to manage the network."),
    subnet: Optional[list[str]] = typer.Option(None, "--subnet", help="Subnet in CIDR format (IPv4 and/or IPv6)."),
    gateway: Optional[list[str]] = typer.Option(None, "--gateway", help="IPv4 gateway for the master subnet."),
    ip_range: Optional[str] = typer.Option(None, "--ip-range", help="Allocate container ip from a sub-range."),
    internal: bool = typer.Option(False, "--internal", help="Restrict external access to the network."),
    attachable: bool = typer.Option(False, "--attachable", help="Enable manual container attachment."),
    ipv6: bool = typer.Option(False, "--ipv6", help="Enable IPv6 networking."),
    ipv4: bool = typer.Option(True, "--ipv4", help="Enable or disable IPv4 address assignment (always on here)."),
    label: Optional[list[str]] = typer.Option(None, "--label", help="Set metadata on a network."),
    opt: Optional[list[str]] = typer.Option(None, "-o", "--opt", help="Set driver specific options."),
) -> None:
    """Create a network."""
    from composer.cli.network_fast import create_network

    net = create_network(name, {"driver": driver, "subnet": subnet, "gateway": gateway, "ip_range": ip_range,
                                "internal": internal, "attachable": attachable, "ipv6": ipv6, "ipv4": ipv4,
                                "label": label, "opt": opt})
    typer.echo(net.id)


def ls(
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display network IDs."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate the output."),
    output_format: Optional[str] = typer.Option(None, "--format", help="Format: table, json or a Go template like {{.Name}}."),
    filter_: Optional[list[str]] = typer.Option(None, "-f", "--filter", help="Filter (name=, id=, driver=, label=)."),
) -> None:
    """List networks."""
    from composer.cli.network_fast import ls_lines

    options = {"quiet": quiet, "no_trunc": no_trunc, "format": output_format, "filter": filter_}
    for line in ls_lines(_manager().list(), options):
        typer.echo(line)


def inspect(
    names: list[str] = typer.Argument(..., help="Networks to inspect."),
    output_format: Optional[str] = typer.Option(None, "-f", "--format", help="Format: json (default) or a Go template like {{.Id}}."),
) -> None:
    """Display detailed information on one or more networks."""
    from composer.cli.network_fast import inspect_networks, show_inspected

    code = show_inspected(*inspect_networks(names), output_format)
    if code:
        raise typer.Exit(code)


def rm(
    names: list[str] = typer.Argument(..., help="Networks to remove."),
    force: bool = typer.Option(False, "-f", "--force", help="Do not error if the network does not exist."),
) -> None:
    """Remove one or more networks."""
    from composer.cli.network_fast import remove_networks

    code = remove_networks(names, force)
    if code:
        raise typer.Exit(code)


def connect(
    network_name: str = typer.Argument(..., metavar="NETWORK"),
    container: str = typer.Argument(..., help="Container id or name."),
    alias: Optional[list[str]] = typer.Option(None, "--alias", help="Add network-scoped alias for the container."),
    ip: Optional[str] = typer.Option(None, "--ip", help="IPv4 address."),
    ip6: Optional[str] = typer.Option(None, "--ip6", help="IPv6 address."),
    link: Optional[list[str]] = typer.Option(None, "--link", help="Add link to another container (CONTAINER[:ALIAS])."),
    link_local_ip: Optional[list[str]] = typer.Option(None, "--link-local-ip", help="Add a link-local address for the container."),
    netns: Optional[str] = typer.Option(None, "--netns", help="Network namespace path (a bare namespace)."),
    name: Optional[str] = typer.Option(None, "--name", help="DNS name of a bare namespace."),
) -> None:
    """Connect a container (or, with --netns, a bare network namespace) to a network; a stopped
    container joins it when it starts, a running one at once and again at every start."""
    options = {"aliases": alias or [], "ipv4": ip, "ipv6": ip6, "links": link or [], "link_local_ips": link_local_ip or []}
    if netns:
        _manager().connect(network_name, container, netns, name=name or container, **options)
        return
    from composer.network.attachments import connect_container

    connect_container(_manager(), network_name, container, **options)


def disconnect(
    network_name: str = typer.Argument(..., metavar="NETWORK"),
    container: str = typer.Argument(..., help="Container id or name."),
    force: bool = typer.Option(False, "-f", "--force", help="Force the container to disconnect."),
) -> None:
    """Disconnect a container from a network (for good: its next start does not join it)."""
    from composer.network.attachments import disconnect_container

    disconnect_container(_manager(), network_name, container, force=force)


def prune(
    force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
    filter_: Optional[list[str]] = typer.Option(None, "--filter", help="Provide filter values (label=...)."),
) -> None:
    """Remove all unused networks (``--filter`` label=, label!=, until=, as ``system prune``'s)."""
    from composer.cli.render import confirm, print_pruned
    from composer.cli.system import _prune_networks, filter_groups, until_times
    from composer.engine.object_events import prune_event

    if not confirm("This will remove all custom networks not used by at least one container.", force):
        return
    groups = filter_groups(filter_ or [])
    until_times(groups)  # (a bad one refused before anything goes)
    removed = _prune_networks(groups)
    prune_event("network", 0)
    print_pruned("Networks", removed)


def register(app: typer.Typer) -> None:
    """Add the ``network`` group to ``app``."""
    network = typer.Typer(help="Manage networks.", no_args_is_help=True)
    app.add_typer(network, name="network")
    network.command("create")(create)
    network.command("ls")(ls)
    network.command("inspect")(inspect)
    network.command("rm")(rm)
    from composer.cli.render import daemon_errors  # (the daemon's refusals: its words)

    network.command("connect")(daemon_errors(connect))
    network.command("disconnect")(daemon_errors(disconnect))
    network.command("prune")(prune)
    network.command("list", hidden=True)(ls)  # docker's aliases
    network.command("remove", hidden=True)(rm)
