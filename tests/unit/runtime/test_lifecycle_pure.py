"""Pure logic of detached containers: json-file logs, healthcheck bookkeeping, ls formatting, flags."""

from __future__ import annotations

import json
import os

import pytest

from composer.cli.psformat import matches, render
from composer.engine.status import status_text
from composer.cli.run_flags import parse_duration, parse_exec_args
from composer.engine.runtime.describe import ContainerInfo, epoch
from composer.engine.runtime.health import HealthMonitor, probe_argv
from composer.engine.runtime.logs import LogWriter, log_files, parse_size, read_records, timestamp
from composer.errors import UsageError


def test_log_writer_lines_partial_and_escaping(tmp_path):
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path)
    writer.feed("stdout", b"a\nb")
    writer.feed("stderr", b'q"\\\x01\n')
    writer.feed("stdout", b"c\n")
    writer.close()
    records = [json.loads(line) for line in open(path)]
    assert [(r["stream"], r["log"]) for r in records] == [("stdout", "a\n"), ("stderr", 'q"\\\x01\n'),
                                                          ("stdout", "bc\n")]
    assert all(r["time"].endswith("Z") and len(r["time"]) == 30 for r in records)


def test_log_writer_splits_long_lines_and_rotates(tmp_path):
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, max_size=parse_size("1k"), max_file=3)
    writer.feed("stdout", b"x" * 40000 + b"\n")
    for number in range(100):
        writer.feed("stdout", f"{number}\n".encode())
    writer.close()
    assert len(log_files(path)) == 3
    texts = [line.text for line in read_records(path)]
    assert texts[-1] == "99\n" and [t for t in texts if t.startswith("x")] == []  # the long line rotated away


def test_partial_writer_flush_without_newline(tmp_path):
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path)
    writer.feed("stdout", b"y" * 20000)
    writer.close()
    assert [len(line.text) for line in read_records(path)] == [16384, 20000 - 16384]


def test_parse_size_and_duration():
    assert parse_size("10m") == 10 * 1024**2 and parse_size("") == -1 and parse_size("512") == 512
    assert parse_duration("1m30s", "--x") == 90 and parse_duration("200ms", "--x") == pytest.approx(0.2)
    with pytest.raises(UsageError):
        parse_duration("ten", "--health-interval")


def test_probe_argv_forms():
    assert probe_argv(["CMD", "true", "x"]) == ["true", "x"]
    assert probe_argv(["CMD-SHELL", "exit 1"]) == ["/bin/sh", "-c", "exit 1"]
    assert probe_argv(["NONE"]) is None and probe_argv([]) is None


def test_health_monitor_retries_and_start_period():
    spec = {"Test": ["CMD", "true"], "Interval": int(1e9), "Retries": 2, "StartPeriod": int(5e9),
            "StartInterval": int(0.5e9)}
    monitor = HealthMonitor(spec, started=100.0)
    assert monitor.due() == 100.5  # start interval inside the start period
    assert not monitor.record(101.0, 0, 1, "no") and monitor.streak == 0  # failure in start period
    assert monitor.record(102.0, 0, 0, "ok") and monitor.status == "healthy"
    assert monitor.due() == 103.0
    assert not monitor.record(110.0, 0, 1, "bad")
    assert monitor.record(111.0, 0, 1, "bad") and monitor.status == "unhealthy"
    assert monitor.state()["FailingStreak"] == 2 and len(monitor.state()["Log"]) == 4


def _info(**fields) -> ContainerInfo:
    base = dict(id="a" * 64, name="web", image="docker.io/library/busybox:latest", image_id="sha256:1",
                labels={"tier": "front"}, created=0.0, state="running", started_at=0.0, finished_at=0.0)
    base.update(fields)
    return ContainerInfo(**base)


def test_status_words():
    assert status_text(_info(started_at=90), now=100) == "Up 10 seconds"
    assert status_text(_info(health="healthy", started_at=0), now=100) == "Up About a minute (healthy)"
    assert status_text(_info(state="exited", exit_code=137, finished_at=0), now=7200) == "Exited (137) 2 hours ago"
    assert status_text(_info(state="created")) == "Created"


def test_filters_and_templates():
    info = _info()
    assert matches(info, ["label=tier=front", "name=we"]) and not matches(info, ["status=exited"])
    assert matches(info, ["status=exited", "status=running"])
    with pytest.raises(UsageError):
        matches(info, ["colour=red"])
    rows = [{"ID": "abc", "Names": "web", "Status": "Up"}]
    assert render(rows, "{{.ID}}: {{.Names}}") == ["abc: web"]
    assert render(rows, "table {{.ID}}\\t{{.Names}}") == ["CONTAINER ID   NAMES", "abc            web"]
    assert json.loads(render(rows, "{{json .}}")[0]) == rows[0]


def test_exec_args_and_epoch():
    options, container, command = parse_exec_args(["-it", "-u", "1000", "-e", "A=1", "web", "sh", "-c", "x"])
    assert options == {"interactive": True, "tty": True, "user": "1000", "env": ["A=1"]}
    assert (container, command) == ("web", ["sh", "-c", "x"])
    with pytest.raises(UsageError):
        parse_exec_args(["web"])
    assert epoch(timestamp(1700000000.25)) == pytest.approx(1700000000.25)


def test_restart_backoff_is_dockers():
    from composer.engine.runtime.restarts import RestartBackoff

    backoff = RestartBackoff()
    delays = [backoff.next(ran_for=0.01) for _ in range(12)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 60.0, 60.0]
    assert backoff.next(ran_for=9.9) == 60.0
    assert backoff.next(ran_for=10.0) == 0.1  # a life of 10 s starts the back-off again
    assert backoff.next(ran_for=0.5) == 0.2


def test_a_keeper_of_another_boot_is_not_alive():
    from composer.engine.runtime.state import supervisor_alive as _supervisor_alive
    from composer.engine.runtime.state import boot_id, process_start_time

    ours = {"SupervisorPid": os.getpid(), "SupervisorStart": process_start_time(os.getpid())}
    assert boot_id() and _supervisor_alive(ours) and _supervisor_alive({**ours, "SupervisorBoot": boot_id()})
    assert not _supervisor_alive({**ours, "SupervisorBoot": "0b5e7e1e-an-earlier-boot"})
    assert not _supervisor_alive({**ours, "SupervisorStart": "1"})
    assert _supervisor_alive({**ours, "SupervisorBoot": ""})  # a keeper that could not read its boot id


def test_concurrent_state_writes_lose_nothing(tmp_path):
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir("c" * 64, root=str(tmp_path))
    os.mkdir(cdir.path)
    writers = []
    for writer in range(4):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for n in range(25):
                    cdir.write_state(**{f"w{writer}-{n}": n})
                code = 0
            finally:
                os._exit(code)
        writers.append(pid)
    for pid in writers:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert len(cdir.read_state()) == 100  # every read-merge-write kept the others' fields


def test_tail_reads_backwards_across_blocks_and_rotated_files(tmp_path):
    from composer.engine.runtime import logreader

    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, max_size=700, max_file=3)
    for n in range(60):
        writer.feed("stderr" if n % 7 == 0 else "stdout", f"line {n} {'x' * (n % 13)}\n".encode())
    writer.close()
    everything = list(logreader.read_raw(path))
    assert 10 < len(everything) < 60  # the oldest lines rotated away
    backwards = list(logreader.lines_backwards(path, block=64))
    with open(path, "rb") as handle:
        assert backwards == [line for line in handle.read().split(b"\n") if line][::-1]
    for count in (1, 5, len(everything), len(everything) + 3):
        assert logreader.tail_raw(path, count, lambda record: True) == everything[-count:]
    errors = [record for record in everything if record[0] == "stderr"]
    assert logreader.tail_raw(path, 2, lambda record: record[0] == "stderr") == errors[-2:]


def _joined(pairs) -> list[list]:
    """(stream, bytes) pairs with consecutive ones of a stream joined."""
    joined: list[list] = []
    for stream, data in pairs:
        if joined and joined[-1][0] == stream:
            joined[-1][1] += data
        else:
            joined.append([stream, data])
    return joined


def test_bulk_logs_of_both_streams_match_the_records(tmp_path):
    from composer.engine.runtime import logreader

    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path)
    for stream, data in (("stdout", b"a\nb\n"), ("stderr", b"err 1\n"), ("stdout", b'c "quoted"\n' + b"d\n" * 5),
                         ("stderr", b"e\ne2\n"), ("stdout", b"plain\n" * 3), ("stdout", b"tail\npartial")):
        writer.feed(stream, data)
    writer.close()
    records = [(stream, text) for stream, _, text in logreader.read_raw(path)]
    assert _joined(logreader.bulk(path)) == _joined(records)
    assert b"".join(text for stream, text in records if stream == "stderr") == b"err 1\ne\ne2\n"


def test_run_d_path_imports_no_heavy_stdlib_module():
    import subprocess
    import sys

    heavy = ("socket", "json", "enum", "re", "selectors", "typing", "signal", "dataclasses", "pathlib", "trio", "typer")
    code = ("import sys, composer.cli.main, composer.cli.container_run, composer.engine.runtime.containers, "
            "composer.engine.runtime.supervisor, composer.engine.runtime.zygote, composer.engine.runtime.imagecache; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"  # each costs milliseconds of every run -d (C modules _signal, _socket, _json instead)


def test_probe_timeouts_read_as_go_durations():
    from composer.units import format_duration

    assert [format_duration(round(s * 10**9)) for s in (0.3, 5, 30, 60, 90, 3600, 5400.5)] == [
        "300ms", "5s", "30s", "1m0s", "1m30s", "1h0m0s", "1h30m0.5s"]


def test_signalling_a_state_file_pid_never_reaches_a_process_group():
    """``Pid: 0`` of a container that has just exited must not become ``os.kill(0, ...)``:
    that is the caller's whole process group (CI once lost its shell to it)."""
    import signal
    import subprocess

    from composer.engine.runtime.state import process_start_time, signal_process

    for pid in (0, -1, 1, os.getpid(), None, "12", True):
        assert not signal_process(pid, signal.SIGKILL)
    child = subprocess.Popen(["sleep", "30"])
    try:
        started = process_start_time(child.pid)
        assert not signal_process(child.pid, signal.SIGTERM, started + "1")  # a pid reused since
        assert child.poll() is None
        assert signal_process(child.pid, signal.SIGTERM, started)
        assert child.wait(5) == -signal.SIGTERM
        assert not signal_process(child.pid, signal.SIGTERM)  # gone (reaped)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
