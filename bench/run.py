"""Run the benchmarks: every bench/bench_*.py, or the ones named (``config`` or ``bench_config``).

Each benchmark is a standalone script printing its own table and writing bench/results/<topic>.json;
this runner runs them one after another with the venv's Python, reports which failed, and then
writes bench/results/report.md and report.png from all results (bench/report.py).
Usage: /work/main/.venv/bin/python bench/run.py [NAME ...] [-- ARGS passed to each script]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PYTHON = BENCH.parent / ".venv" / "bin" / "python"


def select(names: list[str]) -> list[Path]:
    """The benchmark scripts named (all when none), in a stable order."""
    available = {path.stem.removeprefix("bench_"): path for path in sorted(BENCH.glob("bench_*.py"))}
    if not names:
        return list(available.values())
    unknown = [name for name in names if name.removeprefix("bench_") not in available]
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; available: {sorted(available)}")
    return [available[name.removeprefix("bench_")] for name in names]


def main(argv: list[str]) -> int:
    split = argv.index("--") if "--" in argv else len(argv)
    names, passthrough = argv[:split], argv[split + 1:]
    python = str(PYTHON) if PYTHON.exists() else sys.executable
    failed = []
    for script in select(names):
        print(f"== {script.stem} ==", flush=True)
        if subprocess.run([python, str(script), *passthrough], cwd=BENCH.parent).returncode:
            failed.append(script.stem)
        print(flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    report = subprocess.run([python, str(BENCH / "report.py")], cwd=BENCH.parent).returncode
    return 1 if failed or report else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
