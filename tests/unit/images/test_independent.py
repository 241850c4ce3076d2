"""Unit tests of images and the builder stand on their own: no integration module is imported
(a unit run must not depend on integration fixtures; what both use lives in tests/fixtures/)."""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_unit_module_of_images_or_builder_imports_an_integration_one() -> None:
    offenders = [f"{path.relative_to(UNIT)}: {name}" for folder in ("images", "builder")
                 for path in sorted((UNIT / folder).glob("*.py")) for name in _imported(path)
                 if name.startswith("tests.integration")]
    assert offenders == []
