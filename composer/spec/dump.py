"""The canonical output model: what ``config`` prints, shaped as Docker Compose v2 prints it.

Compose marshals Go structs: zero-valued struct fields are omitted, durations print as Go
durations (``1m30s``), byte sizes as decimal strings, commands as argument lists. This module
applies those shapes to the normalized dict, by rule tables keyed by path globs.
"""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any, Callable, NamedTuple

from composer.errors import SemanticError, SourceLocation
from composer.spec.merge import go_str
from composer.spec.source import Path, dotted
from composer.spec.treepath import Cursor, Rules, cursor
from composer.units import DAYS_WEEKS_NS, duration_ns, format_duration

_BYTES = re.compile(r"^([0-9]*\.?[0-9]+)\s*([kmgtp]?)(i?b?)$", re.IGNORECASE)


def parse_duration(value: Any, path: Path = ()) -> int:
    """A Compose duration (``1m30s``, ``500ms``, ``2d``, a number of seconds) in nanoseconds."""
    text = go_str(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text) * 10**9
    try:
        return duration_ns(text, DAYS_WEEKS_NS)
    except ValueError:
        raise SemanticError(f"invalid duration {text!r}", location=SourceLocation(path=dotted(path)),
                            hint="write a duration such as 10s, 1m30s or 500ms") from None


def parse_bytes(value: Any, path: Path = ()) -> int:
    """A byte size (``512m``, ``1gb``, ``1024``) as a number of bytes (binary units)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.match(go_str(value).strip())
    if match is None:
        raise SemanticError(f"invalid byte size {value!r}", location=SourceLocation(path=dotted(path)),
                            hint="write a size such as 512m, 1g or 1048576")
    power = "kmgtp".find(match.group(2).lower()) + 1 if match.group(2) else 0
    return int(float(match.group(1)) * 1024**power)


def shell_split(value: Any) -> Any:
    """A command given as a string, split as a POSIX shell would."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    return [go_str(v) for v in value] if isinstance(value, list) else value


def _string_map(value: Any, keep_null: bool) -> Any:
    if isinstance(value, list):
        result: dict[str, Any] = {}
        for entry in value:
            key, sep, item = str(entry).partition("=")
            result[key] = item if sep else (None if keep_null else "")
        return result
    if isinstance(value, dict):
        return {k: (None if v is None and keep_null else ("" if v is None else go_str(v)))
                for k, v in value.items()}
    return value


def _extra_hosts(value: Any) -> list[str]:
    if isinstance(value, dict):
        entries = []
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                entries.append(f"{host}={'' if ip is None else ip}")
        return sorted(entries)
    result = []
    for entry in value:
        host, _, ip = str(entry).partition("=" if "=" in str(entry) else ":")
        if ip.startswith("[") and ip.endswith("]"):
            ip = ip[1:-1]  # an IPv6 address in brackets: Compose prints it bare
        result.append(f"{host}={ip}")
    return sorted(result)


def _healthcheck_test(value: Any) -> Any:
    return ["CMD-SHELL", value] if isinstance(value, str) else value


def _ulimit(value: Any) -> Any:
    """A ulimit of 0 is Go's ``{single: 0}``: all its fields omitted, ``{}``."""
    return {} if value == 0 and not isinstance(value, bool) else value


def _duration(value: Any) -> str:
    return format_duration(parse_duration(value))


def _optional_duration(value: Any) -> str | None:
    """A duration of a Go ``time.Duration`` field (not a pointer): zero is left out."""
    nanoseconds = parse_duration(value)
    return format_duration(nanoseconds) if nanoseconds else None


def _bytes(value: Any) -> str:
    return str(parse_bytes(value))


def _str(value: Any) -> Any:
    return value if value is None else go_str(value)


def _str_list(value: Any) -> Any:
    return [go_str(v) for v in value] if isinstance(value, list) else [go_str(value)]


def _file_mode(value: Any) -> Any:
    number = int(value, 8) if isinstance(value, str) else value
    return f"0{number:o}" if isinstance(number, int) else value


def _device_count(value: Any) -> Any:
    return -1 if isinstance(value, str) and value.lower() == "all" else int(value)


def _gpus(value: Any) -> Any:
    return [{"count": -1}] if isinstance(value, str) else value


def _blkio_devices(rate: str) -> Callable[[Any], Any]:
    """blkio device entries print with Go's field names (``Path``, ``Rate``/``Weight``)."""

    def convert(entries: Any) -> Any:
        result = []
        for entry in entries or []:
            value = entry.get(rate.lower(), entry.get(rate))
            if rate == "Rate" and value is not None:
                value = str(parse_bytes(value))
            result.append({"Path": entry.get("path", entry.get("Path")), rate: value})
        return result

    return convert


def _float(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SemanticError(f"invalid number {value!r}", hint="write a number such as 0.5 or 2") from None
    return int(number) if number.is_integer() else number  # Go prints a whole float32 as 1, not 1.0


def _provider_options(value: Any) -> Any:
    """Provider options are ``map[string][]string``: every value a list of strings."""
    if not isinstance(value, dict):
        return value
    return {k: [go_str(i) for i in v] if isinstance(v, list) else [go_str(v)] for k, v in value.items()}


def parse_device(value: Any) -> Any:
    """``/dev/x[:/dev/y[:rwm]]`` as a long-syntax device mapping."""
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    if len(parts) > 3:
        raise SemanticError(f"invalid device {value!r}", hint="write HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]")
    source = parts[0]
    target = parts[1] if len(parts) > 1 else source
    return {"source": source, "target": target, "permissions": parts[2] if len(parts) > 2 else "rwm"}


_S = "services.*."
# Go map[string]string fields (besides labels): every value printed as a string
_STRING_MAPS = (
    _S + "logging.options", _S + "log_opt", _S + "storage_opt", _S + "networks.*.driver_opts",
    _S + "build.additional_contexts", _S + "deploy.resources.reservations.devices.[].options",
    _S + "gpus.[].options", _S + "volumes.[].volume.labels",
    "networks.*.driver_opts", "volumes.*.driver_opts",
    "secrets.*.driver_opts", "configs.*.driver_opts",
)
SHAPES: dict[str, Callable[[Any], Any]] = {
    _S + "command": shell_split,
    _S + "entrypoint": shell_split,
    _S + "environment": lambda v: _string_map(v, True),
    _S + "build.args": lambda v: _string_map(v, True),
    _S + "labels": lambda v: _string_map(v, False),
    _S + "annotations": lambda v: _string_map(v, False),
    _S + "sysctls": lambda v: _string_map(v, False),
    _S + "build.labels": lambda v: _string_map(v, False),
    _S + "deploy.labels": lambda v: _string_map(v, False),
    "networks.*.labels": lambda v: _string_map(v, False),
    "volumes.*.labels": lambda v: _string_map(v, False),
    "secrets.*.labels": lambda v: _string_map(v, False),
    "configs.*.labels": lambda v: _string_map(v, False),
    _S + "healthcheck.test": _healthcheck_test,
    _S + "expose": _str_list,
    _S + "dns": _str_list,
    _S + "dns_search": _str_list,
    _S + "tmpfs": _str_list,
    _S + "extra_hosts": _extra_hosts,
    _S + "build.extra_hosts": _extra_hosts,
    _S + "user": _str,
    _S + "ports.[].published": _str,
    _S + "cpus": _float,
    _S + "secrets.[].mode": _file_mode,
    _S + "configs.[].mode": _file_mode,
    _S + "build.secrets.[].mode": _file_mode,
    _S + "deploy.resources.reservations.devices.[].count": _device_count,
    _S + "gpus": _gpus,
    _S + "devices.[]": parse_device,
    _S + "blkio_config.device_read_bps": _blkio_devices("Rate"),
    _S + "blkio_config.device_write_bps": _blkio_devices("Rate"),
    _S + "blkio_config.device_read_iops": _blkio_devices("Rate"),
    _S + "blkio_config.device_write_iops": _blkio_devices("Rate"),
    _S + "blkio_config.weight_device": _blkio_devices("Weight"),
    _S + "group_add": _str_list,
    _S + "build.provenance": _str,
    _S + "build.sbom": _str,
    **{pattern: lambda v: _string_map(v, False) for pattern in _STRING_MAPS},
    _S + "gpus.[].count": _device_count,
    "networks.*.ipam.options": lambda v: None,  # compose-go's IPAM type has no options: never printed
    _S + "ulimits.*": _ulimit,
    _S + "build.ulimits.*": _ulimit,
    _S + "provider.options": _provider_options,
    _S + "post_start.[].command": shell_split,
    _S + "pre_stop.[].command": shell_split,
    _S + "post_start.[].environment": lambda v: _string_map(v, True),
    _S + "pre_stop.[].environment": lambda v: _string_map(v, True),
    _S + "deploy.resources.limits.cpus": _float,
    _S + "deploy.resources.reservations.cpus": _float,
    **{_S + k: _duration for k in (
        "healthcheck.interval", "healthcheck.timeout", "healthcheck.start_period",
        "healthcheck.start_interval", "stop_grace_period", "deploy.restart_policy.delay",
        "deploy.restart_policy.window")},
    **{_S + k: _optional_duration for k in (
        "deploy.update_config.delay", "deploy.update_config.monitor", "deploy.rollback_config.delay",
        "deploy.rollback_config.monitor")},
    **{_S + k: _bytes for k in (
        "mem_limit", "mem_reservation", "memswap_limit", "mem_swappiness", "shm_size", "build.shm_size",
        "deploy.resources.limits.memory", "deploy.resources.reservations.memory",
        "volumes.[].tmpfs.size")},
}

# dicts that are Go maps (every key kept, null values too); all other dicts are structs
MAPS = (
    "services", "networks", "volumes", "secrets", "configs", "models", _S + "models", _S + "provider.options",
    _S + "post_start.[].environment", _S + "pre_stop.[].environment",
    _S + "networks", _S + "depends_on", _S + "ulimits", _S + "environment", _S + "build.args",
    _S + "labels", _S + "annotations", _S + "sysctls", _S + "logging.options", _S + "log_opt",
    _S + "storage_opt", _S + "driver_opts", _S + "networks.*.driver_opts", _S + "build.labels",
    _S + "build.additional_contexts", _S + "deploy.labels", _S + "volumes.[].volume.labels",

    "networks.*.labels", "networks.*.driver_opts", "networks.*.ipam.options",
    "networks.*.ipam.config.[].aux_addresses", "volumes.*.labels", "volumes.*.driver_opts",
    "secrets.*.labels", "configs.*.labels", "secrets.*.driver_opts", "configs.*.driver_opts",
)
# struct fields that are Go pointers or never omitted: kept even when zero/false
KEEP_ZERO = (
    _S + "init", _S + "attach", _S + "scale", _S + "command", _S + "entrypoint", _S + "depends_on.*.required",
    _S + "deploy.replicas", _S + "deploy.update_config.parallelism", _S + "deploy.rollback_config.parallelism",
    _S + "deploy.restart_policy.max_attempts", "networks.*.enable_ipv4", "networks.*.enable_ipv6",
    _S + "stop_grace_period",
    _S + "ulimits.*", *(_S + "healthcheck." + k for k in (
        "interval", "timeout", "start_period", "start_interval", "retries")),
)
# struct fields that are Go structs (not pointers): present as {} in JSON even when empty
ALWAYS_OBJECT: dict[str, tuple[tuple[str, Any], ...]] = {
    "networks.*": (("ipam", {}),),
    _S + "deploy": (("resources", {}), ("placement", {})),
    _S + "develop.watch.[]": (("exec", {"command": None}),),
}
DROP = ("x-composer-disabled", "x-composer-env-files", "x-composer-raw", "x-composer-env-file-errors")


class _Field(NamedTuple):
    """How a node prints: its shaper, and whether it is a Go map, kept when zero, has struct fields."""

    shaper: Callable[[Any], Any] | None = None
    is_map: bool = False
    keep_zero: bool = False
    objects: tuple[tuple[str, Any], ...] = ()


def _field_table() -> dict[str, _Field]:
    table: dict[str, _Field] = {}
    for pattern, shaper in SHAPES.items():
        table[pattern] = table.get(pattern, _Field())._replace(shaper=shaper)
    for pattern in MAPS:
        table[pattern] = table.get(pattern, _Field())._replace(is_map=True)
    for pattern in KEEP_ZERO:
        table[pattern] = table.get(pattern, _Field())._replace(keep_zero=True)
    for pattern, keys in ALWAYS_OBJECT.items():
        table[pattern] = table.get(pattern, _Field())._replace(objects=keys)
    return table


_FIELDS: Rules[_Field] = Rules(_field_table())
_PLAIN = _Field()


def _is_zero(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] \
        or (isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0)


def shape(value: Any, path: Path = (), at: Cursor[_Field] | None = None, extensions: bool = False) -> Any:
    """The value at ``path`` as Compose prints it (a new tree); nested ``x-`` fields only on request
    (Compose prints them in YAML, not in JSON)."""
    if at is None:
        at = cursor(_FIELDS)
        for part in path:
            at = at.child(part)
    field = at.value or _PLAIN
    if field.shaper is not None:
        try:
            value = field.shaper(value)
        except SemanticError as error:
            error.tree_path = path  # type: ignore[attr-defined]
            error.location = SourceLocation(path=dotted(path))
            raise
    if isinstance(value, list):
        return [shape(item, (*path, i), at.child(i), extensions) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    is_map = field.is_map or bool(path and str(path[-1]).startswith("x-"))
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not path and key in DROP:
            continue
        if not is_map and path and str(key).startswith("x-"):
            if extensions:
                result[key] = item
            else:
                _SKIPPED[0] = True
            continue
        child_at = at.child(key)
        shaped = shape(item, (*path, key), child_at, extensions)
        if not is_map:
            child = child_at.value or _PLAIN
            if _is_zero(shaped) and not child.keep_zero:
                continue
            if shaped == {} and child.is_map:
                continue
        result[key] = shaped
    for key, default in field.objects:
        result.setdefault(key, copy.deepcopy(default))
    return result


def prune_unused(model: dict[str, Any]) -> dict[str, Any]:
    """Drop networks, volumes, secrets and configs that no enabled service uses (as config does)."""
    used: dict[str, set[str]] = {"networks": set(), "volumes": set(), "secrets": set(), "configs": set()}
    for service in (model.get("services") or {}).values():
        used["networks"].update(service.get("networks") or {})
        used["volumes"].update(v.get("source") for v in service.get("volumes") or []
                               if isinstance(v, dict) and v.get("type") == "volume")
        for kind in ("secrets", "configs"):
            used[kind].update(m.get("source") for m in service.get(kind) or [] if isinstance(m, dict))
        used["secrets"].update(m.get("source") for m in (service.get("build") or {}).get("secrets") or []
                               if isinstance(m, dict))
    for kind, names in used.items():
        if isinstance(model.get(kind), dict):
            model[kind] = {k: v for k, v in model[kind].items() if k in names}
            if not model[kind]:
                del model[kind]
    return model


_SKIPPED = [False]  # whether the last to_output() left out nested x- fields


def left_out_extensions() -> bool:
    """Whether the last :func:`to_output` dropped nested ``x-`` fields (YAML would print them)."""
    return _SKIPPED[0]


def to_output(model: dict[str, Any], extensions: bool = False) -> dict[str, Any]:
    """The whole project as ``config --format json`` prints it (``extensions``: as YAML does)."""
    _SKIPPED[0] = False
    output = prune_unused(shape(model, extensions=extensions))
    for secret in (output.get("secrets") or {}).values():
        secret.pop("content", None)  # never printed: it may be sensitive
    for config in (output.get("configs") or {}).values():
        if "environment" in config:
            config.pop("content", None)  # Compose prints the variable's name only
    output.setdefault("services", {})  # a Go struct field without omitempty: printed even when empty
    for name, service in output["services"].items():
        service.setdefault("command", None)
        service.setdefault("entrypoint", None)
    return output
