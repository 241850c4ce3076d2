"""A yes/no check of a model against our Compose schema, without importing jsonschema.

jsonschema costs ~60 ms to import and walks every node through generic keyword dispatch; nearly
every model is valid, so :func:`is_valid` answers "valid?" with a direct walk over the few keywords
our schema uses. Only a "no" sends the model to jsonschema, which finds and explains the error.
A schema using any other keyword is never judged here (:func:`supports` is False).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

KEYWORDS = frozenset({
    "$schema", "$id", "title", "description", "format", "type", "properties", "patternProperties",
    "additionalProperties", "items", "oneOf", "uniqueItems", "required", "enum", "pattern",
})

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


def supports(schema: Any) -> bool:
    """True when every keyword of ``schema`` (at any depth) is one :func:`is_valid` implements."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not set(schema) <= KEYWORDS:
        return False
    nested = [*schema.get("properties", {}).values(), *schema.get("patternProperties", {}).values(),
              *schema.get("oneOf", [])]
    for key in ("additionalProperties", "items"):
        if key in schema:
            nested.append(schema[key])
    return all(supports(part) for part in nested)


@lru_cache(maxsize=None)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _type_ok(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return _TYPES[wanted](value)
    return any(_TYPES[name](value) for name in wanted)


def _strict(value: Any) -> str:
    """A key telling JSON values apart as jsonschema does (``1`` and ``true`` differ, ``1 == 1.0``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, default=str) + type(value).__name__


def is_valid(value: Any, schema: Any) -> bool:
    """Whether ``value`` satisfies ``schema`` (a schema for which :func:`supports` is True)."""
    if schema is True:
        return True
    if schema is False:
        return False
    if "type" in schema and not _type_ok(value, schema["type"]):
        return False
    if "enum" in schema and _strict(value) not in {_strict(option) for option in schema["enum"]}:
        return False
    if "pattern" in schema and isinstance(value, str) and not _pattern(schema["pattern"]).search(value):
        return False
    if "oneOf" in schema and sum(is_valid(value, option) for option in schema["oneOf"]) != 1:
        return False
    if isinstance(value, dict):
        return _object_ok(value, schema)
    if isinstance(value, list):
        return _array_ok(value, schema)
    return True


def _object_ok(value: dict[str, Any], schema: dict[str, Any]) -> bool:
    if any(name not in value for name in schema.get("required", ())):
        return False
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if not isinstance(key, str):
            return False  # let jsonschema judge (and explain) non-string keys
        matched = False
        if key in properties:
            matched = True
            if not is_valid(item, properties[key]):
                return False
        for pattern, sub in patterns.items():
            if _pattern(pattern).search(key):
                matched = True
                if not is_valid(item, sub):
                    return False
        if not matched and not is_valid(item, extra):
            return False
    return True


def _array_ok(value: list[Any], schema: dict[str, Any]) -> bool:
    items = schema.get("items")
    if items is not None and not all(is_valid(item, items) for item in value):
        return False
    if schema.get("uniqueItems") and len({_strict(item) for item in value}) != len(value):
        return False
    return True
