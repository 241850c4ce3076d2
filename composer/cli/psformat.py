"""``container ls`` presentation: docker's status words, filters and ``--format`` (Go template subset).

Supported templates: ``table``, ``json``, and text with ``{{.Field}}``, ``{{json .Field}}``,
``{{json .}}`` and ``\\t``; ``table TEMPLATE`` adds a header row (docker's column titles).
"""

from __future__ import annotations

import json
import re
import time

from composer.errors import UsageError
from composer.units import human_duration as ago  # docker's HumanDuration ("3 hours")

TEMPLATE_FIELD = re.compile(r"{{\s*(json\s+)?\.([A-Za-z0-9]*)\s*}}")
HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
           "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "State": "STATE",
           "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "Size": "SIZE"}
HEADERS.update({"CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",  # stats
                "NetIO": "NET I/O", "BlockIO": "BLOCK I/O"})
LABEL_CALL = re.compile(r'{{\s*\.Label\s+"([^"]*)"\s*}}')
DEFAULT_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"


def status_text(info, now: float | None = None) -> str:
    """``Up 5 seconds (healthy)``, ``Exited (0) 3 minutes ago``, ``Created`` ..."""
    now = time.time() if now is None else now
    if info.state in ("running", "paused"):
        text = f"Up {ago(now - info.started_at)}"
        if info.state == "paused":
            return text + " (Paused)"
        if info.health == "starting":
            return text + " (health: starting)"
        return text + (f" ({info.health})" if info.health in ("healthy", "unhealthy") else "")
    if info.state == "restarting":
        return f"Restarting ({info.exit_code}) {ago(now - info.finished_at)} ago"
    if info.state == "exited":
        return f"Exited ({info.exit_code}) {ago(now - info.finished_at)} ago"
    return info.state.capitalize()


def row(info, truncate: bool = True) -> dict:
    """docker ps --format json's fields for one container (and its ``.Label "KEY"`` method)."""
    command = info.command if not truncate or len(info.command) <= 20 else info.command[:19] + "…"
    return {"Command": json.dumps(command, ensure_ascii=False),
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(info.created)),
            "ID": info.id[:12] if truncate else info.id, "Image": short_image(info.image),
            "Labels": ",".join(f"{k}={v}" for k, v in info.labels.items()),
            "LocalVolumes": str(sum(1 for m in info.mounts if m and "/" not in m)),
            "Mounts": ",".join(m if not truncate or len(m) <= 15 else m[:14] + "…" for m in info.mounts),
            "Names": info.name, "Networks": ",".join(info.networks), "Platform": None,
            "Ports": ports_text(info.ports) if info.state in ("running", "paused", "restarting") else "",
            "RunningFor": ago(time.time() - info.created) + " ago",
            "Size": "0B", "State": info.state, "Status": status_text(info),
            "Label": lambda key: info.labels.get(key, "")}


def short_image(image: str) -> str:
    """The image as ``docker ps`` shows one given without registry or tag: ``busybox``."""
    return image.removeprefix("docker.io/library/").removesuffix(":latest")


def ports_text(specs: list[str]) -> str:
    """docker ps's PORTS: ``0.0.0.0:8080->80/tcp`` for each published port with a fixed host port."""
    from composer.engine.status import host_port
    from composer.network.ports import parse_publish

    shown = []
    for spec in specs:
        for port in parse_publish(spec):
            host = f"{host_port(port.host_ip or '0.0.0.0', port.host_port)}->" if port.host_port else ""
            shown.append(f"{host}{port.container_port}/{port.proto}")
    return ", ".join(shown)


STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
FILTER_KEYS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name",
               "network", "publish", "since", "status", "volume")


def parse_filters(filters: list[str], keys: tuple[str, ...] = FILTER_KEYS,
                  values: "dict[str, tuple[str, ...]] | None" = None) -> dict[str, list[str]]:
    """``--filter KEY=VALUE`` items grouped by key; a key not in ``keys`` or a value not in
    ``values[key]`` is refused as docker refuses it (default: ``container ls``'s keys, statuses)."""
    values = {"status": STATUSES} if values is None else values
    groups: dict[str, list[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f'invalid argument "{item}" for "-f, --filter" flag: '
                             "bad format of filter (expected name=value)", exit_code=125)
        if key not in keys:
            raise UsageError(f"Invalid filter '{key}'")
        if key in values and value.lower() not in values[key]:
            raise UsageError(f"Invalid filter '{key}={value}'")
        groups.setdefault(key, []).append(value)
    return groups


def matches(info, filters: "list[str] | dict[str, list[str]]", created_of=None) -> bool:
    """``--filter`` (``parse_filters``' groups; same key: any value; keys: all); ``created_of``
    gives a container's creation time for ``before``/``since``."""
    groups = parse_filters(filters) if isinstance(filters, list) else filters
    return all(any(_match_one(info, key, value, created_of) for value in values) for key, values in groups.items())


def _match_one(info, key: str, value: str, created_of=None) -> bool:
    if key == "label":
        name, sep, wanted = value.partition("=")
        return name in info.labels and (not sep or info.labels[name] == wanted)
    if key == "name":
        return re.search(value, info.name) is not None
    if key == "id":
        return info.id.startswith(value)
    if key == "status":
        return info.state == value
    if key == "health":
        return info.health == value
    if key == "exited":
        return info.state == "exited" and str(info.exit_code) == value
    if key == "ancestor":
        return short_image(value) == short_image(info.image) or info.image_id.removeprefix("sha256:").startswith(
            value.removeprefix("sha256:"))
    if key in ("before", "since") and created_of is not None:
        created = created_of(value)
        return info.created < created if key == "before" else info.created > created
    if key == "network":
        return value in info.networks
    if key == "volume":
        return value in info.mounts
    if key == "is-task":
        return value == "false"
    return True  # expose, publish, isolation: not recorded per container here


def render(rows: list[dict], template: str, headers: dict[str, str] = HEADERS, strict: bool = False) -> list[str]:
    """The output lines of ``--format template``: ``table`` (docker's columns), ``json`` (one
    object a line) or a Go template; ``table TEMPLATE`` adds docker's column titles. ``strict``:
    a field the rows do not have is an error, as for docker's own commands."""
    from composer.cli.gotemplate import render as execute

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

    groups = parse_filters(filters)
    everything = list_containers(all=True)
    created = {name: i.created for i in everything for name in (i.name, i.id)}

    def created_of(reference: str) -> float:
        if reference not in created:
            from composer.errors import ContainerNotFound

            raise ContainerNotFound(f"No such container: {reference}")
        return created[reference]

    infos = [i for i in everything if matches(i, groups, created_of)]
    if not (all_ or last > 0) and not any(f.startswith(("status=", "exited=")) for f in filters):
        infos = [i for i in infos if i.state in ("running", "paused", "restarting")]
    infos.reverse()  # newest first, as docker
    infos = infos[:last] if last > 0 else infos
    if quiet:
        warning = "WARNING: Ignoring custom format, because both --format and --quiet are set."
        return [info.id if no_trunc else info.id[:12] for info in infos], [warning] if output_format else []
    template = output_format or (DEFAULT_TABLE + ("\t{{.Size}}" if size else ""))
    rows = [row(i, not no_trunc) for i in infos]
    if size or ".Size" in template:
        from composer.engine.images.store import ImageStore

        db = ImageStore().read_db()  # once for every row
        for info, values in zip(infos, rows):
            values["Size"] = _size_text(info, db)
    return render(rows, template, strict=True), []


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

