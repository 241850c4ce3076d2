"""Run a warm `image pull` in a fresh interpreter and report which heavy modules it imported."""

from __future__ import annotations

import os
import subprocess
import sys


def warm_pull_modules(name: str, env: dict[str, str] | None = None) -> str:
    """``httpx: False, typer: False, typing: False`` when the warm fast path needed none of them."""
    code = ("import sys; from composer.cli.main import run_fast_path; "
            f"code = run_fast_path(['image', 'pull', '-q', {name!r}]); "
            "print(', '.join(f'{m}: {m in sys.modules}' for m in ('httpx', 'typer', 'typing')), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **(env or {})},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == name, result.stderr
    return result.stderr.strip()
