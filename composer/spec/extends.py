"""``extends``: a service inherits another one (same file or another file, chains allowed)."""

from __future__ import annotations

import copy
import os
import posixpath
from typing import TYPE_CHECKING, Any, Callable, Mapping

from composer.errors import SemanticError, SpecError
from composer.spec.source import Document

if TYPE_CHECKING:
    from composer.spec.loader import ProjectOptions


def rebase_paths(service: dict[str, Any], base_dir: str, working_dir: str) -> None:
    """Relative paths of a service from another directory, made relative to ``working_dir``."""
    if base_dir == working_dir:
        return

    def moved(path: str) -> str:
        if posixpath.isabs(path) or path.startswith("~"):
            return path
        return os.path.relpath(posixpath.join(base_dir, path), working_dir)

    build = service.get("build")
    if isinstance(build, str):
        service["build"] = moved(build)
    elif isinstance(build, dict):
        if isinstance(build.get("context"), str) and "://" not in build["context"]:
            build["context"] = moved(build["context"])
        _rebase_contexts(build, moved)
    label_file = service.get("label_file")
    if label_file is not None:
        service["label_file"] = [moved(f) for f in ([label_file] if isinstance(label_file, str) else label_file)]
    for watch in (service.get("develop") or {}).get("watch") or []:
        if isinstance(watch, dict) and isinstance(watch.get("path"), str):
            watch["path"] = moved(watch["path"])
    env_file = service.get("env_file")
    if isinstance(env_file, str):
        service["env_file"] = moved(env_file)
    elif isinstance(env_file, list):
        service["env_file"] = [moved(e) if isinstance(e, str) else {**e, "path": moved(e["path"])} for e in env_file]
    for i, volume in enumerate(service.get("volumes") or []):
        if isinstance(volume, str) and volume[:1] == ".":
            from composer.spec.canonical import parse_volume

            volume = service["volumes"][i] = parse_volume(volume)  # long form: a bind whatever its source
        if isinstance(volume, dict) and volume.get("type") == "bind" and str(volume.get("source", ""))[:1] == ".":
            volume["source"] = moved(volume["source"])


def _rebase_contexts(build: dict[str, Any], moved: Callable[[str], str]) -> None:
    """The local additional build contexts (a mapping or ``name=path`` entries), rebased by ``moved``."""
    from composer.spec.normalize import is_local_context

    contexts = build.get("additional_contexts")
    if isinstance(contexts, dict):
        build["additional_contexts"] = {k: moved(v) if is_local_context(v) else v for k, v in contexts.items()}
    elif isinstance(contexts, list):
        entries = [str(entry).partition("=") for entry in contexts]
        build["additional_contexts"] = [f"{k}={moved(v) if is_local_context(v) else v}" if sep else k
                                        for k, sep, v in entries]


def _override(extended: dict[str, Any], own: dict[str, Any], path: tuple[Any, ...]) -> None:
    """``!override``: the service's own value at ``path`` replaces the merged one (mappings only)."""
    for part in path[:-1]:
        own, extended = own.get(part), extended.get(part)
        if not isinstance(own, dict) or not isinstance(extended, dict):
            return
    if path[-1] in own:
        extended[path[-1]] = copy.deepcopy(own[path[-1]])


class _Resolver:
    """Resolves the extends chains of one document's services."""

    def __init__(self, options: "ProjectOptions", environment: Mapping[str, str], working_dir: str) -> None:
        self.options = options
        self.environment = environment
        self.working_dir = working_dir
        self.files: dict[str, dict[str, Any]] = {}

    def services_of(self, file: str) -> dict[str, Any]:
        if file not in self.files:
            from composer.spec.interpolate import interpolate
            from composer.spec.loader import read_documents

            data: dict[str, Any] = {}
            for document in read_documents(file):
                if isinstance(document.data, dict):
                    data = document.data
            if self.options.interpolate:
                data = interpolate(data, self.environment, file)
            self.files[file] = data.get("services") or {}
        return self.files[file]

    def resolve(self, name: str, services: dict[str, Any], file: str, chain: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        """The fully extended service ``name`` of ``services`` (defined in ``file``)."""
        from composer.spec.merge import merge_mappings

        service = services.get(name)
        if not isinstance(service, dict):
            raise SemanticError(f"cannot extend service {name!r} of {file}: no such service",
                                hint="fix extends.service or extends.file")
        if (file, name) in chain:
            cycle = " -> ".join(n for _, n in (*chain, (file, name)))
            raise SemanticError(f"circular extends reference: {cycle}", hint="remove one of the extends")
        extends = service.get("extends")
        if extends is None:
            return copy.deepcopy(service)
        spec = {"service": extends} if isinstance(extends, str) else extends
        base_file = file
        if spec.get("file"):
            base_file = os.path.normpath(os.path.join(os.path.dirname(file), os.path.expanduser(spec["file"])))
            base_services = self.services_of(base_file)
        else:
            base_services = services
        base = self.resolve(spec["service"], base_services, base_file, (*chain, (file, name)))
        rebase_paths(base, os.path.dirname(base_file), os.path.dirname(file))
        own = copy.deepcopy(service)
        own.pop("extends", None)
        base.pop("extends", None)
        return merge_mappings(base, own, ("services", name))


def apply_extends(data: dict[str, Any], document: Document, options: "ProjectOptions",
                  environment: Mapping[str, str], working_dir: str, positions: Any) -> None:
    """Replace every service of ``data`` that uses ``extends`` by its extended form (in place)."""
    from composer.spec.merge import apply_resets
    from composer.spec.semantic import Located

    services = data["services"]
    if not any(isinstance(s, dict) and "extends" in s for s in services.values()):
        return
    resolver = _Resolver(options, environment, working_dir)
    file = document.file if document.file != "-" else os.path.join(working_dir, "-")
    for name in list(services):
        if isinstance(services[name], dict) and "extends" in services[name]:
            try:
                extended = resolver.resolve(name, services, file, ())
            except SpecError as error:
                if error.location is None:
                    error.location = Located(positions).at("services", name, "extends")
                raise
            resets = [p[2:] for p in document.resets if p[:2] == ("services", name) and len(p) > 2]
            apply_resets(extended, resets)
            for path in document.overrides:
                if path[:2] == ("services", name) and len(path) > 2:
                    _override(extended, services[name], path[2:])
            extended.pop("extends", None)
            services[name] = extended
