"""Typer-free ``network create|rm|ls|inspect`` (a FAST_PATHS entry) and the renderings they share
with ``composer.cli.networks``.

typer's import (~110 ms) cost more than the work of these commands; their flags are docker's,
parsed by ``run_flags``' table-driven parser. ``--help`` and anything this parser does not know fall back
to the typer commands (``main`` returns None), which print the same output. ``--format`` (``table``,
``json``, a Go template) is rendered by ``composer.cli.gotemplate``, as every other ``--format``.
"""

from __future__ import annotations

from composer.cli.run_flags import _flags, parse_verb
from composer.engine.object_events import PREDEFINED_NETWORKS
from composer.errors import UsageError

TABLES: dict[str, dict] = {verb: {} for verb in ("create", "ls", "inspect", "rm")}
_flags("bool", "--internal", "--attachable", "--ipv6", "--ipv4", table=TABLES["create"])
_flags("list", "--subnet", "--gateway", "--label", "-o|--opt", table=TABLES["create"])
_flags("value", "-d|--driver", "--ip-range", table=TABLES["create"])
_flags("bool", "-q|--quiet", "--no-trunc", table=TABLES["ls"])
_flags("list", "-f|--filter", table=TABLES["ls"])
_flags("value", "--format", table=TABLES["ls"])
_flags("value", "-f|--format", table=TABLES["inspect"])
_flags("bool", "-f|--force", table=TABLES["rm"])
ALIASES = {"list": "ls", "remove": "rm"}


def main(argv: list[str]) -> int | None:
    """``composer network VERB ...`` for the four hot verbs; None hands the line to typer."""
    verb = ALIASES.get(argv[0], argv[0]) if argv else ""
    parsed = parse_verb(argv[1:], TABLES[verb], f"network {verb}") if verb in TABLES else None
    if parsed is None:
        return None
    code = COMMANDS[verb](*parsed)
    from composer.cli.main import exit_now  # loaded already: the entry point

    return exit_now(code)


def _manager():
    from composer.network.manager import NetworkManager

    return NetworkManager()


def _create(options: dict, arguments: list[str]) -> int:
    from composer.errors import NetworkError

    try:
        print(create_network(arguments[0], options).id)
    except NetworkError as error:  # refused by the daemon, in docker's words
        import sys

        from composer.cli.render import daemon_text

        print(daemon_text(error), file=sys.stderr)
        return 1
    return 0


def create_network(name: str, options: dict):
    """``network create NAME`` with docker's options (``subnet``/``gateway``: lists, IPv4 and IPv6;
    ``--ipv4``: docker 28's, IPv4 is always on here)."""
    if options.get("ipv4") is False:
        from composer.errors import NetworkError

        raise NetworkError(f'network "{name}": --ipv4=false asks for an IPv6-only network; composer\'s bridge '
                           "networks always have IPv4 (nothing was created)",
                           hint="drop --ipv4=false (--ipv6 gives the network IPv6 too)")
    subnets, gateways = options.get("subnet") or [], options.get("gateway") or []
    check_ipam(subnets, [options["ip_range"]] if options.get("ip_range") else [], gateways)
    subnet6 = next((item for item in subnets if ":" in item), None)
    return _manager().create(
        name, driver=options.get("driver") or "bridge",
        subnet=next((item for item in subnets if ":" not in item), None),
        gateway=next((item for item in gateways if ":" not in item), None),
        ip_range=options.get("ip_range"), internal=bool(options.get("internal")),
        attachable=bool(options.get("attachable")), labels=pairs(options.get("label"), "--label"),
        options=pairs(options.get("opt"), "--opt"), ipv6=bool(options.get("ipv6")) or bool(subnet6),
        subnet6=subnet6)


def check_ipam(subnets: list[str], ranges: list[str], gateways: list[str]) -> None:
    """docker's CLI checks of ``--subnet``/``--ip-range``/``--gateway`` before it asks the daemon
    (``consolidateIpam``): each range and gateway inside a subnet; its words alone, exit 1."""
    from composer.errors import FlagError

    if len(subnets) < len(ranges) or len(subnets) < len(gateways):
        raise FlagError("every ip-range or gateway must have a corresponding subnet", exit_code=1)
    import ipaddress

    def inside(subnet: str, value: str, cidr: bool) -> bool:
        """Go's ParseCIDR of ``subnet``, then of ``value`` (a range; a gateway with a ``/``) or its
        ParseIP (an address that is none lies in no subnet)."""
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise FlagError(f"invalid subnet: invalid CIDR address: {subnet}", exit_code=1) from None
        try:
            address = ipaddress.ip_interface(value).ip if cidr or "/" in value else ipaddress.ip_address(value)
        except ValueError:
            if cidr or "/" in value:
                raise FlagError(f"invalid CIDR address: {value}", exit_code=1) from None
            return False
        return address.version == network.version and address in network

    for kind, values in (("range", ranges), ("gateway", gateways)):
        for value in values:
            if kind == "range" and "/" not in value:
                raise FlagError(f"invalid CIDR address: {value}", exit_code=1)
            if not any(inside(subnet, value, kind == "range") for subnet in subnets):
                raise FlagError(f"no matching subnet for {kind} {value}", exit_code=1)


def _ls(options: dict, arguments: list[str]) -> int:
    for line in ls_lines(_manager().list(), options):
        print(line)
    return 0


def _inspect(options: dict, arguments: list[str]) -> int:
    return show_inspected(*inspect_networks(arguments), options.get("format"))


def show_inspected(found: list[dict], missing: list[str], output_format: str | None) -> int:
    """``network inspect``'s output (a JSON array, or a Go template's line each) and errors; its
    exit code."""
    if output_format and output_format != "json":
        from composer.cli.render import print_templated

        code = print_templated(output_format, found, prepare=_template_view)
        return code if code == 64 else max(code, report_missing(missing))
    from composer.cli.gotemplate import go_json

    print(go_json(found, indent=4, escape_html=False))  # dockerd's JSON
    return report_missing(missing)


def report_missing(missing: list[str]) -> int:
    """docker's lines for networks ``inspect`` did not find (stderr); its exit code."""
    import sys

    for name in missing:
        print(f"Error response from daemon: network {name} not found", file=sys.stderr)
    return 1 if missing else 0


def inspect_networks(names: list[str]) -> tuple[list[dict], list[str]]:
    """(``network inspect`` objects of the networks found, the names not found), one read."""
    store = _manager().store
    networks = store.all()
    predefined = predefined_networks(networks)
    found = [store.find(name, networks) or store.find(name, predefined) for name in names]
    shown = [_predefined_inspect(net) if net in predefined else net.inspect() for net in found if net is not None]
    return ([{**doc, "Created": rfc3339_nano(doc["Created"])} for doc in shown],
            [n for n, net in zip(names, found) if net is None])


PREDEFINED = {name: driver for name, (_id, driver) in PREDEFINED_NETWORKS.items()}  # name -> driver


def predefined_networks(stored: list) -> list:
    """docker's pre-defined ``host`` and ``none`` networks (composer's containers use those modes
    without a record of them): the same id every time, the state root's time; ``stored`` (the
    stored networks) wins a name."""
    import os
    import time

    from composer.engine.runtime.describe import predefined_network_id
    from composer.network.model import Network
    from composer.settings import state_root_dir

    try:
        when = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(os.stat(state_root_dir()).st_ctime))
    except OSError:
        when = "0001-01-01T00:00:00Z"
    taken = {net.name for net in stored}
    return [Network(id=predefined_network_id(name), name=name, bridge="", subnet="", gateway="", created=when,
                    driver=driver)
            for name, driver in PREDEFINED.items() if name not in taken]


def _predefined_inspect(net) -> dict:
    """``network inspect host|none``: docker's shape, the running containers of that mode."""
    from composer.engine.runtime.containers import list_containers

    members = {info.id: {"Name": info.name, "EndpointID": "", "MacAddress": "", "IPv4Address": "", "IPv6Address": ""}
               for info in list_containers(all=False) if info.networks[:1] == [net.name]}
    return {"Name": net.name, "Id": net.id, "Created": net.created, "Scope": "local", "Driver": net.driver,
            "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None, "Config": []}, "Internal": False,
            "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": members, "Options": {}, "Labels": {}}


def _rm(options: dict, arguments: list[str]) -> int:
    return remove_networks(arguments, bool(options.get("force")))


def remove_networks(names: list[str], force: bool) -> int:
    """Remove each network, printing its name, as docker: a failure is reported (the daemon's
    wording) and the others still go, exit 1; ``force``: a missing network is skipped silently."""
    from composer.cli.render import each_reference
    from composer.errors import NetworkError
    from composer.network.store import NetworkNotFound

    manager = _manager()

    def remove(name: str) -> str | None:
        try:
            manager.remove(name)
        except NetworkNotFound:
            if name in PREDEFINED:
                raise NetworkError(f"{name} is a pre-defined network and cannot be removed") from None
            if force:
                return None
            raise
        except NetworkError as error:  # in use: dockerd's words alone (compose names the containers)
            error.hint = None
            raise
        return name

    code = each_reference(names, remove)
    if code:  # docker 28's CLI ends a failed network rm so
        import sys

        print("exit status 1", file=sys.stderr)
    return code


COMMANDS = {"create": _create, "ls": _ls, "inspect": _inspect, "rm": _rm}


def pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """``key=value`` options (a bare key means an empty value, as docker's --label)."""
    result = {}
    for value in values or []:
        key, _, val = value.partition("=")
        if not key:
            raise UsageError(f"invalid {flag} {value!r}", hint="use KEY=VALUE")
        result[key] = val
    return result


def ls_rows(networks: list, options: dict) -> list[dict[str, str]]:
    """The ``ls_row`` of each network (and of docker's pre-defined ones) passing ``options``'
    ``filter`` list, by name as docker sorts them (``no_trunc``: full ids)."""
    filters: dict[str, list[str]] = {}
    if options.get("filter"):
        from composer.cli.psformat import parse_filters

        filters = check_values(parse_filters(options["filter"], NETWORK_FILTERS, {}, "network ls"))
    width = 64 if options.get("no_trunc") else 12
    listed = sorted([*networks, *predefined_networks(networks)], key=lambda net: _natural(net.name))
    used = _used_networks() if "dangling" in filters else set()
    return [ls_row(net, width) for net in listed if matches(net, filters, used)]


NETWORK_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")
TRUTHS = {"true": True, "1": True, "false": False, "0": False}


def check_values(filters: dict[str, list[str]]) -> dict[str, list[str]]:
    """``type`` and ``dangling`` values refused in dockerd's words."""
    from composer.errors import FilterError

    for value in filters.get("type", ()):
        if value not in ("custom", "builtin"):
            raise FilterError(f"invalid filter: 'type'='{value}'")
    for value in filters.get("dangling", ()):
        if value.lower() not in TRUTHS:
            raise FilterError("invalid value for filter 'dangling', must be \"true\" (or \"1\"), "
                              "or \"false\" (or \"0\")")
    return filters


def _natural(name: str) -> list:
    """docker's natural sort key: digit runs compared as numbers (``net2`` before ``net10``)."""
    from itertools import groupby

    return [(0, int(text), "") if digits else (1, 0, text)
            for digits, chars in groupby(name, str.isdigit) for text in ["".join(chars)]]


def _used_networks() -> set[str]:
    """The names of the networks a running container is on (``dangling``)."""
    from composer.engine.runtime.containers import list_containers

    return {name for info in list_containers(all=False) for name in info.networks}


LS_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4",
              "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}


def ls_lines(networks: list, options: dict) -> list[str]:
    """``network ls`` output (``quiet``, ``no_trunc``, ``format``: table, json or a Go template,
    ``filter`` list). As docker: ``quiet`` prints the IDs unless a template or json is asked."""
    rows = ls_rows(networks, options)
    output_format = options.get("format") or "table"
    if output_format == "table" and options.get("quiet"):
        return [row["ID"] for row in rows]
    if output_format == "table":  # the usual listing: no template engine (nor re, json) to import
        from composer.cli.render import columns

        return columns([["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
                        *([row["ID"], row["Name"], row["Driver"], row["Scope"]] for row in rows)])
    from composer.cli.psformat import render

    return render(rows, output_format, LS_HEADERS, True, "*network.networkContext")


def matches(net, filters: dict[str, list[str]], used: "set[str]" = frozenset()) -> bool:
    """Whether ``net`` passes docker's ``network ls`` filters (``check_values``' groups): name
    and id are regular expressions, driver exact, every label, type custom|builtin, dangling (no
    running container on it; never a pre-defined one), scope local; ``used``: the networks in use."""
    if not filters:
        return True
    from composer.cli.psformat import regexp_search

    builtin = net.default or net.name in PREDEFINED
    tests = {"name": lambda w: regexp_search(w, net.name), "id": lambda w: regexp_search(w, net.id),
             "driver": lambda w: w == net.driver, "scope": lambda w: w == "local",
             "type": lambda w: (w == "builtin") == builtin,
             "dangling": lambda w: TRUTHS[w.lower()] == (not builtin and net.name not in used)}
    return all(all(_label_match(net.labels, w) for w in wanted) if key == "label" else any(map(tests[key], wanted))
               for key, wanted in filters.items())


def ls_row(net, width: int) -> dict[str, str]:
    """One ``network ls`` row as docker's ``--format`` fields (its JSON's key order and time format)."""
    from composer.cli.render import labels_text

    return {"CreatedAt": go_time(net.created), "Driver": net.driver, "ID": net.id[:width],
            "IPv4": str(net.name not in PREDEFINED).lower(), "IPv6": str(net.ipv6).lower(),
            "Internal": str(net.internal).lower(), "Labels": labels_text(net.labels), "Name": net.name,
            "Scope": "local"}


def _template_view(doc: dict) -> dict:
    """A ``network inspect`` document as docker's template sees it: ``Created`` a time.Time."""
    return {**doc, "Created": go_time(doc["Created"])} if "Created" in doc else doc


def go_time(stamp: str) -> str:
    """An RFC 3339 UTC time as Go prints a time.Time (``{{.Created}}``, ls' CreatedAt):
    ``2026-11-24 06:01:10.20028934 +0000 UTC``, the fraction's trailing zeros dropped."""
    day, _, clock = stamp.rstrip("Z").partition("T")
    whole, _, fraction = clock.partition(".")
    fraction = fraction.rstrip("0")
    return f"{day} {whole}{'.' + fraction if fraction else ''} +0000 UTC" if clock else stamp


def rfc3339_nano(stamp: str) -> str:
    """Go's RFC3339Nano of the same time (inspect's JSON): no trailing zeros, none at all for
    whole seconds (``2026-11-24T06:01:10Z``)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}{'.' + fraction if fraction else ''}Z" if stamp.endswith("Z") else stamp


def _label_match(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def port_lines(container_id: str, private: str | None = None, reference: str = "") -> list[str]:
    """``container port`` output: ``80/tcp -> 0.0.0.0:32768`` lines (only the host addresses when
    ``private`` (``80`` or ``80/udp``) is given); docker's error when that port is not published.
    A binding on all addresses of a container with an IPv6 address is also ``[::]:PORT``, as
    docker lists it (composer forwards IPv6 to a container only when it has an IPv6 address)."""
    pairs = [(port, ep.ipv6) for _net, ep in _manager().endpoints_of(container_id) for port in ep.ports]
    if private:
        number, _, proto = private.partition("/")
        pairs = [(b, v6) for b, v6 in pairs if str(b.container_port) == number and b.proto == (proto or "tcp")]
        if not pairs:
            raise UsageError(f"No public port '{private}' published for {reference or container_id[:12]}")
    lines = []
    for binding, ipv6 in sorted(pairs, key=lambda pair: (pair[0].container_port, pair[0].proto, pair[0].host_port)):
        hosts = [f"[{binding.host_ip}]" if ":" in binding.host_ip else binding.host_ip or "0.0.0.0"]
        if not binding.host_ip and ipv6:
            hosts.append("[::]")
        for host in hosts:
            address = f"{host}:{binding.host_port}"
            lines.append(address if private else f"{binding.container_port}/{binding.proto} -> {address}")
    return lines


def container_port_main(argv: list[str]) -> int:
    """``composer container port CONTAINER [PRIVATE_PORT[/PROTO]]`` (a FAST_PATHS entry), with
    docker's words: its usage error, ``Error: invalid port (x)``, ``Error: No public port ...``."""
    import sys

    usage = "Usage:  composer container port CONTAINER [PRIVATE_PORT[/PROTO]]"
    if argv and argv[0] in ("-h", "--help"):
        print(f"{usage}\n\nList port mappings or a specific mapping for the container")
        return 0
    from composer.cli.dockerusage import check_arity

    check_arity("container port", argv)
    from composer.cli.render import daemon_errors
    from composer.engine.runtime.state import find_container

    container = daemon_errors(find_container)(argv[0])  # docker looks the container up first
    number = argv[1].partition("/")[0] if len(argv) > 1 else "0"
    if not number.isdigit() or int(number) > 65535:
        problem = "value out of range" if number.isdigit() else "invalid syntax"
        print(f'Error: invalid port ({number}): strconv.ParseUint: parsing "{number}": {problem}', file=sys.stderr)
        return 1
    try:
        lines = port_lines(container.id, argv[1] if len(argv) > 1 else None, argv[0])
    except UsageError as error:
        print(f"Error: {error.message}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
