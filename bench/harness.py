"""Shared timing for the bench_*.py scripts: alternate tools, several runs, medians, ratios.

Every case runs each tool once per round, in turn, so noise (other processes, CPU frequency)
hits all tools alike; the table reports medians and the ratio composer/peer (< 1: we are faster).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = REPO / ".venv" / "bin"


@dataclass
class Case:
    """One benchmark case: a command line per tool, run in ``cwd``."""

    name: str
    commands: dict[str, list[str]]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None  # untimed, before every run (e.g. drop a cache)


@dataclass
class Outcome:
    """Wall-clock seconds of each successful run, and the first failure if any."""

    seconds: list[float] = field(default_factory=list)
    failure: str | None = None
    cpu_seconds: list[float] = field(default_factory=list)  # user+sys of the process and its children

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds and not self.failure else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and not self.failure else None


def time_once(case: Case, argv: list[str]) -> tuple[float, str | None]:
    """Seconds taken by one run of ``argv``, and an error text if it failed."""
    elapsed, _cpu, error = time_and_cpu_once(case, argv)
    return elapsed, error


def time_and_cpu_once(case: Case, argv: list[str]) -> tuple[float, float, str | None]:
    """Wall seconds, CPU seconds (user+sys, children included) of one run, and an error text."""
    env = {**os.environ, **case.env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=case.cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    error = None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[:160]}"
    return elapsed, cpu, error


def measure(cases: list[Case], rounds: int = 10, warmup: int = 1) -> dict[str, dict[str, Outcome]]:
    """Run every case's tools alternately for ``rounds`` (after ``warmup`` untimed rounds)."""
    outcomes = {case.name: {tool: Outcome() for tool in case.commands} for case in cases}
    for round_index in range(warmup + rounds):
        for case in cases:
            for tool, argv in case.commands.items():
                if case.prepare:
                    case.prepare()
                elapsed, cpu, error = time_and_cpu_once(case, argv)
                outcome = outcomes[case.name][tool]
                if error and outcome.failure is None:
                    outcome.failure = error
                if round_index >= warmup:
                    outcome.seconds.append(elapsed)
                    outcome.cpu_seconds.append(cpu)
    return outcomes


def cpu_view(outcomes: dict[str, dict[str, Outcome]]) -> dict[str, dict[str, Outcome]]:
    """The same outcomes with CPU seconds in place of wall seconds (for a second :func:`table`)."""
    return {name: {tool: Outcome(seconds=o.cpu_seconds, failure=o.failure) for tool, o in per_case.items()}
            for name, per_case in outcomes.items()}


def table(outcomes: dict[str, dict[str, Outcome]], ours: str = "composer") -> str:
    """A plain-text table: case, medians in ms per tool, ratios ours/peer."""
    tools = list(dict.fromkeys(tool for per_case in outcomes.values() for tool in per_case))
    peers = [tool for tool in tools if tool != ours]
    header = ["case", *[f"{tool} ms" for tool in tools], *[f"{ours}/{peer}" for peer in peers]]
    rows = [header]
    for name, per_case in outcomes.items():
        mine = per_case.get(ours)
        row = [name] + [_ms(per_case.get(tool)) for tool in tools]
        for peer in peers:
            theirs = per_case.get(peer)
            ratio = (mine.median / theirs.median if mine and theirs and mine.median
                     and theirs.median else None)
            row.append(f"{ratio:.2f}" if ratio is not None else "-")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                       for i, (cell, width) in enumerate(zip(row, widths))) for row in rows]
    failures = [f"  {name} / {tool}: {outcome.failure}" for name, per_case in outcomes.items()
                for tool, outcome in per_case.items() if outcome.failure]
    return "\n".join(lines + (["failures:", *failures] if failures else []))


def _ms(outcome: Outcome | None) -> str:
    if outcome is None:
        return "-"
    return "FAIL" if outcome.median is None else f"{outcome.median * 1000:.1f}"


def save(topic: str, outcomes: dict[str, dict[str, Outcome]], meta: dict | None = None) -> Path:
    """Write ``bench/results/<topic>.json`` (medians, all samples, failures)."""
    RESULTS.mkdir(exist_ok=True)
    data = {"topic": topic, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "meta": meta or {},
            "cases": {name: {tool: {"median_s": o.median, "samples_s": o.seconds,
                                    "cpu_median_s": o.cpu_median, "cpu_samples_s": o.cpu_seconds,
                                    "failure": o.failure} for tool, o in per_case.items()}
                      for name, per_case in outcomes.items()}}
    path = RESULTS / f"{topic}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def report(topic: str, outcomes: dict[str, dict[str, Outcome]], rounds: int, notes: list[str],
           **meta: object) -> None:
    """Print the table and the notes, then save the results with the rounds, the notes, ``meta``
    and the load average."""
    print(table(outcomes))
    for note in notes:
        print("note:", note)
    print("saved", save(topic, outcomes, {"rounds": rounds, **meta, "notes": notes, "loadavg": os.getloadavg()}))
