"""Text renderings of a loaded model for ``config`` (YAML/JSON and the one-per-line listings)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

try:  # the builtin module: hashlib would load OpenSSL (~13 ms)
    from _sha256 import sha256
except ImportError:  # Python >= 3.12
    from hashlib import sha256

from composer.errors import UsageError
from composer.spec.dump import to_output

if TYPE_CHECKING:
    from composer.spec.loader import LoadedModel

_TOP_ORDER = ("name", "services", "networks", "volumes", "secrets", "configs", "models")


def _ordered(output: dict[str, Any]) -> dict[str, Any]:
    ordered = {k: output[k] for k in _TOP_ORDER if k in output}
    ordered.update({k: v for k, v in sorted(output.items()) if k not in ordered})
    return ordered


def _select(output: dict[str, Any], services: list[str]) -> dict[str, Any]:
    """Only ``services`` and what they depend on, with the resources they use."""
    from composer.spec.dump import prune_unused

    if not services:
        return output
    every = output.get("services", {})
    unknown = [s for s in services if s not in every]
    if unknown:
        raise UsageError(f"no such service: {unknown[0]}", hint="see composer config --services")
    wanted, pending = set(), list(services)
    while pending:
        name = pending.pop()
        if name in every and name not in wanted:
            wanted.add(name)
            pending.extend(every[name].get("depends_on") or {})
    output["services"] = {k: v for k, v in every.items() if k in wanted}
    return prune_unused(output)


def check_env_files(loaded: "LoadedModel", services: Iterable[str]) -> None:
    """Fail as ``config`` does when one of ``services`` has an env_file that could not be read."""
    from composer.spec.semantic import ENV_FILE_ERRORS, raise_env_file_error

    raise_env_file_error(loaded.model.get(ENV_FILE_ERRORS) or {}, services)


def check_selected_env_files(loaded: "LoadedModel", services: list[str]) -> None:
    """``config -q [SERVICE...]``: fail as printing would, for the services and their dependencies."""
    check_env_files(loaded, _select(dict(loaded.output), services).get("services") or {})


def escape_dollars(value: Any) -> Any:
    """Every ``$`` of every string (map keys too) as ``$$``, so the printed model can be loaded again."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {escape_dollars(k): escape_dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    return value


def config_text(loaded: "LoadedModel", output_format: str, services: list[str], escape: bool = True,
                pin: Callable[[str], str] | None = None, lock: bool = False) -> str:
    """The project as YAML (default) or JSON (``$`` doubled unless interpolation was off); ``pin``
    rewrites the services' images (``--resolve-image-digests``); ``lock`` keeps only those
    (``--lock-image-digests``: an override file)."""
    if "x-composer-raw" in loaded.model:
        raw = loaded.model["x-composer-raw"]
        if pin is not None:
            raw = {**raw, "services": pinned_services(raw.get("services") or {}, pin)}
        if lock:
            raw = {"services": {name: _image_only(service) for name, service in (raw.get("services") or {}).items()}}
        return raw_text(raw, output_format)
    reuse = output_format == "json" or not loaded.nested_extensions
    source = loaded.output if reuse else to_output(loaded.model, extensions=True)
    output = _ordered(_select(dict(source), services))
    check_env_files(loaded, output.get("services") or {})
    if pin is not None:
        output["services"] = pinned_services(output.get("services") or {}, pin)
    if lock:
        return _lock_text(output.get("services") or {}, output_format)
    if escape:
        output = escape_dollars(output)
    if output_format == "json":
        from composer.spec.yamlout import arrange

        output.pop("models", None)  # as Compose: its Project's models are printed in YAML only
        return go_json(arrange(dict(sorted(output.items())), keep_json=True), indent=2)
    from composer.spec.yamlout import to_yaml

    return to_yaml(output)


def pinned_services(services: Mapping[str, Any], pin: Callable[[str], str]) -> dict[str, Any]:
    """The services with each ``image`` pinned (a service that only builds keeps none)."""
    return {name: {**service, "image": pin(service["image"])} if service.get("image") else service
            for name, service in services.items()}


def _image_only(service: Mapping[str, Any]) -> dict[str, Any]:
    return {"image": service["image"]} if service.get("image") else {}


def _lock_text(services: Mapping[str, Any], output_format: str) -> str:
    """``--lock-image-digests``: Compose prints a project of the services' images only (its JSON
    is the typed project's: an empty name, the null command and entrypoint of each service)."""
    locked = {name: _image_only(services[name]) for name in sorted(services)}
    if output_format == "json":
        typed = {name: {"command": None, "entrypoint": None, **image} for name, image in locked.items()}
        return go_json({"name": "", "services": typed}, indent=2)
    from composer.spec.yamlout import to_yaml

    return to_yaml({"services": locked})


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def raw_text(model: dict[str, Any], output_format: str) -> str:
    """``config --no-interpolate``: Compose prints its map model, not the typed project: keys
    sorted at every level, fields as written (no defaults of the typed model, unused resources kept)."""
    output = _sorted(_raw_shapes(model))
    if output_format == "json":
        return go_json(output, indent=2)
    from composer.spec.yamlout import to_yaml

    return to_yaml(output, arranged=True)


def _raw_shapes(model: dict[str, Any]) -> dict[str, Any]:
    """The short forms compose-go's own map model already holds in long form (devices, build ssh)
    and the build fields it holds as strings."""
    from composer.spec.dump import parse_device

    for service in (model.get("services") or {}).values():
        if isinstance(service.get("devices"), list):
            service["devices"] = [parse_device(device) for device in service["devices"]]
        build = service.get("build")
        if isinstance(build, dict):
            if isinstance(build.get("ssh"), list):
                build["ssh"] = {key: value if sep else None
                                for key, sep, value in (str(entry).partition("=") for entry in build["ssh"])}
            for key in ("provenance", "sbom"):
                if isinstance(build.get(key), bool):
                    build[key] = str(build[key]).lower()
    return model


def go_json(value: Any, indent: int | None = None) -> str:
    """JSON as Go's encoding/json writes it (HTML characters escaped, no ASCII escaping)."""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def dependency_order(services: dict[str, Any]) -> list[str]:
    """Service names, dependencies first, ties by name (Kahn's algorithm)."""
    waiting = {n: {d for d in (s.get("depends_on") or {}) if d in services} for n, s in services.items()}
    order: list[str] = []
    while waiting:
        ready = sorted(n for n, deps in waiting.items() if not deps) or sorted(waiting)[:1]
        for name in ready:
            order.append(name)
            del waiting[name]
        for deps in waiting.values():
            deps.difference_update(ready)
    return order


def _hashed_env_file(entry: dict[str, Any]) -> Any:
    """An env_file entry as compose-go's EnvFile marshals it: a required file is its bare path
    (its ``format`` dropped), an optional one ``{path, required: false[, format]}``."""
    if entry.get("required", True):
        return entry["path"]
    return {"path": entry["path"], "required": False, **({"format": entry["format"]} if entry.get("format") else {})}


def service_hash(name: str, service: dict[str, Any], unfolded: tuple[list[Any], Any] | None = None) -> str:
    """Compose's config hash of a service: SHA-256 of its compact Go-ordered JSON, without the
    fields that do not change containers (build, pull_policy, scale, replicas, depends_on, profiles)."""
    from composer.spec.yamlout import arrange_service

    trimmed = {k: v for k, v in service.items()
               if k not in ("build", "pull_policy", "scale", "depends_on", "profiles")}
    if isinstance(trimmed.get("deploy"), dict):
        trimmed["deploy"] = {k: v for k, v in trimmed["deploy"].items() if k != "replicas"}
    if unfolded and unfolded[0]:  # Compose hashes the service with env files listed, not folded in
        from composer.spec.dump import shape

        files, own = unfolded
        trimmed["env_file"] = [_hashed_env_file(f) for f in files]
        environment = shape(own, ("services", name, "environment"))
        if environment:
            trimmed["environment"] = environment
        else:
            trimmed.pop("environment", None)
    return sha256(go_json(arrange_service(name, trimmed)).encode()).hexdigest()


# compose-go's NetworkConfig / VolumeConfig fields in struct order (json omitempty; pointers kept when set)
_NETWORK_FIELDS = ("name", "driver", "driver_opts", "ipam", "external", "internal", "attachable", "labels",
                   "enable_ipv4", "enable_ipv6")
_IPAM_FIELDS = ("driver", "config", "options")
_POOL_FIELDS = ("subnet", "gateway", "ip_range", "aux_addresses")
_VOLUME_FIELDS = ("name", "driver", "driver_opts", "external", "labels")
_POINTERS = ("enable_ipv4", "enable_ipv6")  # *bool: written when set, even false
_MAPS = ("driver_opts", "labels", "options", "aux_addresses")  # Go maps: keys sorted


def _go_struct(raw: Mapping[str, Any], fields: tuple[str, ...], always: tuple[str, ...] = ()) -> dict[str, Any]:
    """``raw``'s fields in Go struct order, empty ones left out (but ``always``), maps sorted."""
    out: dict[str, Any] = {}
    for key in fields:
        value = raw.get(key)
        if key not in always and (value is None or (key not in _POINTERS and value in ("", False, {}, [], ()))):
            continue
        out[key] = dict(sorted(value.items())) if key in _MAPS else value
    return out


def network_hash(network: Mapping[str, Any]) -> str:
    """Compose's ``com.docker.compose.config-hash`` of a network (``NetworkHash``: its JSON)."""
    ipam = network.get("ipam") or {}
    pools = [_go_struct(pool, _POOL_FIELDS) for pool in ipam.get("config") or ()]
    fields = {**network, "ipam": _go_struct({**ipam, "config": pools}, _IPAM_FIELDS)}
    return sha256(go_json(_go_struct(fields, _NETWORK_FIELDS, always=("ipam",))).encode()).hexdigest()


def volume_hash(volume: Mapping[str, Any]) -> str:
    """Compose's ``com.docker.compose.config-hash`` of a volume (``VolumeHash``; driver local by default)."""
    shaped = _go_struct({**volume, "driver": volume.get("driver") or "local"}, _VOLUME_FIELDS)
    return sha256(go_json(shaped).encode()).hexdigest()


def listing(loaded: "LoadedModel", *, services: bool, volumes: bool, networks: bool, profiles: bool,
            images: bool, hash_: str | None, selected: list[str] = ()) -> str | None:
    """The text of a one-per-line flag, or None when no such flag was given (``--images``: of the
    ``selected`` services and their dependencies, all without a selection)."""
    model = loaded.model
    if services:
        return "\n".join(dependency_order(model.get("services", {})))
    if volumes or networks:
        pruned = loaded.output
        return "\n".join(sorted(pruned.get("volumes" if volumes else "networks") or {}))
    if profiles:
        every = {**model.get("services", {}), **(model.get("x-composer-disabled") or {})}
        return "\n".join(sorted({p for s in every.values() for p in s.get("profiles") or []}))
    output = loaded.output
    if images:
        return "\n".join(s.get("image") or f"{loaded.name}-{n}"
                         for n, s in sorted(_select(dict(output), list(selected)).get("services", {}).items()))
    if hash_ is not None:
        wanted = sorted(output.get("services", {})) if hash_ == "*" else hash_.split(",")
        lines = []
        for name in wanted:
            if name not in output.get("services", {}):
                why = "disabled" if name in (model.get("x-composer-disabled") or {}) else "not found"
                raise UsageError(f"no such service: {name}: {why}", hint="see composer config --services")
            check_env_files(loaded, [name])
            unfolded = (model.get("x-composer-env-files") or {}).get(name)
            lines.append(f"{name} {service_hash(name, output['services'][name], unfolded)}")
        return "\n".join(lines)
    return None


def variables(files: list[str], output_format: str | None) -> str:
    """``config --variables``: every variable the files use, as a table, JSON or YAML."""
    from composer.spec.interpolate import variables_in
    from composer.spec.loader import read_documents

    found: dict[str, dict[str, Any]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            variables_in(value, found)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for file in files:
        for document in read_documents(file):
            walk(document.data)
    ordered = dict(sorted(found.items()))
    if output_format == "json":
        return json.dumps(ordered, indent=4, ensure_ascii=False) + "\n"  # Compose prints a blank line after
    if output_format == "yaml":
        from composer.spec.yamlout import to_yaml

        text = to_yaml({name: {"name": v["Name"], "defaultvalue": v["DefaultValue"], "presencevalue": v["PresenceValue"],
                               "required": v["Required"]} for name, v in ordered.items()}, arranged=True)
        return text.replace("\n  ", "\n    ")  # two levels of plain scalars, indented 4 as yaml.v3 does by default
    rows = [("NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE")]
    rows += [(v["Name"], "true" if v["Required"] else "false", v["DefaultValue"], v["PresenceValue"])
             for v in ordered.values()]
    return "\n".join("".join(cell.ljust(max(20, len(cell) + 3)) for cell in row[:-1]) + row[-1] for row in rows)


def environment_text(environment: dict[str, str]) -> str:
    """``config --environment``: the interpolation environment, sorted ``KEY=VALUE`` lines."""
    return "\n".join(f"{key}={value}" for key, value in sorted(environment.items()))
