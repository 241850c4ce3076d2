"""Merging compose files (and extends) with the Compose Specification's per-field rules.

Two rule tables keyed by path globs: how to merge a field (``MERGERS``) and how to tell
duplicate list entries apart afterwards (``INDEXERS``, the later entry wins).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from composer.spec.source import Path
from composer.spec.treepath import Cursor, Rules, cursor

Merger = Callable[[Any, Any, Path], Any]
Indexer = Callable[[Any], str]
_DEPENDENCY_DEFAULT = {"condition": "service_started", "required": True}


def go_str(value: Any) -> str:
    """A scalar as Go's ``%v`` prints it (``true``, ``1``, ``1.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """A float64 as Go's strconv ``g`` with shortest digits: exponent form below 1e-4 or from 1e6 on."""
    from decimal import Decimal

    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    number = Decimal(repr(value)).normalize()
    sign, digits, exponent = number.as_tuple()
    scientific = len(digits) - 1 + int(exponent)
    if -4 <= scientific < 6:
        return format(number, "f")
    text = "".join(map(str, digits))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if scientific >= 0 else '-'}{abs(scientific):02d}"


def to_sequence(value: Any) -> list[Any]:
    """A ``KEY: value`` mapping as sorted ``KEY=value`` strings (lists pass through)."""
    if isinstance(value, dict):
        items: list[str] = []
        for key, item in value.items():
            if item is None:
                items.append(key)
            elif isinstance(item, list):
                items.extend(f"{key}={go_str(v)}" for v in item)
            else:
                items.append(f"{key}={go_str(item)}")
        return sorted(items)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return [value]
    return []


def to_mapping(value: Any, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """A list of names as a mapping name -> copy of ``default``."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(name): copy.deepcopy(default) for name in value}
    return {}


def _sequence(base: Any, other: Any, _path: Path) -> Any:
    return to_sequence(base) + to_sequence(other)


def _override(_base: Any, other: Any, _path: Path) -> Any:
    return other


def _build(base: Any, other: Any, path: Path) -> Any:
    def as_map(value: Any) -> dict[str, Any]:
        return {"context": value} if isinstance(value, str) else (value or {})

    return merge_mappings(as_map(base), as_map(other), path)


def _depends_on(base: Any, other: Any, path: Path) -> Any:
    return merge_mappings(to_mapping(base, _DEPENDENCY_DEFAULT), to_mapping(other, _DEPENDENCY_DEFAULT), path)


def _networks(base: Any, other: Any, path: Path) -> Any:
    return merge_mappings(to_mapping(base), to_mapping(other), path)


def _extra_hosts(base: Any, other: Any, _path: Path) -> Any:
    left = to_sequence(base)
    return left + [item for item in to_sequence(other) if item not in left]


def _logging(base: Any, other: Any, path: Path) -> Any:
    if not isinstance(base, dict) or not isinstance(other, dict):
        return other
    if "driver" not in other or "driver" not in base or other["driver"] == base["driver"]:
        return merge_mappings(base, other, path)
    return other


def _ulimit(base: Any, other: Any, path: Path) -> Any:
    if isinstance(base, dict) and isinstance(other, dict):
        return merge_mappings(base, other, path)
    return other


def _ipam_config(base: Any, other: Any, path: Path) -> Any:
    """compose-go's rule, quirks included: the result holds the override entries only, each merged
    onto the base entries (by subnet, or onto a later base entry once its subnet is taken)."""
    if not isinstance(base, list) or not isinstance(other, list) or not base:
        return other if other is not None else base
    result: list[Any] = []
    for original in base:
        for override in other:
            if not isinstance(original, dict) or not isinstance(override, dict):
                return other
            taken = any(entry.get("subnet") == override.get("subnet") for entry in result)
            if override.get("subnet") != original.get("subnet") and not taken:
                result.append(override)
                continue
            merged = merge_mappings(copy.deepcopy(original), copy.deepcopy(override), path)
            index = next((i for i, e in enumerate(result) if e.get("subnet") == merged.get("subnet")), None)
            if index is None:
                result.append(merged)
            else:
                result[index] = merged
    return result


MERGERS: dict[str, Merger] = {
    "networks.*.ipam.config": _ipam_config,
    "networks.*.labels": _sequence,
    "volumes.*.labels": _sequence,
    "services.*.annotations": _sequence,
    "services.*.build": _build,
    "services.*.build.args": _sequence,
    "services.*.build.additional_contexts": _sequence,
    "services.*.build.extra_hosts": _extra_hosts,
    "services.*.build.labels": _sequence,
    "services.*.command": _override,
    "services.*.depends_on": _depends_on,
    "services.*.deploy.labels": _sequence,
    "services.*.dns": _sequence,
    "services.*.dns_opt": _sequence,
    "services.*.dns_search": _sequence,
    "services.*.entrypoint": _override,
    "services.*.env_file": _sequence,
    "services.*.label_file": _sequence,
    "services.*.environment": _sequence,
    "services.*.extra_hosts": _extra_hosts,
    "services.*.healthcheck.test": _override,
    "services.*.labels": _sequence,
    "services.*.volumes.[].volume.labels": _sequence,
    "services.*.logging": _logging,
    "services.*.networks": _networks,
    "services.*.sysctls": _sequence,
    "services.*.tmpfs": _sequence,
    "services.*.ulimits.*": _ulimit,
}


_MERGE_RULES: Rules[Merger] = Rules(MERGERS)


def merge_value(base: Any, other: Any, path: Path) -> Any:
    """``other`` merged onto ``base`` at ``path``."""
    merger = _MERGE_RULES.get(path)
    if merger is not None:
        return merger(base, other, path)
    if other is None:
        return base
    if isinstance(base, dict) and isinstance(other, dict):
        return merge_mappings(base, other, path)
    if isinstance(base, list) and isinstance(other, list):
        return base + other
    return other


def merge_mappings(base: dict[str, Any], other: dict[str, Any], path: Path) -> dict[str, Any]:
    """``other``'s keys merged into ``base`` (mutated and returned)."""
    for key, value in other.items():
        base[key] = merge_value(base[key], value, (*path, key)) if key in base else value
    return base


# --- unicity --------------------------------------------------------------------------------
def _key_value(entry: Any) -> str:
    return str(entry).split("=", 1)[0] if isinstance(entry, str) else repr(entry)


def _volume(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target"))
    if isinstance(entry, str):
        from composer.spec.canonical import parse_volume

        try:
            return str(parse_volume(entry).get("target"))
        except ValueError:
            return entry  # reported with its location by the canonical stage
    return repr(entry)


def _port(entry: Any) -> str:
    if isinstance(entry, dict):
        return (f"{entry.get('host_ip', '0.0.0.0')}:{go_str(entry.get('published'))}:"
                f"{go_str(entry.get('target'))}/{entry.get('protocol', 'tcp')}")
    return go_str(entry)


def _mount(default: str) -> Indexer:
    def index(entry: Any) -> str:
        if isinstance(entry, dict):
            return str(entry["target"]) if "target" in entry else f"{default}/{entry.get('source')}"
        return f"{default}/{entry}"

    return index


def _env_file(entry: Any) -> str:
    return str(entry.get("path")) if isinstance(entry, dict) else str(entry)


INDEXERS: dict[str, Indexer] = {
    **{f"services.*.{k}": _key_value for k in (
        "annotations", "build.args", "build.additional_contexts", "build.platforms", "build.tags",
        "build.labels", "cap_add", "cap_drop", "deploy.labels", "dns", "dns_opt", "dns_search",
        "environment", "labels", "links", "networks.*.aliases", "networks.*.link_local_ips",
        "profiles", "sysctls", "tmpfs")},
    "networks.*.labels": _key_value,
    "networks.*.ipam.options": _key_value,
    "services.*.devices": _volume,
    "services.*.configs": _mount(""),
    "services.*.secrets": _mount("/run/secrets"),
    "services.*.env_file": _env_file,
    "services.*.expose": go_str,
    "services.*.ports": _port,
    "services.*.volumes": _volume,
}


_INDEX_RULES: Rules[Indexer] = Rules(INDEXERS)


def enforce_unicity(value: Any, path: Path = (), at: Cursor[Indexer] | None = None) -> Any:
    """Drop earlier duplicates from the lists named in ``INDEXERS`` (in place)."""
    at = at if at is not None else cursor(_INDEX_RULES)
    if not at.nodes:
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = enforce_unicity(item, (*path, key), at.child(key))
        return value
    indexer = at.value
    if isinstance(value, list) and indexer is not None:
        result: list[Any] = []
        seen: dict[str, int] = {}
        for entry in value:
            key = indexer(entry)
            if key in seen:
                result[seen[key]] = entry
            else:
                seen[key] = len(result)
                result.append(entry)
        return result
    return value


def apply_resets(base: dict[str, Any], paths: list[Path]) -> None:
    """Remove each of ``paths`` from ``base`` (``!reset`` and ``!override`` do so)."""
    for path in paths:
        node: Any = base
        for part in path[:-1]:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                node = None
                break
        if isinstance(node, dict):
            node.pop(path[-1], None)
        elif isinstance(node, list) and isinstance(path[-1], str):  # a mapping merged as KEY=VALUE entries
            node[:] = [entry for entry in node if _key_value(entry) != path[-1]]
