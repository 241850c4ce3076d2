"""Short syntax to long syntax (``"8080:80"`` -> a port mapping, ``"./d:/d:ro"`` -> a mount ...).

One rule table, ``TRANSFORMS``, keyed by path globs; values are already schema-valid.
"""

from __future__ import annotations

import posixpath
import re
from contextvars import ContextVar
from typing import Any, Callable

from composer.errors import SemanticError
from composer.spec.merge import go_str
from composer.spec.source import Path, dotted
from composer.spec.treepath import Cursor, Rules, cursor

Transform = Callable[[Any, Path], Any]
# True while the model is not interpolated (config --no-interpolate prints compose-go's map model):
# ports of which a short one does not parse (``${PORT}:80``) stay as written, and so do the
# single strings of dns_search and tmpfs, as Compose keeps them
RAW_MODEL: ContextVar[bool] = ContextVar("raw_model", default=False)
_PROPAGATIONS = {"rprivate", "private", "rshared", "shared", "rslave", "slave"}
_PORT = re.compile(r"^(?:(?P<ip>\[[^\]]*\]|[^:\[\]]*?):)??(?:(?P<host>[^:]*):)?(?P<target>[^:/]+)(?:/(?P<proto>\w+))?$")


def _fail(path: Path, message: str, hint: str) -> SemanticError:
    from composer.errors import SourceLocation

    error = SemanticError(message, location=SourceLocation(path=dotted(path)), hint=hint)
    error.tree_path = path  # type: ignore[attr-defined]
    return error


def _port_range(text: str, path: Path, spec: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        start, end = int(low), int(high or low)
    except ValueError:
        raise _fail(path, f"invalid port {text!r} in {spec!r}", "ports are numbers 1-65535, ranges a-b") from None
    if not (0 <= start <= end <= 65535):
        raise _fail(path, f"invalid port range {text!r} in {spec!r}", "use 0-65535 with start <= end")
    return start, end


def parse_port(spec: str, path: Path) -> list[dict[str, Any]]:
    """``[ip:][published:]target[/proto]`` as long-syntax port mappings (ranges expanded)."""
    parts = spec.rsplit("/", 1)
    protocol = parts[1].lower() if len(parts) == 2 else "tcp"
    if protocol not in ("tcp", "udp", "sctp"):
        raise _fail(path, f"invalid proto: {protocol}", "use tcp, udp or sctp")
    body = parts[0]
    ip = ""
    if body.startswith("["):
        close = body.find("]")
        ip, body = body[1:close], body[close + 2:]
    pieces = body.split(":")
    if len(pieces) > 3 or not pieces[-1]:
        raise _fail(path, f"invalid port spec {spec!r}", "write [HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]")
    if len(pieces) == 3:
        ip = pieces[0]
    published = pieces[-2] if len(pieces) >= 2 else ""
    start, end = _port_range(pieces[-1], path, spec)
    entries: list[dict[str, Any]] = []
    if published:
        p_start, p_end = _port_range(published, path, spec)
        if end != start and p_end - p_start != end - start:
            raise _fail(path, f"port ranges of {spec!r} differ in size", "make both ranges the same length")
    for offset, target in enumerate(range(start, end + 1)):
        entry: dict[str, Any] = {"mode": "ingress", "target": target, "protocol": protocol}
        if ip:
            entry["host_ip"] = ip
        if published:
            entry["published"] = published if end == start else str(p_start + offset)
        entries.append(entry)
    entries.sort(key=lambda e: f"{e['target']}/{protocol}")
    return entries


def _ports(value: Any, path: Path) -> Any:
    result: list[Any] = []
    for i, entry in enumerate(value):
        if isinstance(entry, dict):
            result.append(entry)
            continue
        try:
            result.extend(parse_port(go_str(entry), (*path, i)))
        except SemanticError:
            if not RAW_MODEL.get():
                raise
            return value
    return result


def _is_file_path(source: str) -> bool:
    return bool(source) and (source[0] in "./~" or source.startswith("\\\\")
                             or (len(source) > 1 and source[0].isalpha() and source[1] == ":"))


def parse_volume(spec: str) -> dict[str, Any]:
    """``[source:]target[:options]`` as a long-syntax mount (``ValueError`` when malformed)."""
    if not spec:
        raise ValueError("invalid empty volume spec")
    if len(spec) <= 2:
        return {"type": "volume", "target": spec}
    fields = _split_volume(spec)
    volume: dict[str, Any] = {}
    if len(fields) == 1:
        volume["target"] = fields[0]
    else:
        volume["source"], volume["target"] = fields[0], fields[1]
    if len(fields) > 3:
        raise ValueError(f"invalid spec: {spec}: too many colons")
    if len(fields) == 3:
        for option in fields[2].split(","):
            if option in ("ro", "rw"):
                volume["read_only"] = option == "ro"
            elif option == "nocopy":
                volume["volume"] = {"nocopy": True}
            elif option in _PROPAGATIONS:
                volume.setdefault("bind", {})["propagation"] = option
            elif option in ("z", "Z"):
                volume.setdefault("bind", {})["selinux"] = option
    if not volume.get("read_only"):
        volume.pop("read_only", None)
    if _is_file_path(volume.get("source", "")):  # options of the other type are kept, as Compose does
        volume["type"] = "bind"
        volume.setdefault("bind", {})["create_host_path"] = True
    else:
        volume["type"] = "volume"
        volume.setdefault("volume", {})
    return volume


def _split_volume(spec: str) -> list[str]:
    """The colon-separated fields; a one-letter field before ``:`` is a Windows drive (in every
    field, as compose-go reads it: ``a:b:c:d`` is source ``a:b``, target ``c:d``)."""
    fields: list[str] = []
    buffer = ""
    depth = 0
    for i, char in enumerate(spec):
        if char == "$" and spec[i + 1: i + 2] == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and depth == 0 and not (len(buffer) == 1 and buffer.isalpha()):
            if not buffer:
                raise ValueError(f"invalid spec: {spec}: empty section between colons")
            fields.append(buffer)
            buffer = ""
            continue
        buffer += char
    if not buffer:
        raise ValueError(f"invalid spec: {spec}: empty section between colons")
    fields.append(buffer)
    return fields


def _volume(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        if not value.get("target"):
            raise _fail(path, f"service volume {dotted(path)} is missing a mount target",
                        "add target: /path/in/container")
        return value
    try:
        volume = parse_volume(value)
    except ValueError as error:
        raise _fail(path, str(error), "write [SOURCE:]TARGET[:ro|rw|z|Z|nocopy]") from None
    if volume.get("target"):
        volume["target"] = posixpath.normpath(volume["target"])
    return volume


def _string_or_list(value: Any, _path: Path) -> Any:
    return [value] if isinstance(value, str) else value


def _string_or_list_unless_raw(value: Any, path: Path) -> Any:
    return value if RAW_MODEL.get() else _string_or_list(value, path)


def _list_to_map(value: Any, _path: Path) -> Any:
    return {str(item): None for item in value} if isinstance(value, list) else value


def _depends_on(value: Any, path: Path) -> Any:
    if isinstance(value, list):
        return {str(name): {"condition": "service_started", "required": True} for name in value}
    for entry in value.values():
        entry.setdefault("condition", "service_started")
        entry.setdefault("required", True)
    return value


def _env_file(value: Any, _path: Path) -> Any:
    entries = [value] if isinstance(value, str) else value
    result = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"path": entry}
        entry.setdefault("required", True)
        result.append(entry)
    return result


def _build(value: Any, path: Path) -> Any:
    if isinstance(value, str):
        return {"context": value}
    return _walk(value, path)


def _key_value(value: Any, _path: Path) -> Any:
    if isinstance(value, list):
        return dict(str(item).split("=", 1) if "=" in str(item) else (str(item), "") for item in value)
    return value


def _named(key: str) -> Transform:
    def transform(value: Any, _path: Path) -> Any:
        return {key: value} if isinstance(value, str) else value

    return transform


def _external(value: Any, path: Path) -> Any:
    if value is None:
        return None
    resource = _walk(value, path)
    external = resource.get("external")
    if isinstance(external, dict):
        resource["external"] = True
        if "name" in external:
            if "name" in resource and resource["name"] != external["name"]:
                raise _fail(path, "name and external.name conflict", "only use name")
            resource.setdefault("name", external["name"])
    return resource


def _config(value: Any, path: Path) -> Any:
    """A top-level config: exactly one of file, environment and content (unless external)."""
    config = _external(value, path)
    if not isinstance(config, dict):
        return config
    sources = [key for key in ("file", "environment", "content") if config.get(key) is not None]
    if len(sources) > 1:
        raise _fail((*path, sources[1]), f"config {path[-1]!r} declares {' and '.join(sources)}: "
                    "file|environment|content attributes are mutually exclusive", "keep only one of them")
    if not sources and not config.get("external"):
        raise _fail(path, f"config {path[-1]!r}: one of file|environment|content must be set",
                    "add file: PATH, environment: VAR or content: TEXT")
    return config


TRANSFORMS: dict[str, Transform] = {
    "services.*.build.secrets.[]": _named("source"),
    "services.*.build.additional_contexts": _key_value,
    "services.*.depends_on": _depends_on,
    "services.*.env_file": _env_file,
    "services.*.label_file": _string_or_list,
    "services.*.extends": _named("service"),
    "services.*.networks": _list_to_map,
    "services.*.models": _list_to_map,
    "services.*.volumes.[]": _volume,
    "services.*.dns": _string_or_list,
    "services.*.dns_search": _string_or_list_unless_raw,
    "services.*.tmpfs": _string_or_list_unless_raw,
    "services.*.secrets.[]": _named("source"),
    "services.*.configs.[]": _named("source"),
    "services.*.ports": _ports,
    "services.*.build": _build,
    "services.*.develop.watch.[].ignore": _string_or_list,
    "services.*.develop.watch.[].include": _string_or_list,
    "volumes.*": _external,
    "networks.*": _external,
    "secrets.*": _external,
    "configs.*": _config,
    "include.[]": _named("path"),
}


_TRANSFORM_RULES: Rules[Transform] = Rules(TRANSFORMS)


def _walk(value: Any, path: Path, at: Cursor[Transform] | None = None) -> Any:
    at = at if at is not None else _cursor_at(path)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = canonical(value[key], (*path, key), at.child(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = canonical(item, (*path, i), at.child(i))
    return value


def _cursor_at(path: Path) -> Cursor[Transform]:
    at = cursor(_TRANSFORM_RULES)
    for part in path:
        at = at.child(part)
    return at


def canonical(value: Any, path: Path = (), at: Cursor[Transform] | None = None) -> Any:
    """``value`` (at ``path``) with every short syntax turned into its long form, in place."""
    at = at if at is not None else _cursor_at(path)
    if not at.nodes:
        return value
    transform = at.value
    if transform is not None:
        return transform(value, path)
    return _walk(value, path, at)
