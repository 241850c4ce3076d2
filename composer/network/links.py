"""The environment of docker's legacy links (``--link CONTAINER[:ALIAS]`` on the default bridge).

As dockerd 20.10 gives it (compared on a private one): for each link, in order,
``ALIAS_PORT`` (the lowest exposed port, tcp first), ``ALIAS_PORT_<N>_<PROTO>`` with ``_ADDR``,
``_PORT`` and ``_PROTO`` for each exposed port (a run of three or more ports in a row adds
``_START``/``_PORT_START``/``_END``/``_PORT_END``), ``ALIAS_NAME=/PARENT/ALIAS`` and
``ALIAS_ENV_<VAR>`` for the linked container's environment but HOME and PATH. ``ALIAS`` is upper
case with ``-`` as ``_``. The container's own ``-e`` values win (they come after these).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def link_environment(parent: str, alias: str, address: str, ports: Iterable[str],
                     env: Iterable[str]) -> list[str]:
    """``KEY=VALUE`` variables of one link: ``parent``'s link ``alias`` to a container at
    ``address`` exposing ``ports`` (``80/tcp``) with environment ``env``."""
    prefix = alias.upper().replace("-", "_")
    ordered = sorted({_port(p) for p in ports}, key=lambda p: (p[0], p[1] != "tcp"))
    found: dict[str, str] = {}
    if ordered:
        found[f"{prefix}_PORT"] = f"{ordered[0][1]}://{address}:{ordered[0][0]}"
    for run in _runs(ordered):
        (first, proto), (last, last_proto) = run[0], run[-1]
        if len(run) > 2:
            key = f"{prefix}_PORT_{first}_{proto.upper()}"
            found.update({f"{key}_START": f"{proto}://{address}:{first}", f"{key}_ADDR": address,
                          f"{key}_PROTO": proto, f"{key}_PORT_START": str(first),
                          f"{prefix}_PORT_{first}_{last_proto.upper()}_END": f"{last_proto}://{address}:{last}",
                          f"{prefix}_PORT_{first}_{last_proto.upper()}_PORT_END": str(last)})
        for number, protocol in run:
            key = f"{prefix}_PORT_{number}_{protocol.upper()}"
            found.update({key: f"{protocol}://{address}:{number}", f"{key}_ADDR": address,
                          f"{key}_PORT": str(number), f"{key}_PROTO": protocol})
    found[f"{prefix}_NAME"] = f"/{parent}/{alias}"
    for item in env:
        name, sep, value = item.partition("=")
        if sep and name not in ("HOME", "PATH"):
            found[f"{prefix}_ENV_{name}"] = value
    return [f"{key}={value}" for key, value in found.items()]


def _port(text: str) -> tuple[int, str]:
    number, _, proto = text.partition("/")
    return int(number), proto or "tcp"


def _runs(ports: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """``ports`` (sorted) in runs of numbers in a row; as docker's, a run goes on while the next
    port's number is at most one past the count so far (80/tcp, 81/tcp, 81/udp is one run)."""
    index = 0
    while index < len(ports):
        end, value = index, ports[index][0]
        while end + 1 < len(ports) and ports[end + 1][0] <= value + 1:
            end, value = end + 1, value + 1
        yield ports[index:end + 1]
        index = end + 1


def launch_env(config) -> list[str]:
    """The link variables of a container about to start (its ``ContainerConfig``): its links on the
    default bridge only (user networks resolve links by DNS and set none, as docker's)."""
    links = [link for endpoint in config.endpoints if endpoint.network == "bridge" for link in endpoint.links]
    return legacy_link_env(config.name, links) if links else []


def legacy_link_env(parent: str, links: Iterable[str]) -> list[str]:
    """The variables of ``parent``'s legacy links (``CONTAINER:ALIAS``) to running containers of
    the default bridge, from their inspect data (a link to a container that is gone adds none)."""
    from composer.engine.runtime import containers
    from composer.errors import ComposerError

    found: dict[str, str] = {}
    for link in links:
        target, _, alias = link.partition(":")
        try:
            data = containers.inspect(containers.resolve(target))
        except ComposerError:
            continue
        address = ((data.get("NetworkSettings") or {}).get("Networks") or {}).get("bridge", {}).get("IPAddress")
        if not address or not data["State"]["Running"]:
            continue
        config = data.get("Config") or {}
        ports = [*(config.get("ExposedPorts") or {}), *_image_ports(data.get("Image", ""))]
        for item in link_environment(parent, alias or target, address, ports, config.get("Env") or ()):
            key, _, value = item.partition("=")
            found[key] = value
    return [f"{key}={value}" for key, value in found.items()]


def _image_ports(image_id: str) -> list[str]:
    """The ``EXPOSE``d ports of the image ``image_id`` (none if it cannot be read)."""
    from composer.engine.runtime.imagecache import resolve_image
    from composer.errors import ComposerError

    try:
        return list((resolve_image(image_id).config or {}).get("ExposedPorts") or {})
    except ComposerError:  # removed since: its ports are unknown
        return []
