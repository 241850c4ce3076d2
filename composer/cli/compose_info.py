"""Read-only compose commands: ``top``, ``port``, ``images``, ``ls``, ``events``, ``stats``.

No ``from __future__ import annotations``: typer reads the annotations at registration.
"""

import json
from typing import Any, List, Optional

import typer

from composer.cli import compose as C
from composer.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add the read-only compose commands."""
    _register_port_top(app)
    _register_images_ls(app)
    _register_events_stats(app)


def _register_port_top(app: typer.Typer) -> None:
    @app.command("port")
    def port(ctx: typer.Context, service: str = typer.Argument(...), private_port: str = typer.Argument(...),
             protocol: str = typer.Option("tcp", "--protocol", help="tcp or udp."),
             index: int = typer.Option(0, "--index", help="Index of the container if service has multiple replicas.")
             ) -> None:
        """Print the public port for a port binding."""
        if not private_port.isdigit() or int(private_port) > 65535:
            raise UsageError(f'strconv.ParseUint: parsing "{private_port}": invalid syntax',
                             hint="give the container's port number")
        _, name = C.load_or_name(ctx)
        typer.echo(public_port(specified_container(name, service, index), int(private_port), protocol.lower()))

    @app.command("top")
    def top(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None)) -> None:
        """Display the running processes."""
        from composer.engine import labels as L

        _, name = C.load_or_name(ctx)  # as compose: the project's name is enough
        inspect = C.make_runtime().inspect_container
        owners = {}  # host pid -> (service, container number)
        for container in C.containers_of(name, services or (), oneoff=True):  # one-offs too, as compose
            if container.state in ("running", "paused"):  # as docker top: a paused one's processes too
                pid = int(inspect(container.id).get("State", {}).get("Pid") or 0)
                owner = (container.labels.get(L.SERVICE, ""), container.labels.get(L.CONTAINER_NUMBER, ""))
                owners.update((int(row[1]), owner) for row in processes_of(pid))
        if owners:
            rows = [[*owners[int(row[1])], *row] for row in _ps_full(sorted(owners))]
            _print_rows(["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                        sorted(rows, key=lambda r: (r[0], int(r[1] or 0), int(r[3]))), gap=2, minimum=4)


def specified_container(project: str, service: str, index: int = 0) -> Any:
    """The running container of ``service`` that ``exec`` and ``port`` act on, as compose picks it:
    number ``index`` (0: the lowest number), one-off containers last; compose's errors otherwise."""
    from composer.engine import labels as L
    from composer.errors import ContainerNotFound

    found = [c for c in C.containers_of(project, [service], index=index or None, oneoff=True)
             if c.state == "running"]
    if not found:
        suffix = f" container #{index}" if index else ""
        raise ContainerNotFound(f'service "{service}" is not running{suffix}',
                                hint=f"start it with `composer up -d {service}`")
    return min(found, key=lambda c: (c.labels.get(L.ONEOFF) == "True", L.container_number(c.labels)))


def public_port(container: Any, private_port: int, protocol: str) -> str:
    """``IP:PORT`` the container's ``private_port``/``protocol`` is published on (compose's error
    lists the container's published ports otherwise)."""
    for binding in container.ports:
        if binding.target == private_port and binding.protocol == protocol and binding.published:
            return f"{binding.host_ip or '0.0.0.0'}:{binding.published}"
    published = ", ".join(f"{b.published}/{b.protocol}" for b in container.ports if b.published)
    raise UsageError(f"no port {private_port}/{protocol} for container {container.name}: {published}",
                     hint="publish it with ports: in the compose file")


def _ps_full(pids: List[int]) -> List[List[str]]:
    """``ps -f`` columns (UID PID PPID C STIME TTY TIME CMD) of ``pids``, as ``docker top`` shows them."""
    import subprocess

    result = subprocess.run(["ps", "-f", "-p", ",".join(map(str, pids))], capture_output=True, text=True)
    return [line.split(None, 7) for line in result.stdout.splitlines()[1:] if line.strip()]


def processes_of(pid: int) -> List[List[Any]]:
    """(uid, pid, ppid, command) of every process in the PID namespace of ``pid``."""
    import os

    if not pid:
        return []
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    rows = []
    for entry in sorted((e for e in os.listdir("/proc") if e.isdigit()), key=int):
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != namespace:
                continue
            with open(f"/proc/{entry}/status") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        rows.append([status["Uid"].split()[0], entry, status["PPid"].strip(), command or status["Name"].strip()])
    return rows


def _print_rows(header: List[str], rows: List[List[str]], gap: int = 3, minimum: int = 0) -> None:
    """Aligned columns (docker's tabwriter: ``gap`` spaces of padding, cells at least ``minimum`` wide)."""
    from composer.cli.render import columns

    for line in columns([header, *rows], minimum, gap, trim=True):
        typer.echo(line)


def _register_images_ls(app: typer.Typer) -> None:
    @app.command("images")
    def images(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
               quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
               output_format: str = typer.Option("table", "--format", help="table or json.")) -> None:
        """List images used by the created containers."""
        from composer.cli.images import human_duration, human_size
        from composer.spec.render import go_json

        _, name = C.load_or_name(ctx)  # as compose: the project's name is enough
        containers = sorted(C.containers_of(name, services or (), oneoff=True), key=lambda c: c.name)
        if quiet:  # a row's ID is always its container's image id: nothing to inspect
            for image_id in dict.fromkeys(c.image_id.removeprefix("sha256:") for c in containers):
                typer.echo(image_id)
            return
        rows = image_rows(containers)
        if output_format == "json":
            typer.echo(go_json(rows))
        else:
            _print_rows(["CONTAINER", "REPOSITORY", "TAG", "PLATFORM", "IMAGE ID", "SIZE", "CREATED"],
                        [[r["ContainerName"], r["Repository"] or "<none>", r["Tag"] or "<none>", r["Platform"],
                          r["ID"].removeprefix("sha256:")[:12], human_size(r["Size"]),
                          human_duration(r.get("Created", ""))] for r in rows], minimum=20)

    @app.command("ls")
    def ls(all_: bool = typer.Option(False, "-a", "--all", help="Show all stopped Compose projects."),
           quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display project names."),
           filters: Optional[List[str]] = typer.Option(None, "--filter", help="Filter output (name=REGEX)."),
           output_format: str = typer.Option("table", "--format", help="Format the output. Values: [table | json]")
           ) -> None:
        """List running compose projects."""
        projects = [p for p in list_projects(all_) if project_matches(p["Name"], parse_ls_filters(filters or []))]
        if quiet:
            for project in projects:
                typer.echo(project["Name"])
        elif output_format == "json":
            typer.echo(json.dumps(projects, separators=(",", ":")))
        elif output_format == "table":
            _print_rows(["NAME", "STATUS", "CONFIG FILES"],
                        [[p["Name"], p["Status"], p["ConfigFiles"]] for p in projects], minimum=20)
        else:
            raise UsageError(f"format value {output_format!r} could not be parsed", hint="use table or json")


def parse_ls_filters(filters: List[str]) -> List[str]:
    """``ls --filter name=REGEX``: the name patterns (compose knows no other filter)."""
    patterns = []
    for item in filters:
        key, equals, value = item.partition("=")
        if not equals:
            raise UsageError(f"bad format of filter (expected name=value): {item}", hint="use --filter name=REGEX")
        if key != "name":
            raise UsageError(f"invalid filter '{key}'", hint="ls filters by name only")
        patterns.append(value)
    return patterns


def project_matches(name: str, patterns: List[str]) -> bool:
    """Whether a project's name equals or matches (anywhere, as Go's regexp) one of ``patterns``."""
    import re

    def matches(pattern: str) -> bool:
        try:
            return re.search(pattern, name) is not None
        except re.error:
            return False

    return not patterns or any(name == p or matches(p) for p in patterns)


def image_rows(containers: List[Any]) -> List[dict]:
    """``images --format json``'s records of the containers' images, each image inspected once
    (replicas share theirs)."""
    from composer.engine.images.catalog import inspect_image
    from composer.engine.images.store import ImageStore
    from composer.errors import ImageNotFound

    store, inspected = ImageStore(), {}
    for reference in dict.fromkeys(c.image for c in containers):
        try:
            inspected[reference] = inspect_image(store, reference)
        except ImageNotFound:
            inspected[reference] = None
    return [image_row(c, inspected[c.image]) for c in containers]


def image_row(container: Any, image: Optional[dict]) -> dict:
    """The record of one container's image (``image``: its inspection, None if there is none);
    an image untagged or removed since the container was created is still listed, with what the
    container knows of it."""
    repository, _, tag = container.image.rpartition(":") if ":" in container.image.split("/")[-1] \
        else (container.image, "", "latest")
    row = {"ID": container.image_id, "ContainerName": container.name, "Repository": repository, "Tag": tag,
           "Platform": "", "Size": 0}
    if image is None or image["Id"] != container.image_id:  # the tag moved on: its image is not this container's
        return row
    platform = "/".join(p for p in (image["Os"], image["Architecture"], image.get("Variant")) if p)
    row.update(ID=image["Id"], Platform=platform, Size=image["Size"])
    if image["Created"]:
        row["Created"] = image["Created"]
    if not image["Metadata"]["LastTagTime"].startswith("0001-"):
        row["LastTagTime"] = image["Metadata"]["LastTagTime"]
    return row


def list_projects(all_: bool) -> List[dict]:
    """``ls``: the projects with running containers (``all_``: with any container), each with the
    sorted ``exited(1), running(2)`` count of those containers and the union of their config files
    (newest container first), as compose lists them from ``docker ps [-a]``."""
    from composer.engine import labels as L

    found: dict = {}
    listed = C.make_runtime().list_containers({L.PROJECT: None, L.CONFIG_HASH: None}, all=all_)
    for container in sorted(listed, key=lambda c: -c.created):
        entry = found.setdefault(container.labels[L.PROJECT], {"states": {}, "files": []})
        entry["states"][container.state] = entry["states"].get(container.state, 0) + 1
        for path in container.labels.get(L.CONFIG_FILES, "").split(","):
            if path not in entry["files"]:
                entry["files"].append(path)
    return [{"Name": name, "Status": ", ".join(f"{state}({count})" for state, count in sorted(entry["states"].items())),
             "ConfigFiles": ",".join(entry["files"])} for name, entry in sorted(found.items())]


def _register_events_stats(app: typer.Typer) -> None:
    @app.command("events")
    def events(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
               as_json: bool = typer.Option(False, "--json", help="Output events as a stream of JSON objects."),
               since: Optional[str] = typer.Option(None, "--since", help="Show all events created since timestamp."),
               until: Optional[str] = typer.Option(None, "--until", help="Stream events until this timestamp.")) -> None:
        """Receive real time events from containers."""
        import itertools

        from composer.engine.monitor import ProjectMonitor

        start, end = C.parse_time(since), C.parse_time(until)
        project, name = C.load_or_name(ctx)
        if project is not None and services:
            from composer.engine.reconcile import select

            select(project, services, with_deps=False)  # no such service: ...
        with ProjectMonitor(name, tuple(services or ())) as monitor:
            past = monitor.history(start, end) if start is not None else []  # what the state records tell
            for change in itertools.chain(past, monitor.changes(until=end)):
                typer.echo(format_event(change, as_json))

    @app.command("stats")
    def stats(ctx: typer.Context, services: Optional[List[str]] = typer.Argument(None),
              all_: bool = typer.Option(False, "-a", "--all", help="Show all containers (default shows just running)."),
              output_format: str = typer.Option("", "--format", help="table, json or a Go template."),
              no_stream: bool = typer.Option(False, "--no-stream",
                                             help="Disable streaming stats and only pull the first result."),
              no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate output.")) -> None:
        """Display a live stream of container(s) resource usage statistics."""
        from composer.cli.containers import show_stats
        from composer.engine.runtime import containers
        from composer.engine.runtime.stats import target_of

        project = C.load(ctx)  # an unknown service is not an error: an empty table, as compose

        def targets() -> list:  # each frame: one listing, of this project's containers only
            from composer.engine import labels as L

            found = containers.list_containers(all=True, labels=L.project_filter(project.name))
            return [target_of(info, info.id) for info in sorted(found, key=lambda i: i.name)  # Container: full id
                    if (not services or info.labels.get(L.SERVICE) in services)  # one-offs too, as Compose
                    and (all_ or info.state in containers.LIVE)]

        show_stats(targets, output_format, no_stream, no_trunc)


def format_event(change: Any, as_json: bool) -> str:
    """One event as ``docker compose events`` prints it: ``--json``, its object with the keys
    sorted (Go's encoding of a map) and an RFC 3339 time without trailing zeros; else a line and,
    as compose 2.40 prints them, an empty line after it."""
    import datetime

    moment = datetime.datetime.fromtimestamp(change.time, datetime.timezone.utc)
    attributes = change.attributes()
    if as_json:
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"  # as Go's RFC3339Nano
        return json.dumps({"action": change.action, "attributes": attributes, "id": change.view.id,
                           "service": change.view.service, "time": stamp, "type": "container"},
                          separators=(",", ":"))
    pairs = ", ".join(f"{k}={v}" for k, v in attributes.items())
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S.%f')} container {change.action} {change.view.id} ({pairs})\n"
