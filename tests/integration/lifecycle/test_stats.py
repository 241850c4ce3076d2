"""``container stats`` and ``stats`` on real containers: docker's columns and units, CPU and memory
from the cgroup, NET I/O from the container's namespace, --format json and templates, errors."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.compose.conftest import project  # noqa: F401,F811 - the compose project fixture

pytestmark = pytest.mark.root

HEADER = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
BURN = ("x=$(head -c 8388608 /dev/zero | tr '\\0' a); "
        "ping -c 2 -W 1 $(ip route | awk '/default/ {print $3}') >/dev/null 2>&1 & "
        "while true; do :; done")


def _size(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([A-Za-z]+)", text).groups()
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
    return float(number) * scale[unit]


def test_a_busy_container_shows_cpu_memory_and_network(cli):
    cli("container", "run", "-d", "--name", "busy", "busybox", "sh", "-c", BURN, check=True)
    for _ in range(10):  # until the shell has filled its variable and loops (a loaded machine is slow)
        entry = json.loads(cli("container", "stats", "--no-stream", "--format", "json", "busy", check=True).stdout)
        if float(entry["CPUPerc"].rstrip("%")) > 1 and _size(entry["MemUsage"].split()[0]) > 4 * 2**20:
            break
    assert sorted(entry) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO",
                             "PIDs"]
    assert entry["Name"] == "busy" and entry["Container"] == "busy" and len(entry["ID"]) == 12
    assert float(entry["CPUPerc"].rstrip("%")) > 1
    usage, limit = entry["MemUsage"].split(" / ")
    assert 4 * 2**20 < _size(usage) < _size(limit) and float(entry["MemPerc"].rstrip("%")) > 0
    received, sent = entry["NetIO"].split(" / ")
    assert _size(sent) > 0, entry
    assert re.fullmatch(r"\d+(\.\d+)?[kMG]?B / \d+(\.\d+)?[kMG]?B", entry["BlockIO"])
    assert int(entry["PIDs"]) >= 1


def test_the_table_template_and_all(cli):
    cli("container", "run", "-d", "--name", "up", "busybox", "sleep", "60", check=True)
    cli("container", "create", "--name", "idle", "busybox", "true", check=True)
    table = cli("container", "stats", "--no-stream", check=True).stdout.splitlines()
    assert re.split(r"\s{2,}", table[0]) == HEADER
    assert len(table) == 2 and "up" in table[1].split()
    every = cli("container", "stats", "--no-stream", "-a", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}",
                check=True).stdout.splitlines()
    by_name = {line.split()[0]: line.split()[1:] for line in every}
    assert len(every) == 2 and by_name["idle"] == ["0.00%", "0"] and by_name["up"][1] == "1"
    long_id = cli("container", "stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}", "up").stdout.strip()
    assert len(long_id) == 64


def test_an_unknown_container_is_docker_s_error(cli):
    result = cli("container", "stats", "--no-stream", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error response from daemon: No such container: nope"


@pytest.mark.parametrize("flag", [["--restart", "bogus"], ["--log-driver", "syslog"]])
def test_run_with_a_bad_flag_value_exits_125(cli, flag):
    result = cli("container", "run", *flag, "busybox", "true")
    assert result.returncode == 125, result.stderr
    assert result.stderr.startswith("composer: ") and "Run 'composer container run --help'" in result.stderr


def test_compose_stats_shows_the_project_s_containers(project):
    project.write("""
    services:
      web: {image: busybox, command: ["sh", "-c", "{loop}"]}
      db: {image: busybox, command: ["sh", "-c", "{loop}"]}
    """)
    project("up", "-d")
    rows = [json.loads(line) for line in project("stats", "--no-stream", "--format", "json").stdout.splitlines()]
    assert [row["Name"] for row in rows] == ["proj-db-1", "proj-web-1"]
    assert all(row["MemUsage"].endswith("iB") and row["PIDs"] != "0" for row in rows)
    table = project("stats", "--no-stream", "web").stdout.splitlines()
    assert re.split(r"\s{2,}", table[0]) == HEADER and table[1].split()[1] == "proj-web-1" and len(table) == 2
    project("stop", "-t", "1", "db")
    assert project("stats", "--no-stream", "--format", "{{.Name}}").stdout == "proj-web-1\n"
    every = project("stats", "--no-stream", "-a", "--format", "{{.Name}} {{.MemUsage}}").stdout.splitlines()
    assert every[0] == "proj-db-1 0B / 0B" and every[1].startswith("proj-web-1 ")
    unknown = project("stats", "--no-stream", "nope")  # as Compose 2.40: an empty table, exit 0
    assert unknown.stdout.splitlines() and not unknown.stdout.splitlines()[1:]
