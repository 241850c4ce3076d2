"""A validated cache of ``composer config`` output and of the loaded model the compose commands
bind (``composer.cli.project.cached_project``), so a repeated command skips YAML entirely.

The key covers the command line, the whole process environment, the working directory and the
code itself; the entry lists every file the load read (or found missing) with its digest, and is
used only when all of them are unchanged. Only successful outputs are stored.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

try:  # the builtin module: hashlib would load OpenSSL (~13 ms)
    from _sha256 import sha256
except ImportError:  # Python >= 3.12
    from hashlib import sha256

_READS: dict[str, str | None] = {}
_CODE_DIRS = (os.path.dirname(__file__),)
_STDIN = "-"  # never an absolute path, as record() notes


def reset() -> None:
    """Forget the reads noted so far (a new load starts)."""
    _READS.clear()


def record(path: str, data: bytes | None) -> None:
    """Note that the load depends on ``path`` having this content (None: being absent)."""
    _READS[os.path.abspath(path)] = None if data is None else sha256(data).hexdigest()


def record_stdin() -> None:
    """Note that the load read standard input: nothing can check it later, so nothing is stored."""
    _READS[_STDIN] = None


def _digest_of(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return sha256(handle.read()).hexdigest()
    except OSError:
        return None


def _code_stamp() -> str:
    stamps = []
    for directory in _CODE_DIRS:
        for name in sorted(os.listdir(directory)):
            if name.endswith(".py"):
                stamps.append(f"{name}:{os.stat(os.path.join(directory, name)).st_mtime_ns}")
    schema = os.path.join(os.path.dirname(os.path.dirname(_CODE_DIRS[0])), "schemas", "compose-spec.json")
    stamps.append(str(os.stat(schema).st_mtime_ns) if os.path.exists(schema) else "-")
    return ",".join(stamps)


def key_for(argv: Iterable[str], environment: dict[str, str], cwd: str) -> str:
    """The cache key of one invocation."""
    text = json.dumps([list(argv), sorted(environment.items()), cwd, _code_stamp()])
    return sha256(text.encode()).hexdigest()


def _entry_path(key: str) -> str:
    from composer.settings import state_root_dir

    return os.path.join(state_root_dir(), "cache", "config", key[:40] + ".json")


def lookup(key: str) -> str | None:
    """The stored output for ``key`` if every file it depended on is unchanged, else None (those
    files are then noted as read, as the load that made the output read them)."""
    try:
        with open(_entry_path(key), encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    for path, digest in entry["reads"].items():
        if _digest_of(path) != digest:
            return None
    _READS.update(entry["reads"])
    return entry["output"]


def store(key: str, output: str) -> None:
    """Remember ``output`` with the files this process read (not after standard input); best effort."""
    if _STDIN in _READS:
        return
    path = _entry_path(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"reads": _READS, "output": output}, handle)
        os.replace(temporary, path)
    except OSError:
        pass
