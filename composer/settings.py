"""Process-wide settings read from the environment (one place, so tests can override them)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STATE_ROOT = "/var/lib/composer"


def state_root() -> Path:
    """The directory that holds all of composer's state (``COMPOSER_ROOT`` overrides it)."""
    return Path(os.environ.get("COMPOSER_ROOT") or DEFAULT_STATE_ROOT)
