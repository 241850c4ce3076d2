"""`composer network create|ls|inspect|rm|connect|disconnect|prune` (docker's flags and output)."""

from __future__ import annotations

import json
from typing import Optional

import typer

from composer.errors import NetworkError, UsageError


def _manager():
    from composer.network.manager import NetworkManager

    return NetworkManager()


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """``key=value`` options (a bare key means an empty value, as docker's --label)."""
    result = {}
    for value in values or []:
        key, _, val = value.partition("=")
        if not key:
            raise UsageError(f"invalid {flag} {value!r}", hint="use KEY=VALUE")
        result[key] = val
    return result


def _matches(net, filters: dict[str, list[str]]) -> bool:
    for key, wanted in filters.items():
        if key == "name" and not any(w in net.name for w in wanted):
            return False
        if key == "id" and not any(net.id.startswith(w) for w in wanted):
            return False
        if key == "driver" and net.driver not in wanted:
            return False
        if key == "label" and not all(_label_match(net.labels, w) for w in wanted):
            return False
        if key not in ("name", "id", "driver", "label"):
            raise UsageError(f"invalid filter {key!r}", hint="use name=, id=, driver= or label=")
    return True


def _ls_row(net, width: int) -> dict[str, str]:
    """One ``network ls`` row as docker's ``--format`` fields."""
    return {"ID": net.id[:width], "Name": net.name, "Driver": net.driver, "Scope": "local",
            "IPv6": str(net.ipv6).lower(), "Internal": str(net.internal).lower(),
            "Labels": ",".join(f"{k}={v}" for k, v in net.labels.items()), "CreatedAt": net.created}


def _label_match(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def create(
    name: str = typer.Argument(..., help="Network name."),
    driver: str = typer.Option("bridge", "-d", "--driver", help="Driver to manage the network."),
    subnet: Optional[list[str]] = typer.Option(None, "--subnet", help="Subnet in CIDR format (IPv4 and/or IPv6)."),
    gateway: Optional[list[str]] = typer.Option(None, "--gateway", help="IPv4 gateway for the master subnet."),
    ip_range: Optional[str] = typer.Option(None, "--ip-range", help="Allocate container ip from a sub-range."),
    internal: bool = typer.Option(False, "--internal", help="Restrict external access to the network."),
    attachable: bool = typer.Option(False, "--attachable", help="Enable manual container attachment."),
    ipv6: bool = typer.Option(False, "--ipv6", help="Enable IPv6 networking."),
    label: Optional[list[str]] = typer.Option(None, "--label", help="Set metadata on a network."),
    opt: Optional[list[str]] = typer.Option(None, "-o", "--opt", help="Set driver specific options."),
) -> None:
    """Create a network."""
    subnet4 = next((item for item in subnet or [] if ":" not in item), None)
    subnet6 = next((item for item in subnet or [] if ":" in item), None)
    gateway4 = next((item for item in gateway or [] if ":" not in item), None)
    net = _manager().create(name, driver=driver, subnet=subnet4, gateway=gateway4,
                            ip_range=ip_range, internal=internal, attachable=attachable,
                            labels=_pairs(label, "--label"), options=_pairs(opt, "--opt"),
                            ipv6=ipv6 or bool(subnet6), subnet6=subnet6)
    typer.echo(net.id)


def ls(
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display network IDs."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate the output."),
    output_format: Optional[str] = typer.Option(None, "--format", help="Format: table, json or a Go template like {{.Name}}."),
    filter_: Optional[list[str]] = typer.Option(None, "-f", "--filter", help="Filter (name=, id=, driver=, label=)."),
) -> None:
    """List networks."""
    filters: dict[str, list[str]] = {}
    for item in filter_ or []:
        key, _, value = item.partition("=")
        filters.setdefault(key, []).append(value)
    nets = [net for net in _manager().list() if _matches(net, filters)]
    width = 64 if no_trunc else 12
    rows = [_ls_row(net, width) for net in nets]
    if quiet:
        for row in rows:
            typer.echo(row["ID"])
    elif output_format == "json":
        for row in rows:
            typer.echo(json.dumps(row, separators=(",", ":")))
    elif output_format and output_format != "table":
        from composer.cli.images import render_template

        for row in rows:
            typer.echo(render_template(output_format, row))
    else:
        typer.echo(f"{'NETWORK ID':<{width + 3}}{'NAME':<20}{'DRIVER':<10}SCOPE")
        for row in rows:
            typer.echo(f"{row['ID']:<{width + 3}}{row['Name']:<20}{row['Driver']:<10}local")


def inspect(
    names: list[str] = typer.Argument(..., help="Networks to inspect."),
    output_format: Optional[str] = typer.Option(None, "-f", "--format", help="Format: json (default) or a Go template like {{.Id}}."),
) -> None:
    """Display detailed information on one or more networks."""
    manager = _manager()
    found, missing = [], []
    for name in names:
        net = manager.store.find(name)
        (found.append(net.inspect()) if net else missing.append(name))
    if output_format and output_format != "json":
        from composer.cli.images import render_template

        for data in found:
            typer.echo(render_template(output_format, data))
    else:
        typer.echo(json.dumps(found, indent=4))
    if missing:
        raise NetworkError(f"network {missing[0]} not found")


def rm(
    names: list[str] = typer.Argument(..., help="Networks to remove."),
    force: bool = typer.Option(False, "-f", "--force", help="Do not error if the network does not exist."),
) -> None:
    """Remove one or more networks."""
    manager, failed = _manager(), None
    for name in names:
        try:
            manager.remove(name)
            typer.echo(name)
        except NetworkError as error:
            if not (force and "not found" in error.message):
                failed = error
    if failed:
        raise failed


def connect(
    network_name: str = typer.Argument(..., metavar="NETWORK"),
    container: str = typer.Argument(..., help="Container id or name."),
    alias: Optional[list[str]] = typer.Option(None, "--alias", help="Add network-scoped alias for the container."),
    ip: Optional[str] = typer.Option(None, "--ip", help="IPv4 address."),
    ip6: Optional[str] = typer.Option(None, "--ip6", help="IPv6 address."),
    netns: Optional[str] = typer.Option(None, "--netns", help="Network namespace path (a bare namespace)."),
    name: Optional[str] = typer.Option(None, "--name", help="DNS name of a bare namespace."),
) -> None:
    """Connect a container (or, with --netns, a bare network namespace) to a network; a stopped
    container joins it when it starts, a running one at once and again at every start."""
    if netns:
        _manager().connect(network_name, container, netns, name=name or container, aliases=alias or [], ipv4=ip,
                           ipv6=ip6)
        return
    from composer.network.attachments import connect_container

    connect_container(_manager(), network_name, container, aliases=alias or [], ipv4=ip, ipv6=ip6)


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
    """Remove all unused networks."""
    if not force:
        typer.echo("WARNING! This will remove all custom networks not used by at least one container.")
        if not typer.confirm("Are you sure you want to continue?", default=False):
            raise typer.Exit(0)
    labels = _pairs([f.partition("=")[2] for f in filter_ or [] if f.startswith("label=")], "--filter")
    from composer.cli.render import print_pruned

    print_pruned("Networks", _manager().prune(labels))


def port_lines(container_id: str, private: str | None = None) -> list[str]:
    """``container port`` output: ``80/tcp -> 0.0.0.0:32768`` lines (only the host addresses when
    ``private`` (``80`` or ``80/udp``) is given); an error when that port is not published."""
    bindings = _manager().ports_of(container_id)
    if private:
        number, _, proto = private.partition("/")
        bindings = [b for b in bindings if str(b.container_port) == number and b.proto == (proto or "tcp")]
        if not bindings:
            raise UsageError(f"No public port '{number}/{proto or 'tcp'}' published for {container_id[:12]}")
    lines = []
    for binding in sorted(bindings, key=lambda b: (b.container_port, b.proto, b.host_port)):
        host = f"[{binding.host_ip}]" if ":" in binding.host_ip else binding.host_ip or "0.0.0.0"
        address = f"{host}:{binding.host_port}"
        lines.append(address if private else f"{binding.container_port}/{binding.proto} -> {address}")
    return lines


def container_port_main(argv: list[str]) -> int:
    """``composer container port CONTAINER [PRIVATE_PORT[/PROTO]]`` (a FAST_PATHS entry, as the
    ``container`` group's module is not this one)."""
    if not argv or argv[0] in ("-h", "--help") or len(argv) > 2:
        typer.echo("Usage:  composer container port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n"
                   "List port mappings or a specific mapping for the container")
        return 0 if argv and argv[0] in ("-h", "--help") else 1
    from composer.engine.runtime.state import find_container

    for line in port_lines(find_container(argv[0]).id, argv[1] if len(argv) > 1 else None):
        typer.echo(line)
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``network`` group to ``app``."""
    network = typer.Typer(help="Manage networks.", no_args_is_help=True)
    app.add_typer(network, name="network")
    network.command("create")(create)
    network.command("ls")(ls)
    network.command("inspect")(inspect)
    network.command("rm")(rm)
    network.command("connect")(connect)
    network.command("disconnect")(disconnect)
    network.command("prune")(prune)
    network.command("list", hidden=True)(ls)  # docker's aliases
    network.command("remove", hidden=True)(rm)
