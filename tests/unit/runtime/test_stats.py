"""The pure parts of ``engine/runtime/stats``: docker's units, CPU %, the entry's fields."""

from __future__ import annotations

import os

from composer.engine.runtime import stats
from composer.engine.runtime.stats import Sample, Target


def test_decimal_and_binary_sizes_as_docker_prints_them():
    assert [stats.human_size(n) for n in (0, 648, 1234, 999_999, 1_500_000, 2.5e9)] == \
        ["0B", "648B", "1.23kB", "1e+03kB", "1.5MB", "2.5GB"]  # Go %.3g: 1e+03 too
    assert [stats.bytes_size(n) for n in (0, 1023, 1536 * 1024, 23.4 * 2**30, 5 * 2**40)] == \
        ["0B", "1023B", "1.5MiB", "23.4GiB", "5TiB"]


def test_cpu_percent_is_the_share_of_host_time_times_the_cpus():
    before, after = Sample(cpu_ns=0, system_ns=0), Sample(cpu_ns=500, system_ns=2000)
    assert stats.cpu_percent(before, after, online_cpus=2) == 50.0
    assert stats.cpu_percent(after, after, online_cpus=2) == 0.0  # no span: docker's 0.00%
    assert stats.cpu_percent(before, Sample(cpu_ns=5, system_ns=0), online_cpus=2) == 0.0


def test_an_entry_has_docker_s_fields_and_formats():
    after = Sample(cpu_ns=10, system_ns=10, memory=1536 * 1024, memory_limit=2**30, pids=3, block_read=1200,
                   block_write=0, net_rx=648, net_tx=1_200)
    row = stats.entry("ab" * 32, "/web", Sample(), after, shown_as="web")
    assert sorted(row) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"]
    assert row["ID"] == "ab" * 6 and row["Name"] == "web" and row["Container"] == "web"
    assert row["MemUsage"] == "1.5MiB / 1GiB" and row["MemPerc"] == "0.15%" and row["PIDs"] == "3"
    assert row["NetIO"] == "648B / 1.2kB" and row["BlockIO"] == "1.2kB / 0B"
    assert row["CPUPerc"].endswith("%") and float(row["CPUPerc"][:-1]) > 0
    full = stats.entry("ab" * 32, "web", Sample(), Sample(), truncate=False)
    assert full["ID"] == "ab" * 32 and full["Container"] == "ab" * 6 and full["MemPerc"] == "0.00%"


def test_host_cpu_time_comes_from_the_cpu_line(tmp_path):
    path = tmp_path / "stat"
    path.write_text("cpu  100 0 50 850 0 0 0 7 0 0\ncpu0 1 1 1 1 1 1 1 0 0 0\n")
    assert stats.system_cpu_ns(str(path)) == 1000 * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def test_the_host_network_namespace_counts_nothing():
    assert stats.net_io(os.getpid()) == (0, 0)


def test_a_stopped_container_streams_zeros():
    frames = stats.stream(lambda: [Target("c" * 64, "idle")], interval=0)
    row = next(frames)[0]
    assert (row["Name"], row["CPUPerc"], row["MemUsage"], row["NetIO"], row["PIDs"]) == \
        ("idle", "0.00%", "0B / 0B", "0B / 0B", "0")


def test_v1_counters_split_block_io_and_report_the_inactive_cache(tmp_path):
    from composer.engine.runtime.cgroups.v1 import CgroupV1

    group = CgroupV1(str(tmp_path), "composer/x")
    files = {"blkio/blkio.bfq.io_service_bytes_recursive": "Total 0\n",  # BFQ loaded, not used: no device
             "blkio/blkio.throttle.io_service_bytes_recursive": "254:0 Read 4096\n254:0 Write 8192\n"
                                                                "254:0 Sync 0\n254:0 Total 12288\nTotal 12288\n",
             "memory/memory.usage_in_bytes": "3000\n", "memory/memory.stat": "cache 9\ntotal_inactive_file 1000\n"}
    for name, text in files.items():
        controller, _, file_name = name.partition("/")
        directory = tmp_path / controller / "composer" / "x"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / file_name).write_text(text)
    counters = group.stats()
    assert (counters["io_read"], counters["io_write"], counters["io"]) == (4096, 8192, 12288)
    assert (counters["memory"], counters["inactive_file"]) == (3000, 1000)


def test_a_paused_container_keeps_its_pid_an_exited_one_has_none():
    class Info:
        id, name, pid = "i" * 64, "web", 42
        state = "paused"

    assert stats.target_of(Info(), "w") == Target("i" * 64, "web", 42, "w")
    Info.state = "exited"
    assert stats.target_of(Info()).pid == 0
