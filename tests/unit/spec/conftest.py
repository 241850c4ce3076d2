"""Helpers for the spec tests: run the CLI in-process (no interpreter start-up per call)."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(state_root: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``composer ARGS`` in this process, in ``cwd``, with extra environment variables."""
    from composer.cli.main import main

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None, only_env: bool = False,
            stdin: str = "") -> Result:
        """``only_env``: the process environment is ``env`` alone (plus COMPOSER_ROOT)."""
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as patch:
            patch.chdir(cwd)
            patch.setattr(sys, "stdin", io.StringIO(stdin))
            if only_env:
                for key in set(os.environ) - set(env or {}) - {"COMPOSER_ROOT"}:
                    patch.delenv(key)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            for key in ("COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"):
                if key not in (env or {}):
                    patch.delenv(key, raising=False)
            code = 0
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    main(list(args))
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else 1
        return Result(code, out.getvalue(), err.getvalue())

    assert os.environ.get("COMPOSER_ROOT") == str(state_root)
    return run
