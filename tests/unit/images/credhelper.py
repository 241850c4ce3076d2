"""A tiny docker credential helper for tests: ``docker-credential-<name>`` keeping secrets in a JSON file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SCRIPT = '''#!{python}
import json, pathlib, sys
db = pathlib.Path(__file__).with_name("secrets-{name}.json")
data = json.loads(db.read_text()) if db.exists() else {{}}
action, payload = sys.argv[1], sys.stdin.read().strip()
if action == "store":
    entry = json.loads(payload)
    data[entry["ServerURL"]] = entry
elif action in ("get", "erase") and payload not in data:
    print("credentials not found in native keychain")
    sys.exit(1)
elif action == "get":
    print(json.dumps(data[payload]))
    sys.exit(0)
elif action == "erase":
    del data[payload]
db.write_text(json.dumps(data))
'''


def install_helper(directory: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write ``docker-credential-<name>`` into ``directory`` and put it first on PATH; returns its secrets file."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / f"docker-credential-{name}"
    program.write_text(SCRIPT.format(python=sys.executable, name=name))
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    return directory / f"secrets-{name}.json"
