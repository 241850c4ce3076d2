"""What ``ps`` shows of a container: docker's status text and Compose's ``ps --format json`` record."""

from __future__ import annotations

import time

from composer.units import human_duration

TYPE_CHECKING = False  # typing stays off ``container ls`` (cli/psformat words its status here)
if TYPE_CHECKING:
    from typing import Any, Iterable

    from composer.engine.runtime.base import ContainerSummary, PortSpec
    from composer.engine.runtime.describe import ContainerInfo


def status_text(container: ContainerSummary | ContainerInfo, now: float | None = None) -> str:
    """``Up 5 minutes (healthy)``, ``Exited (0) 2 seconds ago``, ``Created`` ... as ``docker ps``
    (and ``docker container ls``)."""
    now = time.time() if now is None else now
    state = container.state
    if state in ("running", "paused"):
        text = f"Up {human_duration(now - container.started_at)}"
        if state == "paused":
            return text + " (Paused)"
        health = {"healthy": " (healthy)", "unhealthy": " (unhealthy)", "starting": " (health: starting)"}
        return text + health.get(container.health, "")
    if state == "restarting":
        return f"Restarting ({container.exit_code}) {human_duration(now - container.finished_at)} ago"
    if state == "exited":
        return f"Exited ({container.exit_code}) {human_duration(now - container.finished_at)} ago"
    return {"created": "Created", "dead": "Dead", "removing": "Removal In Progress"}.get(state, state)


def _publishers(container: ContainerSummary) -> list[dict[str, Any]]:
    """The container's ports as docker lists them, only while it runs: the published ones and the
    exposed ones (``URL`` "", ``PublishedPort`` 0), by target port, address, host port, protocol."""
    return _port_records(container.ports) if container.state in ("running", "paused") else []


def _port_records(ports: "Iterable[PortSpec]") -> list[dict[str, Any]]:
    records = [{"URL": p.host_ip or ("0.0.0.0" if p.published else ""), "TargetPort": p.target,
                "PublishedPort": int(p.published) if p.published.isdigit() else 0, "Protocol": p.protocol}
               for p in ports]
    return sorted(records, key=lambda r: (r["TargetPort"], r["URL"], r["PublishedPort"], r["Protocol"]))


def port_items(keys: "Iterable[str]") -> list[tuple[int, str]]:
    """(port, protocol) of exposed-port keys (``80/tcp``, ``7000-7001/udp``: a range expanded)."""
    items = []
    for key in keys:
        numbers, _, protocol = key.partition("/")
        first, _, last = numbers.partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            items += [(number, protocol or "tcp") for number in range(int(first), int(last or first) + 1)]
    return items


def host_port(ip: str, port: object) -> str:
    """``ip:port``, an IPv6 address in brackets (``[::1]:8080``), as Go's net.JoinHostPort."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def ports_text(container: ContainerSummary) -> str:
    """The PORTS of a running (or paused) container, as ``displayable_ports``."""
    return displayable_ports(container.ports) if container.state in ("running", "paused") else ""


def displayable_ports(ports: "Iterable[PortSpec]") -> str:
    """``80/tcp, 7000-7001/tcp, 0.0.0.0:8080->80/tcp`` as ``docker ps`` prints ports (the docker CLI's
    DisplayablePorts): consecutive ports of a protocol (and address, when published on the same
    port) as one range (``:::80->80/tcp``: its address unbracketed), then the other published ports."""
    groups: dict[tuple[str, str], list[int]] = {}  # (address, protocol) -> the open [first, last]
    closed, mappings = [], []
    for record in _port_records(ports):
        target, address, protocol = record["TargetPort"], record["URL"], record["Protocol"]
        if address and record["PublishedPort"] != target:
            mappings.append(f"{host_port(address, record['PublishedPort'])}->{target}/{protocol}")
            continue
        group = groups.get((address, protocol))
        if group is not None and group[1] + 1 == target:
            group[1] = target
            continue
        if group is not None:  # a gap: that range is done (listed before the open ones, as docker)
            closed.append(_group(address, protocol, *group))
        groups[(address, protocol)] = [target, target]
    return ", ".join([*closed, *(_group(a, p, *g) for (a, p), g in groups.items()), *mappings])


def _group(address: str, protocol: str, first: int, last: int) -> str:
    ports = str(first) if first == last else f"{first}-{last}"
    return f"{address}:{ports}->{ports}/{protocol}" if address else f"{ports}/{protocol}"


def ps_record(container: ContainerSummary, now: float | None = None) -> dict[str, Any]:
    """One line of ``ps --format json``, with the keys Docker Compose v2 prints."""
    from composer.engine import labels as L

    now = time.time() if now is None else now
    labels = container.labels
    return {
        "Command": f'"{container.command}"' if container.command else '""',
        "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(container.created)),
        "ExitCode": container.exit_code,
        "Health": "" if container.health == "none" else container.health,
        "ID": container.id[:12],
        "Image": container.image,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "LocalVolumes": str(sum(1 for m in container.mounts if not m.startswith("/"))),
        "Mounts": ",".join(container.mounts),
        "Name": container.name,
        "Names": container.name,
        "Networks": ",".join(container.networks),
        "Ports": ports_text(container),
        "Project": labels.get(L.PROJECT, ""),
        "Publishers": _publishers(container),
        "RunningFor": f"{human_duration(now - container.created)} ago",
        "Service": labels.get(L.SERVICE, ""),
        "Size": "0B",
        "State": container.state,
        "Status": status_text(container, now),
    }
