"""The benchmarks' report: bench/results/*.json -> bench/results/report.md and report.png.

For every case of every topic: each tool's median, and composer's ratio to each peer (< 1: composer
is faster or smaller). The plot shows all ratios at a glance: one bar per case and peer, log scale,
the line at 1 being parity. Two result shapes are read: ``harness.save``'s (``cases -> tool ->
{median_s, failure}``) and plain numbers (``cases -> tool -> value``; ``*_kib`` cases are memory,
``tool/peer`` keys are skipped: ratios are recomputed here).

Usage: /work/main/.venv/bin/python bench/report.py [RESULTS_DIR]   (matplotlib: pip install -e '.[bench]')
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "composer"
FLOORS = ("floor", "direct")  # reference points, not peers: shown, never compared against
TARGET = 1 / 3  # the goal (issue 10): at least 3x faster than Docker Compose v2; a dashed line on the plot


@dataclass
class Topic:
    """One results file: its cases' medians by tool (None: failed), failures, notes."""

    name: str
    time: str
    loadavg: str
    cases: dict[str, dict[str, float | None]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    phases: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # tool -> command -> phase -> s
    probes: dict[str, dict[str, float]] = field(default_factory=dict)  # tool -> service -> s per healthcheck probe

    @property
    def tools(self) -> list[str]:
        return list(dict.fromkeys(tool for per_case in self.cases.values() for tool in per_case))

    @property
    def peers(self) -> list[str]:
        return [tool for tool in self.tools if tool != OURS and tool not in FLOORS]


def load(path: Path) -> Topic | None:
    """A results file as a Topic (None when it has no cases)."""
    data = json.loads(path.read_text())
    if not isinstance(data.get("cases"), dict) or not data["cases"]:
        return None
    meta = data.get("meta") or {}
    load_average = meta.get("loadavg") or meta.get("load_average")  # harness's, or a bench's own
    if isinstance(load_average, (int, float)):
        load_average = [load_average]
    topic = Topic(name=data.get("topic") or path.stem, time=str(data.get("time", "")),
                  loadavg=", ".join(f"{x:.1f}" for x in load_average) if load_average else "",
                  phases=meta.get("phases") or {}, probes=meta.get("probes") or {})
    for case, per_tool in data["cases"].items():
        row = topic.cases.setdefault(case, {})
        for tool, value in per_tool.items():
            if "/" in tool:
                continue
            if isinstance(value, dict):
                row[tool] = value.get("median_s")
                if value.get("failure"):
                    topic.failures.append(f"{case} / {tool}: {value['failure']}")
            elif isinstance(value, (int, float)):
                row[tool] = float(value)
    return topic


def ratio(row: dict[str, float | None], peer: str) -> float | None:
    mine, theirs = row.get(OURS), row.get(peer)
    return mine / theirs if mine and theirs else None


def fmt(case: str, value: float | None) -> str:
    if value is None:
        return "FAIL"
    return f"{value:.0f} KiB" if case.endswith("_kib") else f"{value * 1000:.1f} ms"


def markdown(topics: list[Topic], plot: str | None) -> str:
    """The report: a summary line per topic, then one table per topic."""
    lines = ["# Benchmarks: composer against its peers", "",
             "Medians of alternating runs on this machine (2 cores, shared: see each topic's load average). "
             "Ratio = composer / peer: below 1 composer is faster (or smaller).", ""]
    if plot:
        lines += [f"![composer / peer ratios]({plot})", ""]
    for topic in topics:
        lines += [f"## {topic.name}", "", f"Measured {topic.time or 'at an unknown time'}"
                  + (f", load average {topic.loadavg}" if topic.loadavg else "") + ".", ""]
        tools, peers = topic.tools, topic.peers
        lines.append("| case | " + " | ".join(tools) + "".join(f" | {OURS}/{p}" for p in peers) + " |")
        lines.append("|---" * (1 + len(tools) + len(peers)) + "|")
        for case, row in topic.cases.items():
            ratios = [ratio(row, peer) for peer in peers]
            lines.append(f"| {case} | " + " | ".join(fmt(case, row.get(t)) if t in row else "-" for t in tools)
                         + "".join(f" | {r:.2f}" if r is not None else " | -" for r in ratios) + " |")
        lines += [""] + [f"- failed: {failure}" for failure in topic.failures] + ([""] if topic.failures else [])
        lines += phase_lines(topic.phases) + probe_lines(topic.probes)
    return "\n".join(lines) + "\n"


def phase_lines(phases: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Where the seconds go (a benchmark's ``meta.phases``): per command, each phase's median
    seconds from the command's start, by tool."""
    tools = list(phases)
    lines = []
    for command in dict.fromkeys(c for per_tool in phases.values() for c in per_tool):
        names = list(dict.fromkeys(n for t in tools for n in phases[t].get(command, {})))
        lines += [f"Phases of `{command}` (median seconds from its start):", "",
                  "| phase | " + " | ".join(tools) + " |", "|---" * (1 + len(tools)) + "|"]
        lines += [f"| {name} | " + " | ".join(f"{phases[t][command][name]:.2f}" if name in phases[t].get(command, {})
                                              else "-" for t in tools) + " |" for name in names]
        lines.append("")
    return lines


def probe_lines(probes: dict[str, dict[str, float]]) -> list[str]:
    """A benchmark's ``meta.probes``: each service's median healthcheck probe (ms), by tool."""
    tools = list(probes)
    services = list(dict.fromkeys(service for per_tool in probes.values() for service in per_tool))
    if not services:
        return []
    lines = ["Healthcheck probes (median ms, from the test's start to its exit):", "",
             "| service | " + " | ".join(tools) + " |", "|---" * (1 + len(tools)) + "|"]
    lines += [f"| {service} | " + " | ".join(f"{probes[t][service] * 1000:.1f}" if service in probes[t] else "-"
                                            for t in tools) + " |" for service in services]
    return lines + [""]


def plot(topics: list[Topic], target: Path) -> bool:
    """A horizontal bar chart of every composer/peer ratio (log scale); False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [(f"{topic.name}: {case}", peer, value) for topic in topics for case, row in topic.cases.items()
            for peer in topic.peers if (value := ratio(row, peer)) is not None]
    if not bars:
        return False
    peers = list(dict.fromkeys(peer for _, peer, _ in bars))
    palette = plt.get_cmap("tab10" if len(peers) <= 10 else "tab20")  # one colour per peer
    colours = {peer: palette(index % palette.N) for index, peer in enumerate(peers)}
    figure, axes = plt.subplots(figsize=(12, 0.28 * len(bars) + 1.5))
    positions = range(len(bars))
    axes.barh(list(positions), [value for _, _, value in bars], color=[colours[peer] for _, peer, _ in bars])
    labels = [f"{label[:60]}{'...' if len(label) > 60 else ''} (vs {peer})" for label, peer, _ in bars]
    axes.set_yticks(list(positions), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1)
    goal = axes.axvline(TARGET, color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("composer / peer (log scale; < 1: composer faster or smaller)")
    axes.legend(handles=[*(plt.Rectangle((0, 0), 1, 1, color=colours[p]) for p in peers), goal],
                labels=[*peers, "target: 3x faster"], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)
    return True


def main(argv: list[str]) -> int:
    results = Path(argv[0]) if argv else RESULTS
    topics = [topic for path in sorted(results.glob("*.json")) if (topic := load(path)) is not None]
    if not topics:
        print(f"report.py: no results in {results} (bench/results/ is not kept in git: run `make bench` first, "
              "or one benchmark: make bench BENCH=stack)", file=sys.stderr)
        return 1
    image = results / "report.png"
    drawn = plot(topics, image)
    (results / "report.md").write_text(markdown(topics, image.name if drawn else None))
    print(f"wrote {results / 'report.md'}" + (f" and {image}" if drawn else " (no plot: matplotlib missing)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
