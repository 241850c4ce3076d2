"""``include``: import the resources of other compose projects (each with its own directory)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from composer.errors import SemanticError, SpecError
from composer.spec.source import Document, locate

if TYPE_CHECKING:
    from composer.spec.loader import ProjectOptions

_KINDS = ("services", "networks", "volumes", "secrets", "configs")


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _load_included(entry: dict[str, Any], base_dir: str, outer_dir: str, options: "ProjectOptions",
                   environment: Mapping[str, str], positions: Any, chain: tuple[str, ...]) -> dict[str, Any]:
    from composer.spec.dotenv import environment_for
    from composer.spec.loader import read_documents
    from composer.spec.normalize import resolve_paths, set_defaults
    from composer.spec.pipeline import process_document

    files = [os.path.normpath(os.path.join(base_dir, os.path.expanduser(p))) for p in _as_list(entry["path"])]
    for file in files:
        if file in chain:
            raise SemanticError("include cycle detected: " + " -> ".join((*chain, file)),
                                hint="remove one of the include entries")
    project_dir = entry.get("project_directory")
    working_dir = os.path.normpath(os.path.join(base_dir, project_dir)) if project_dir else os.path.dirname(files[0])
    env_files = [os.path.join(base_dir, f) for f in _as_list(entry.get("env_file"))]
    included_env = environment_for(Path(working_dir), env_files, dict(environment)) if env_files else \
        {**environment_for(Path(working_dir), [], {}), **environment}
    sub_options = replace(options, files=tuple(files))
    model: dict[str, Any] = {}
    for file in files:
        for document in read_documents(file):
            model = process_document(document, model, sub_options, included_env, working_dir, positions, chain)
    model = set_defaults(model)
    if options.resolve_paths:
        resolve_paths(model, working_dir)
    else:  # relative to the including project's directory, as Compose prints them
        from composer.spec.extends import rebase_paths

        for service in (model.get("services") or {}).values():
            rebase_paths(service, working_dir, outer_dir)
    return model


def apply_include(data: dict[str, Any], document: Document, options: "ProjectOptions",
                  environment: Mapping[str, str], working_dir: str, positions: Any,
                  chain: tuple[str, ...]) -> None:
    """Merge every included project's resources into ``data``; a clash is an error."""
    entries = data.pop("include") or []
    base_dir = os.path.dirname(document.file) if document.file != "-" else working_dir
    for index, entry in enumerate(entries):
        entry = {"path": entry} if isinstance(entry, str) else entry
        where = locate(positions, ("include", index), document.file)
        try:
            imported = _load_included(entry, base_dir, working_dir, options, environment, positions, chain)
        except SpecError as error:
            error.location = error.location or where
            raise
        for kind in _KINDS:
            for name, resource in (imported.get(kind) or {}).items():
                existing = (data.get(kind) or {}).get(name)
                if existing is not None and existing != resource:
                    raise SemanticError(f"{kind}.{name} conflicts with imported resource", location=where,
                                        hint=f"rename {name} in one of the files")
                data.setdefault(kind, {})
                if data[kind] is None:
                    data[kind] = {}
                data[kind][name] = resource
