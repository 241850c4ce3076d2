"""The per-file chain of stages (interpolate, include, extends, merge, validate, canonical)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Mapping

from composer.errors import SourceLocation, SpecError
from composer.spec.source import Document, Positions

if TYPE_CHECKING:
    from composer.spec.loader import ProjectOptions


def process_document(document: Document, model: dict[str, Any], options: "ProjectOptions",
                     environment: Mapping[str, str], working_dir: str, positions: Positions,
                     included: tuple[str, ...] = ()) -> dict[str, Any]:
    """Merge one parsed document onto ``model`` (the files before it), returning the result."""
    from composer.spec import canonical, merge, schema

    data = document.data
    if data is None:
        return model
    if not isinstance(data, dict):
        raise SpecError("top-level object must be a mapping", location=SourceLocation(document.file, 1, 1),
                        hint="start the file with keys such as services:")
    positions.update(document.positions)
    if options.interpolate:
        from composer.spec.interpolate import interpolate

        data = interpolate(data, environment, document.file, document.positions)
    if "include" in data:
        from composer.spec.include import apply_include

        apply_include(data, document, options, environment, working_dir, positions,
                      (*included, document.file))
    merge.apply_resets(model, document.resets + document.overrides)
    if "services" in data and isinstance(data["services"], dict):
        from composer.spec.extends import apply_extends

        apply_extends(data, document, options, environment, working_dir, positions)
    model = merge.merge_mappings(model, data, ())
    model = merge.enforce_unicity(model)
    schema.validate(model, positions)
    model.pop("version", None)
    token = canonical.RAW_MODEL.set(not options.interpolate)
    try:
        model = canonical.canonical(model)
    except SpecError as error:
        path = getattr(error, "tree_path", None)
        if path:
            from composer.spec.semantic import Located

            error.location = Located(positions).at(*path)
        raise
    finally:
        canonical.RAW_MODEL.reset(token)
    return merge.enforce_unicity(model)


def build_model(documents: dict[str, list[Document]], options: "ProjectOptions",
                environment: dict[str, str], working_dir: str, name: str) -> tuple[dict[str, Any], Positions]:
    """The merged, canonical, normalized dict of a project's files."""
    from composer.spec import normalize, schema, semantic

    positions: Positions = {}
    model: dict[str, Any] = {}
    for file_documents in documents.values():
        for document in file_documents:
            model = process_document(document, model, options, environment, working_dir, positions)
    model = normalize.set_defaults(model)
    schema.validate(model, positions)
    if options.resolve_paths:
        normalize.resolve_paths(model, working_dir)
    normalize.resolve_environment(model, environment, contents=options.interpolate)
    if not model:
        raise SpecError("empty compose file", hint="add a services: section")
    model["name"] = name
    if options.normalize:
        model = normalize.normalize(model, environment)
    raw = None if options.interpolate else deep_copy(model)  # what --no-interpolate prints
    normalize.scale_to_replicas(model)
    model = semantic.finish(model, options, environment, positions)
    if raw is not None:
        model["x-composer-raw"] = raw
    return model, positions


def deep_copy(value: Any) -> Any:
    """A private copy of a sub-tree (extends and include must not share structure)."""
    return copy.deepcopy(value)
