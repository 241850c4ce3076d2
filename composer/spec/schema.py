"""Schema validation (placeholder until the JSON schema lands)."""
from __future__ import annotations
from typing import Any, Mapping


def validate(model: dict[str, Any], positions: Mapping[Any, Any]) -> None:
    """Check ``model`` against the Compose Specification schema."""
    return None
