"""``container ls`` presentation (and the listings that share it): docker's status words, filters
and ``--format``: ``table``, ``json`` or a Go template (``composer.cli.gotemplate``); ``table
TEMPLATE`` adds a header row (docker's column titles).
"""

from __future__ import annotations

import json
import re
import time

from composer.cli.render import labels_text
from composer.engine.status import status_text
from composer.errors import UsageError
from composer.units import human_duration as ago  # docker's HumanDuration ("3 hours")

TEMPLATE_FIELD = re.compile(r"{{\s*(json\s+)?\.([A-Za-z0-9]*)\s*}}")
HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
           "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "State": "STATE",
           "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "Size": "SIZE",
           "LocalVolumes": "LOCAL VOLUMES", "Platform": "PLATFORM"}
HEADERS.update({"CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",  # stats
                "NetIO": "NET I/O", "BlockIO": "BLOCK I/O"})
WHOLE_ROW_JSON = re.compile(r"{{-?\s*json\s+\.\s*-?}}")  # marshals every field, .Size too (not --format json)
LABEL_CALL = re.compile(r'{{\s*\.Label\s+"([^"]*)"\s*}}')
DEFAULT_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"


def row(info, truncate: bool = True) -> dict:
    """docker ps --format json's fields for one container (and its ``.Label "KEY"`` method)."""
    command = info.command if not truncate or len(info.command) <= 20 else info.command[:19] + "…"
    return {"Command": json.dumps(command, ensure_ascii=False),
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(info.created)),
            "ID": info.id[:12] if truncate else info.id, "Image": short_image(info.image),
            "Labels": labels_text(info.labels),
            "LocalVolumes": str(sum(1 for m in info.mounts if m and "/" not in m)),
            "Mounts": ",".join(m if not truncate or len(m) <= 15 else m[:14] + "…" for m in info.mounts),
            "Names": info.name, "Networks": ",".join(sorted(info.networks)), "Platform": None,
            "Ports": ports_text(info.ports, info.exposed) if info.state in ("running", "paused", "restarting") else "",
            "RunningFor": ago(time.time() - info.created) + " ago",
            "Size": "0B", "State": info.state, "Status": status_text(info),
            "Label": lambda key: info.labels.get(key, "")}


def short_image(image: str) -> str:
    """The image as ``docker ps`` shows one given without registry or tag: ``busybox``."""
    from composer.engine.runtime.describe import familiar_image

    return familiar_image(image)


def ports_text(specs: list[str], exposed: "list[str]" = ()) -> str:
    """docker ps's PORTS of a running container (``engine.status.displayable_ports``) from its
    ``-p`` specs (a host port picked at start is unknown here: shown as exposed) and ``exposed``
    ports (``90/tcp``): ``90/tcp, 127.0.0.1:8080->80/tcp``."""
    from types import SimpleNamespace as PortSpec  # (runtime.base's PortSpec costs ms of imports here)

    from composer.engine.status import displayable_ports, port_items

    ports = {(number, proto): PortSpec(target=number, published="", host_ip="", protocol=proto)
             for number, proto in port_items(exposed)}
    published = []
    for port in _bindings(specs):
        ports.pop((port.container_port, port.proto), None)
        fixed = port.host_port and not port.host_port_end
        published.append(PortSpec(target=port.container_port, published=str(port.host_port) if fixed else "",
                                  host_ip=port.host_ip if fixed else "", protocol=port.proto))
    return displayable_ports([*ports.values(), *published])


STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
FILTER_KEYS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name",
               "network", "publish", "since", "status", "volume")


def parse_filters(filters: list[str], keys: tuple[str, ...] = FILTER_KEYS,
                  values: "dict[str, tuple[str, ...]] | None" = None, command: str = "") -> dict[str, list[str]]:
    """``--filter KEY=VALUE`` items grouped by key; a key not in ``keys`` or a value not in
    ``values[key]`` is refused as docker refuses it (default: ``container ls``'s keys, statuses);
    ``command`` (``network ls``): docker's usage block under an item without ``=``."""
    from composer.errors import FilterError, FlagError

    values = {"status": STATUSES} if values is None else values
    groups: dict[str, list[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:  # (a FlagError naming its command: render shows docker's usage block)
            raise (FlagError if command else UsageError)(
                f'invalid argument "{item}" for "-f, --filter" flag: bad format of filter (expected name=value)',
                exit_code=125, hint=command and f"See 'composer {command} --help'.")
        if key not in keys:
            raise FilterError(f"Invalid filter '{key}'")
        if key in values and value.lower() not in values[key]:
            raise FilterError(f"Invalid filter '{key}={value}'")
        groups.setdefault(key, []).append(value)
    return groups


HEALTH_VALUES = ("starting", "healthy", "unhealthy", "none")


def check_ps_values(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """``container ls``'s filter values checked as dockerd checks them (before listing):
    ``health``'s words, ``exited``'s integers, ``publish``/``expose`` ports (``80``, ``80/udp``,
    ``8000-8010``); the port filters come back as ``PORT/PROTO`` items."""
    from composer.errors import FilterError

    for value in groups.get("health", ()):
        if value not in HEALTH_VALUES:
            raise FilterError(f"Unrecognised filter value for health: {value}")
    for value in groups.get("exited", ()):
        if not value.lstrip("+-").isdigit():
            raise FilterError(f'strconv.Atoi: parsing "{value}": invalid syntax')
    checked = dict(groups)
    for key in ("publish", "expose"):
        if key in groups:
            checked[key] = [port for value in groups[key] for port in _filter_ports(key, value)]
    return checked


def _filter_ports(key: str, value: str) -> list[str]:
    """dockerd's ``portOp``: ``80``, ``80/udp`` or ``8000-8010[/tcp]`` as ``PORT/PROTO`` items."""
    from composer.errors import FilterError

    if ":" in value:
        raise FilterError(f"filter for '{key}' should not contain ':': {value}")
    numbers, _, proto = value.partition("/")
    first, _, last = numbers.partition("-")
    for number in (first, last or first):
        if not number.isdigit() or int(number) > 65535:
            problem = "value out of range" if number.isdigit() else "invalid syntax"
            raise FilterError(f'error while looking up for {key} {value}: strconv.ParseUint: parsing "{number}": '
                              f"{problem}")
    return [f"{port}/{proto or 'tcp'}" for port in range(int(first), int(last or first) + 1)]


def matches(info, filters: "list[str] | dict[str, list[str]]", created_of=None, network_ids=None) -> bool:
    """``--filter`` (``parse_filters``' groups; same key: any value, but every ``label``; keys:
    all); ``created_of`` gives a container's creation time for ``before``/``since``,
    ``network_ids`` a network name's id (the ``network`` filter takes an id prefix too)."""
    groups = parse_filters(filters) if isinstance(filters, list) else filters
    return all((all if key == "label" else any)(_match_one(info, key, value, created_of, network_ids)
                                                for value in values) for key, values in groups.items())


def _match_one(info, key: str, value: str, created_of=None, network_ids=None) -> bool:
    live = info.state in ("running", "paused", "restarting")
    if key == "label":
        name, sep, wanted = value.partition("=")
        return name in info.labels and (not sep or info.labels[name] == wanted)
    if key == "name":
        return regexp_search(value, info.name)
    if key == "id":  # dockerd looks ids up by prefix: "" finds none
        return bool(value) and info.id.startswith(value)
    if key == "status":
        return info.state == value
    if key == "health":
        return info.health == value
    if key == "exited":
        return info.state == "exited" and info.exit_code == int(value)
    if key == "ancestor":
        return short_image(value) == short_image(info.image) or info.image_id.removeprefix("sha256:").startswith(
            value.removeprefix("sha256:"))
    if key in ("before", "since") and created_of is not None:
        created = created_of(value)
        return info.created < created if key == "before" else info.created > created
    if key == "network":
        ids = network_ids or {}
        return value in info.networks or any(ids.get(name, "").startswith(value) for name in info.networks)
    if key == "volume":  # a volume's name, a bind's source or a mount's destination
        return value in info.mounts or value in info.targets
    if key == "publish":  # the host ports of a running container
        return live and value in _published(info.ports)
    if key == "expose":  # the container ports of a running container
        from composer.engine.status import port_items

        return live and value in {f"{port}/{proto}" for port, proto in port_items(info.exposed)} | {
            f"{p.container_port}/{p.proto}" for p in _bindings(info.ports)}
    if key == "is-task":
        return value == "false"
    return True  # isolation: every container is "default" here


def regexp_search(pattern: str, text: str) -> bool:
    """Go's ``regexp.MatchString`` as dockerd's ``name`` filters use it (anywhere in ``text``); a
    pattern that does not compile matches nothing, as there."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _bindings(specs: list[str]) -> list:
    from composer.network.ports import parse_publish

    return [port for spec in specs for port in parse_publish(spec)]


def _published(specs: list[str]) -> set[str]:
    """``PORT/PROTO`` of each fixed host port ``specs`` publish (one picked at start, random or
    from a range, is not recorded)."""
    return {f"{binding.host_port}/{binding.proto}" for binding in _bindings(specs)
            if binding.host_port and not binding.host_port_end}


def render(rows: list[dict], template: str, headers: dict[str, str] = HEADERS, strict: bool = False,
           context: str = "", prefixes: "tuple[str, str] | None" = None) -> list[str]:
    """The output lines of ``--format template``: ``table`` (docker's columns), ``json`` (one
    object a line) or a Go template; ``table TEMPLATE`` adds docker's column titles. ``strict``:
    a field the rows do not have is an error, as for docker's own commands, worded as docker's
    CLI words it when ``context`` names the Go type of its rows (``gotemplate.docker_words``)."""
    from composer.cli.gotemplate import TemplateError

    try:
        return _render(rows, template, headers, strict)
    except TemplateError as error:
        if not context:
            raise
        from composer.cli.gotemplate import PARSING_ERROR, docker_words
        from composer.errors import FlagError

        raise FlagError(docker_words(error, context, prefixes or PARSING_ERROR), exit_code=1) from None


def _render(rows: list[dict], template: str, headers: dict[str, str], strict: bool) -> list[str]:
    from composer.cli.gotemplate import FormatterContext, render as execute

    rows = [FormatterContext(r) for r in rows]
    if template == "json":
        template = "{{json .}}"
    if template in ("", "table"):
        template = DEFAULT_TABLE
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    if not template.startswith("table"):
        return [execute(template, r, strict) for r in rows]
    template = template[5:].lstrip()
    header = TEMPLATE_FIELD.sub(lambda m: headers.get(m.group(2), m.group(2).upper()), template)
    header = LABEL_CALL.sub(lambda m: m.group(1), header)  # {{.Label "tier"}}: docker's title is the key
    return align([header, *(execute(template, r, strict) for r in rows)])


def align(lines: list[str], minimum: int = 10) -> list[str]:
    """Tab-separated cells padded into columns as docker's tabwriter (``render.columns``)."""
    from composer.cli.render import columns

    return columns([line.split("\t") for line in lines], minimum)


def docker_ps_format() -> str | None:
    """``psFormat`` of the docker CLI's config.json (``$DOCKER_CONFIG``, else ``~/.docker``): the
    format ``docker compose ps`` uses when no ``--format`` is given; None when unset or unreadable."""
    import os

    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(directory, "config.json"), encoding="utf-8") as handle:
            value = json.load(handle).get("psFormat")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def ps_lines(all_: bool, quiet: bool, filters: list[str], output_format: str, last: int = -1,
             size: bool = False, no_trunc: bool = False) -> tuple[list[str], list[str]]:
    """``container ls``: (its output lines, its warnings); ``last`` > 0: the newest ``last``
    containers of any state (``-n``; ``-l`` is 1)."""
    from composer.engine.runtime.containers import list_containers
    from composer.engine.runtime.describe import ContainerInfo

    groups = check_ps_values(parse_filters(filters, command="container ls"))
    template = output_format or (DEFAULT_TABLE + ("\t{{.Size}}" if size else ""))
    if not quiet:  # docker's CLI runs the template once before it lists (to see whether it asks for .Size)
        _ps_render([row(ContainerInfo(id="", name="", image="", image_id="", labels={}, created=0.0, state="created"))],
                   template)
    everything = list_containers(all=True)
    created = {name: i.created for i in everything for name in (i.name, i.id)}

    def created_of(reference: str) -> float:
        if reference not in created:
            from composer.errors import FilterError

            raise FilterError(f"no such container {reference}")  # dockerd's words for before=/since=
        return created[reference]

    ids = None
    if "network" in groups:  # (by name or id)
        from composer.engine.runtime.describe import network_ids

        ids = network_ids()
    infos = [i for i in everything if matches(i, groups, created_of, ids)]
    if not (all_ or last > 0) and not any(f.startswith(("status=", "exited=")) for f in filters):
        infos = [i for i in infos if i.state in ("running", "paused", "restarting")]
    infos.reverse()  # newest first, as docker
    infos = infos[:last] if last > 0 else infos
    if quiet:
        warning = "WARNING: Ignoring custom format, because both --format and --quiet are set."
        return [info.id if no_trunc else info.id[:12] for info in infos], [warning] if output_format else []
    rows = [row(i, not no_trunc) for i in infos]
    if size or ".Size" in template or WHOLE_ROW_JSON.search(template):  # as docker's CLI asks for sizes
        from composer.engine.images.store import ImageStore

        db = ImageStore().read_db()  # once for every row
        for info, values in zip(infos, rows):
            values["Size"] = _size_text(info, db)
    return _ps_render(rows, template), []


def _ps_render(rows: list[dict], template: str) -> list[str]:
    return render(rows, template, strict=True, context="*formatter.ContainerContext",
                  prefixes=("failed to parse template: ", "failed to execute template: "))


def _size_text(info, db: dict) -> str:
    """``docker ps -s``'s SIZE: the writable layer, and with the image's size (``0B (virtual 4.26MB)``);
    ``db``: the image store's ``read_db()``."""
    from composer.engine.images.catalog import image_size
    from composer.engine.runtime.layerview import disk_usage
    from composer.engine.runtime.state import ContainerDir
    from composer.units import human_size  # (3 digits here, as docker's ps)

    record = db["images"].get(info.image_id)
    written = disk_usage(ContainerDir(info.id).upper)
    return f"{human_size(written)} (virtual {human_size(written + (image_size(db, record) if record else 0))})"

