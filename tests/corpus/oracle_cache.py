"""An on-disk cache of the reference binary's results, so the differential tests re-run only ours.

A result is stored under a key that covers everything the reference can see: the binary itself
(its SHA-256), the arguments, the whole environment, stdin, the working directory relative to the
project's top directory, that directory's parent, its name (unless ``-p`` names the project), and the
relative path and SHA-256 of every file below it. Outputs are stored with the project's path replaced
by a placeholder, so a project copied to a new temporary directory of the same parent still hits.
A changed file, binary, argument or variable changes the key: a stale entry cannot be served.

Location: $COMPOSER_TEST_FIXTURES_CACHE or /var/cache/composer-test-fixtures (unwritable: no cache).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Callable, Protocol

PLACEHOLDER = "\x00PROJECT\x00"


class _Result(Protocol):
    returncode: int
    stdout: str
    stderr: str


def cache_dir() -> Path:
    base = os.environ.get("COMPOSER_TEST_FIXTURES_CACHE", "/var/cache/composer-test-fixtures")
    return Path(base) / "compose-config"


@lru_cache(maxsize=None)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file (memoized per size and mtime within this process only)."""
    return sha256(Path(path).read_bytes()).hexdigest()


def _digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(str(path), stat.st_size, stat.st_mtime_ns)


def _tree(root: Path) -> list[tuple[str, str]]:
    """(relative path, digest) of every file below ``root``, and of symlinks by their target."""
    entries = []
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            entries.append((relative, "symlink:" + os.readlink(path)))
        elif path.is_file():
            entries.append((relative, _digest(path)))
        elif path.is_dir():
            entries.append((relative + "/", "dir"))
    return entries


def key(binary: Path, root: Path, cwd: Path, args: list[str], env: dict[str, str],
        stdin: str | None) -> str:
    """The cache key of one reference run (see the module's docstring)."""
    root = root.resolve()
    names_project = any(a in ("-p", "--project-name") or a.startswith("--project-name=") for a in args)
    material = [_digest(binary), args, sorted(env.items()), stdin, os.path.relpath(cwd.resolve(), root),
                str(root.parent), None if names_project else root.name, _tree(root)]
    return sha256(json.dumps(material).encode()).hexdigest()


def cached_run(binary: Path, root: Path, cwd: Path, args: list[str], env: dict[str, str],
               stdin: str | None, execute: Callable[[], _Result]) -> _Result:
    """The reference's result for these inputs: from the cache, or by ``execute`` (then stored)."""
    from tests.corpus.harness import Result

    entry = cache_dir() / (key(binary, root, cwd, args, env, stdin) + ".json")
    project = str(root.resolve())
    try:
        data = json.loads(entry.read_text())
        return Result(data["returncode"], data["stdout"].replace(PLACEHOLDER, project),
                      data["stderr"].replace(PLACEHOLDER, project))
    except (OSError, ValueError, KeyError):
        pass
    result = execute()
    if result.returncode >= 0:  # never remember a timeout
        _store(entry, {"returncode": result.returncode, "stdout": result.stdout.replace(project, PLACEHOLDER),
                       "stderr": result.stderr.replace(project, PLACEHOLDER)})
    return result


def _store(entry: Path, data: dict) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=entry.parent, delete=False, suffix=".tmp") as handle:
            json.dump(data, handle)
        os.replace(handle.name, entry)
    except OSError:
        pass
