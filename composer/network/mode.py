"""``--network`` values: a network name, ``none``, ``host``, ``container:ID`` (``service:NAME``)."""

from __future__ import annotations

from dataclasses import dataclass

from composer.errors import NetworkError


@dataclass(frozen=True)
class NetworkMode:
    """``kind`` is bridge (named networks), none, host, container or service."""

    kind: str
    target: str = ""  # the network name, or the container/service whose namespace is shared


def parse_network_mode(value: str | None, default: str = "bridge") -> NetworkMode:
    """Parse a ``--network``/``network_mode`` value (None: the default bridge network)."""
    if not value or value == "default":
        return NetworkMode("bridge", default)
    if value in ("none", "host"):
        return NetworkMode(value)
    kind, sep, target = value.partition(":")
    if sep and kind in ("container", "service"):
        if not target:
            raise NetworkError(f"invalid network mode {value!r}", hint=f"use {kind}:NAME")
        return NetworkMode(kind, target)
    if sep:
        raise NetworkError(f"invalid network mode {value!r}",
                           hint="use a network name, none, host, container:NAME or service:NAME")
    return NetworkMode("bridge", value)
