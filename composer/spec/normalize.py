"""Defaults, implied dependencies, resource names, absolute paths and resolved environments."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path as FsPath
from typing import Any, Callable, Mapping

from composer.spec.source import Path
from composer.spec.treepath import Cursor, Rules, cursor

_STARTED = {"condition": "service_started", "restart": True, "required": True}


def _port_defaults(port: Any) -> Any:
    if isinstance(port, dict):
        port.setdefault("protocol", "tcp")
        port.setdefault("mode", "ingress")
    return port


def _secret_defaults(mount: Any) -> Any:
    if isinstance(mount, dict):
        mount.setdefault("target", f"/run/secrets/{mount.get('source')}")
    return mount


def _build_defaults(build: Any) -> Any:
    if isinstance(build, dict):
        build.setdefault("context", ".")
    elif isinstance(build, str):
        build = {"context": build}
    return build


def _device_defaults(device: Any) -> Any:
    if isinstance(device, dict) and "count" not in device and "device_ids" not in device:
        device["count"] = "all"
    return device


DEFAULTS: dict[str, Callable[[Any], Any]] = {
    "services.*.build": _build_defaults,
    "services.*.secrets.[]": _secret_defaults,
    "services.*.ports.[]": _port_defaults,
    "services.*.deploy.resources.reservations.devices.[]": _device_defaults,
    "services.*.gpus.[]": _device_defaults,
}


_DEFAULT_RULES: Rules[Callable[[Any], Any]] = Rules(DEFAULTS)


def set_defaults(value: Any, path: Path = (), at: Cursor[Callable[[Any], Any]] | None = None) -> Any:
    """Fill in the per-field defaults of ``DEFAULTS`` (in place)."""
    at = at if at is not None else cursor(_DEFAULT_RULES)
    if not at.nodes:
        return value
    default = at.value
    if default is not None:
        return default(value)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = set_defaults(value[key], (*path, key), at.child(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = set_defaults(item, (*path, i), at.child(i))
    return value


def _implied_dependencies(service: dict[str, Any]) -> None:
    """depends_on entries implied by links, ``service:`` namespaces and volumes_from."""
    depends: dict[str, Any] = service.get("depends_on") or {}
    for link in service.get("links") or []:
        parts = str(link).split(":")
        depends.setdefault(parts[0] if len(parts) == 2 else str(link), dict(_STARTED))
    for namespace in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        reference = service.get(namespace)
        if isinstance(reference, str) and reference.startswith("service:"):
            depends.setdefault(reference[len("service:"):], dict(_STARTED))
    for source in service.get("volumes_from") or []:
        if not str(source).startswith("container:"):
            depends.setdefault(str(source).split(":")[0], {**_STARTED, "restart": False})
    if depends:
        service["depends_on"] = depends


def _default_network(model: dict[str, Any]) -> None:
    networks = model.get("networks") or {}
    uses_default = False
    for service in (model.get("services") or {}).values():
        if "provider" in service or "network_mode" in service:
            continue
        attached = service.get("networks")
        if not attached:
            service["networks"] = {"default": None}
            uses_default = True
        elif "default" in attached:
            uses_default = True
    if uses_default and "default" not in networks:
        networks["default"] = None
    if networks:
        model["networks"] = networks


def _resolve_list(entries: list[Any], lookup: Mapping[str, str]) -> list[Any]:
    return [f"{e}={lookup[e]}" if isinstance(e, str) and "=" not in e and e in lookup else e
            for e in entries]


def _resolve_map(entries: dict[str, Any], lookup: Mapping[str, str], keep_empty: bool) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for key, value in entries.items():
        if value is not None:
            resolved[key] = value
        elif key in lookup:
            resolved[key] = lookup[key]
        elif keep_empty:
            resolved[key] = None
    return resolved


def _resolve(entries: Any, lookup: Mapping[str, str], keep_empty: bool) -> Any:
    if isinstance(entries, dict):
        return _resolve_map(entries, lookup, keep_empty)
    if isinstance(entries, list):
        resolved = _resolve_list(entries, lookup)
        return resolved if keep_empty else [e for e in resolved if not isinstance(e, str) or "=" in e]
    return entries


def normalize(model: dict[str, Any], environment: Mapping[str, str]) -> dict[str, Any]:
    """Implicit default network, build defaults, implied dependencies and resource names."""
    _default_network(model)
    for service in (model.get("services") or {}).values():
        if service.get("pull_policy") == "if_not_present":
            service["pull_policy"] = "missing"
        build = service.get("build")
        if isinstance(build, dict):
            build.setdefault("context", ".")
            if build.get("dockerfile") is None and build.get("dockerfile_inline") is None:
                build["dockerfile"] = "Dockerfile"
            if "args" in build:
                build["args"] = _resolve(build["args"], environment, False)
        if "environment" in service:
            service["environment"] = _resolve(service["environment"], environment, True)
        _implied_dependencies(service)
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("target"):
                volume["target"] = posixpath.normpath(volume["target"])
    for kind in ("networks", "volumes", "configs", "secrets"):
        resources = model.get(kind)
        if not isinstance(resources, dict):
            continue
        for key, resource in list(resources.items()):
            resource = resource if isinstance(resource, dict) else {}
            if resource.get("name") is None:
                external = str(resource.get("external", "")).lower() in ("true", "1")
                resource["name"] = key if external else f"{model.get('name')}_{key}"
            resources[key] = resource
    return model


def scale_to_replicas(model: dict[str, Any]) -> None:
    """A service with ``scale`` and a ``deploy`` section without ``replicas`` gets them (as Compose)."""
    for service in (model.get("services") or {}).values():
        deploy = service.get("deploy")
        if isinstance(deploy, dict) and deploy.get("replicas") is None and service.get("scale") is not None:
            deploy["replicas"] = service["scale"]


# --- relative paths ---------------------------------------------------------------------------
def expand_user(path: str) -> str:
    """``~`` and ``~/x`` as the home directory."""
    if path == "~" or path.startswith("~/"):
        return os.path.expanduser("~") + path[1:]
    return path


def _is_remote(context: str) -> bool:
    return "://" in context or context.startswith("git@") or context.startswith("github.com/")


def is_local_context(item: Any) -> bool:
    """Whether an additional build context is a local directory (not a URL, image, stage or service)."""
    return isinstance(item, str) and not _is_remote(item) and "://" not in item \
        and not item.startswith(("docker-image:", "target:", "service:"))


_WINDOWS_ABSOLUTE = re.compile(r"[A-Za-z]:[\\/]|\\\\")  # C:\x, C:/x, \\host\share: kept, as Compose does


def resolve_paths(model: dict[str, Any], working_dir: str) -> None:
    """Make every relative path of the model absolute against ``working_dir`` (in place)."""

    def absolute(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        value = expand_user(value)
        return value if posixpath.isabs(value) else posixpath.normpath(posixpath.join(working_dir, value))

    for service in (model.get("services") or {}).values():
        build = service.get("build")
        if isinstance(build, dict):
            context = build.get("context")
            if isinstance(context, str) and not _is_remote(context):
                build["context"] = absolute(context)
            contexts = build.get("additional_contexts")
            if isinstance(contexts, dict):
                for key, item in contexts.items():
                    if is_local_context(item):
                        contexts[key] = absolute(item)
        for entry in service.get("env_file") or []:
            if isinstance(entry, dict):
                entry["path"] = absolute(entry.get("path"))
        if isinstance(service.get("label_file"), list):
            service["label_file"] = [absolute(f) for f in service["label_file"]]
        extends = service.get("extends")
        if isinstance(extends, dict) and "file" in extends:
            extends["file"] = absolute(extends["file"])
        for watch in (service.get("develop") or {}).get("watch") or []:
            if isinstance(watch, dict) and "path" in watch:
                watch["path"] = absolute(watch["path"])
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("type") == "bind" and "source" in volume \
                    and not _WINDOWS_ABSOLUTE.match(str(volume["source"])):
                volume["source"] = absolute(volume["source"])
    for kind in ("configs", "secrets"):
        for resource in (model.get(kind) or {}).values():
            if isinstance(resource, dict) and "file" in resource:
                resource["file"] = absolute(resource["file"])
    for volume in (model.get("volumes") or {}).values():
        if isinstance(volume, dict) and volume.get("driver") == "local":
            opts = volume.get("driver_opts") or {}
            if opts.get("o") == "bind" and "device" in opts:
                opts["device"] = absolute(opts["device"])


def resolve_environment(model: dict[str, Any], environment: Mapping[str, str], contents: bool = True) -> None:
    """Bare ``VAR`` entries of service environments take the value from ``environment``; so does
    the content of secrets and configs from an ``environment`` variable (``contents``); resources
    declared empty (``data:``) become ``{}``."""
    for service in (model.get("services") or {}).values():
        if isinstance(service.get("environment"), list):
            service["environment"] = _resolve_list(service["environment"], environment)
    for kind in ("networks", "volumes", "configs", "secrets"):
        resources = model.get(kind)
        if isinstance(resources, dict):
            model[kind] = {key: {} if value is None else value for key, value in resources.items()}
    for kind, field in (("secrets", "content"), ("configs", "content")):
        for resource in (model.get(kind) or {}).values():
            if contents and isinstance(resource, dict) and isinstance(resource.get("environment"), str):
                if resource["environment"] in environment:
                    resource[field] = environment[resource["environment"]]


def apply_label_files(service: dict[str, Any]) -> None:
    """Fold the service's ``label_file`` entries under its own ``labels`` (label_file is dropped)."""
    from composer.spec.dotenv import read_dotenv
    from composer.spec.merge import to_sequence

    files = service.pop("label_file", None) or []
    if not files:
        return
    merged: dict[str, Any] = {}
    for path in files:
        merged.update({k: v or "" for k, v in read_dotenv(FsPath(path)).items()})
    for entry in to_sequence(service.get("labels") or {}):
        key, _, value = str(entry).partition("=")
        merged[key] = value
    service["labels"] = merged


def apply_env_files(service: dict[str, Any], environment: Mapping[str, str]) -> tuple[list[Any], Any]:
    """Fold the service's ``env_file`` entries into its ``environment``; the entries removed and
    the service's own environment before folding (Compose's config hash uses both)."""
    from composer.spec.dotenv import read_dotenv
    from composer.errors import SpecError

    files = service.pop("env_file", None) or []
    if not files:
        return files, service.get("environment")
    merged: dict[str, Any] = {}
    for entry in files:
        path = FsPath(entry["path"])
        if not path.exists():
            from composer.spec.cache import record

            record(str(path), None)
            if entry.get("required", True):
                raise SpecError(f"env file {path} not found", hint="create it or set required: false")
            continue
        lookup = lambda key: merged.get(key) if merged.get(key) is not None else environment.get(key)  # noqa: E731
        merged.update(read_dotenv(path, lookup, raw=entry.get("format") == "raw"))
    own = service.get("environment") or {}
    if isinstance(own, list):
        own = {k: (v if sep else None) for k, sep, v in (str(e).partition("=") for e in own)}
    for key, value in own.items():
        if value is not None or key not in merged:
            merged[key] = value
    service["environment"] = merged
    return files, own
