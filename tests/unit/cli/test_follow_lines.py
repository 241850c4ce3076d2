"""Attached ``up`` and ``logs -f`` print every line of a container: lines the supervisor read in
one chunk share their timestamp (``echo a; echo b; echo c``), and only a later stream of the same
container skips what an earlier one printed."""

from __future__ import annotations

from types import SimpleNamespace

from composer.cli.compose_follow import ProjectFollower


class Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, name: str, line) -> None:
        self.lines.append(f"{name} {line.text}")


def test_lines_sharing_a_time_are_all_printed_once():
    stamp, later = "2026-11-24T05:51:49.786931276Z", "2026-11-24T05:51:50.000000000Z"
    streams = [[SimpleNamespace(time=stamp, text=t) for t in "abc"],
               [*(SimpleNamespace(time=stamp, text=t) for t in "abc"), SimpleNamespace(time=later, text="d")]]
    printer = Printer()
    follower = ProjectFollower(printer, {})
    follower.read_logs = lambda container_id, follow, **options: iter(streams.pop(0))
    follower._run("c1", "web-1", {})
    assert printer.lines == ["web-1 a", "web-1 b", "web-1 c"]
    follower._run("c1", "web-1", {})  # a second stream (a restart): only what is new
    assert printer.lines == ["web-1 a", "web-1 b", "web-1 c", "web-1 d"]
