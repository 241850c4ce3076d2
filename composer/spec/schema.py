"""Validation against our JSON schema of the Compose Specification (``schemas/compose-spec.json``).

jsonschema costs ~60 ms to import, so a model that already validated once is remembered by its
digest in a small cache directory and not validated again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

try:  # the builtin module: hashlib would load OpenSSL (~13 ms)
    from _sha256 import sha256
except ImportError:  # Python >= 3.12
    from hashlib import sha256

from composer.errors import SchemaError, SourceLocation
from composer.spec.source import Path as TreePath
from composer.spec.source import Mark, locate

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "compose-spec.json"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = _schema()
    return jsonschema.Draft202012Validator(schema, format_checker=None)


def _quick_valid(model: dict[str, Any]) -> bool:
    """The jsonschema-free check (False also when the schema uses keywords it does not know)."""
    from composer.spec import quickcheck

    schema = _schema()
    return quickcheck.supports(schema) and quickcheck.is_valid(model, schema)


def _cache_dir() -> Path:
    from composer.settings import state_root

    return state_root() / "cache" / "schema-valid"


def _digest(model: dict[str, Any]) -> str:
    text = json.dumps(model, sort_keys=True, default=str) + str(SCHEMA_FILE.stat().st_mtime_ns)
    return sha256(text.encode()).hexdigest()


def validate(model: dict[str, Any], positions: Mapping[TreePath, Mark]) -> None:
    """Raise a located SchemaError for the most relevant schema violation of ``model``."""
    digest = _digest(model)
    marker = _cache_dir() / digest[:40]
    if marker.exists():
        return
    if not _quick_valid(model):
        from jsonschema.exceptions import best_match

        error = best_match(_validator().iter_errors(model))
        if error is not None:
            raise _translate(error, positions)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass


def _locate(path: TreePath, positions: Mapping[TreePath, Mark]) -> SourceLocation:
    return locate(positions, path)


def _allowed(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("properties", {}))


def _translate(error: Any, positions: Mapping[TreePath, Mark]) -> SchemaError:
    path: TreePath = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = _allowed(error.schema)
        extra = [k for k in error.instance if k not in allowed and not str(k).startswith("x-")]
        key = extra[0] if extra else "?"
        if not allowed:
            return SchemaError(f"{key!r} is not a valid name", location=_locate((*path, key), positions),
                               hint="names may use letters, digits, '.', '_' and '-'")
        import difflib

        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "remove it or use an x- extension field"
        return SchemaError(f"additional property {key!r} is not allowed", location=_locate((*path, key), positions),
                           hint=hint)
    if error.validator == "type":
        wanted = error.validator_value
        return _wrong_type(wanted if isinstance(wanted, list) else [wanted], error.instance, path, positions)
    if error.validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        return SchemaError(f"{error.instance!r} is not one of the allowed values",
                           location=_locate(path, positions), hint=f"use one of: {options}")
    if error.validator == "required":
        return SchemaError(error.message, location=_locate(path, positions), hint="add the missing field")
    if error.validator == "oneOf":
        wanted = _alternative_types(error)
        if wanted:
            return _wrong_type(wanted, error.instance, path, positions)
        return SchemaError(f"invalid value {_short(error.instance)}", location=_locate(path, positions),
                           hint="see the Compose Specification for the accepted forms")
    return SchemaError(error.message, location=_locate(path, positions), hint="fix this value")


def _wrong_type(wanted: list[str], instance: Any, path: TreePath, positions: Mapping[TreePath, Mark]) -> SchemaError:
    names = [_JSON_TYPES.get(t, t) for t in wanted]
    text = " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]
    article = "an" if text[0] in "aeiou" else "a"
    return SchemaError(f"must be {article} {text}, not {_type_name(instance)}", location=_locate(path, positions),
                       hint=f"write {article} {text} here")


def _alternative_types(error: Any) -> list[str]:
    """The types a ``oneOf`` allows, when the value has none of them (else [], the error is deeper)."""
    wanted: list[str] = []
    for sub in error.context or ():
        if sub.validator == "type" and not sub.relative_path:
            types = sub.validator_value
            wanted += [t for t in (types if isinstance(types, list) else [types]) if t not in wanted]
    if not wanted or any(_validator().is_type(error.instance, t) for t in wanted):
        return []
    return wanted


_JSON_TYPES = {"object": "mapping", "array": "list", "null": "null", "number": "number", "integer": "integer",
               "string": "string", "boolean": "boolean"}


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) < 60 else text[:57] + "..."
