"""The jsonschema-free validity check agrees with jsonschema (it must never call an invalid model valid)."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from composer.spec import quickcheck, schema

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SCHEMA = schema._schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _documents() -> list[Any]:
    found = []
    for path in sorted(CORPUS.rglob("*.y*ml")):
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        if isinstance(data, dict):
            found.append(data)
    return found


def _nodes(value: Any, path: tuple = ()) -> list[tuple]:
    paths = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _nodes(item, (*path, index))
    return paths


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy_ = copy.deepcopy(value)
    node = copy_
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return copy_


def test_our_schema_uses_only_keywords_the_quick_check_knows() -> None:
    assert quickcheck.supports(SCHEMA)
    assert not quickcheck.supports({"type": "object", "not": {"type": "string"}})


@pytest.mark.parametrize("seed", range(2))
def test_agrees_with_jsonschema_on_corpus_documents_and_mutations(seed: int) -> None:
    chooser = random.Random(seed)
    replacements = [None, True, 0, 1.5, -3, "", "x y", "1", [], ["a", "a"], {}, {"k": None}, {"1": [1]}]
    checked = 0
    for document in _documents():
        variants = [document]
        paths = _nodes(document)
        for _ in range(6):
            variants.append(_replace(document, chooser.choice(paths), chooser.choice(replacements)))
        for variant in variants:
            expected = not any(True for _ in VALIDATOR.iter_errors(variant))
            assert quickcheck.is_valid(variant, SCHEMA) == expected, variant
            checked += 1
    assert checked > 500


def test_unique_items_and_number_types_follow_json_semantics() -> None:
    assert not quickcheck.is_valid([1, 1.0], {"type": "array", "uniqueItems": True})
    assert quickcheck.is_valid([1, True], {"type": "array", "uniqueItems": True})
    assert quickcheck.is_valid(2.0, {"type": "integer"})
    assert not quickcheck.is_valid(True, {"type": "integer"})
    assert not quickcheck.is_valid("x", {"oneOf": [{"type": "string"}, {"pattern": "x"}]})
