"""``composer watch`` on the kernel: a host edit reaches the running container, a rebuild rule
rebuilds and recreates, ``sync+restart`` restarts (busybox images, a private state root)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; while :; do sleep 0.1; done"
COMPOSE = f"""
services:
  app:
    build: ./app
    image: watchdemo/app:dev
    user: "65534:65534"  # sync still writes as root, as docker cp
    command: ["sh", "-c", "{LOOP}"]
    develop:
      watch:
        - {{action: sync, path: ./app/src, target: /srv, ignore: ["*.tmp"]}}
        - {{action: rebuild, path: ./app/Dockerfile}}
  conf:
    image: busybox
    command: ["sh", "-c", "echo started >> /tmp/starts; {LOOP}"]
    develop:
      watch:
        - {{action: sync+restart, path: ./conf, target: /etc/demo}}
"""


def _composer(directory: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=directory, capture_output=True,
                            text=True, timeout=120)
    assert not ok or result.returncode == 0, f"{args}: {result.stderr}"
    return result


def _eventually(check: Callable[[], bool], seconds: float = 20) -> bool:
    """``check()`` turned true within ``seconds`` (generous: the machine is shared)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def watched(tmp_path: Path, state_root: Path, busybox_image) -> Iterator[tuple[Path, subprocess.Popen]]:
    """The project up with ``composer watch`` following it; watch stopped and project down after."""
    directory = tmp_path / "watchdemo"
    (directory / "app" / "src").mkdir(parents=True)
    (directory / "conf").mkdir()
    (directory / "compose.yaml").write_text(textwrap.dedent(COMPOSE))
    (directory / "app" / "Dockerfile").write_text("FROM busybox\nCOPY src/ /srv/\nLABEL version=1\n")
    (directory / "app" / "src" / "index.txt").write_text("v1\n")
    (directory / "conf" / "demo.conf").write_text("a=1\n")
    watcher = subprocess.Popen([sys.executable, "-m", "composer", "watch"], cwd=directory, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield directory, watcher
    finally:
        if watcher.poll() is None:
            os.kill(watcher.pid, signal.SIGINT)
            try:
                watcher.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(watcher.pid, signal.SIGKILL)
                watcher.wait()
        _composer(directory, "down", "-v", "-t", "1", "--rmi", "local", ok=False)


def _read_until(process: subprocess.Popen, text: str, lines: list[str]) -> None:
    """Read the watcher's output until a line containing ``text`` (it ends the test if the watcher dies)."""
    for line in process.stdout:
        lines.append(line)
        if text in line:
            return
    pytest.fail("watch ended before printing " + repr(text) + ":\n" + "".join(lines))


def _image_id(directory: Path, reference: str) -> str:
    """The id of a local image ("" when there is none)."""
    return _composer(directory, "image", "inspect", "--format", "{{.Id}}", reference, ok=False).stdout.strip()


def _cat(directory: Path, service: str, path: str) -> str:
    return _composer(directory, "exec", service, "cat", path, ok=False).stdout


def test_sync_rebuild_and_restart(watched) -> None:
    directory, watcher = watched
    lines: list[str] = []
    _read_until(watcher, "Watch enabled", lines)
    assert _cat(directory, "app", "/srv/index.txt") == "v1\n"  # from the image build

    (directory / "app" / "src" / "index.txt").write_text("v2\n")
    (directory / "app" / "src" / "new").mkdir()
    (directory / "app" / "src" / "new" / "page.txt").write_text("new page\n")
    (directory / "app" / "src" / "scratch.tmp").write_text("ignored\n")
    _read_until(watcher, 'Syncing service "app" after', lines)
    assert _eventually(lambda: _cat(directory, "app", "/srv/index.txt") == "v2\n")
    assert _eventually(lambda: _cat(directory, "app", "/srv/new/page.txt") == "new page\n")
    assert _composer(directory, "exec", "app", "test", "-e", "/srv/scratch.tmp", ok=False).returncode == 1

    (directory / "app" / "src" / "index.txt").unlink()
    _read_until(watcher, 'Syncing service "app" after', lines)
    assert _eventually(lambda: _composer(directory, "exec", "app", "test", "-e", "/srv/index.txt",
                                         ok=False).returncode == 1)

    (directory / "conf" / "demo.conf").write_text("a=2\n")
    _read_until(watcher, 'service(s) ["conf"] restarted', lines)
    assert _cat(directory, "conf", "/etc/demo/demo.conf") == "a=2\n"
    assert _eventually(lambda: _cat(directory, "conf", "/tmp/starts").count("started") == 2)  # restarted once

    before = _composer(directory, "ps", "-q", "app").stdout.strip()
    old_image = _image_id(directory, "watchdemo/app:dev")
    labels = json.loads(_composer(directory, "image", "inspect", "--format", "{{json .Config.Labels}}",
                                  old_image).stdout)  # Docker Compose's labels on a service's build
    assert {k: labels.get(k) for k in ("com.docker.compose.project", "com.docker.compose.service", "version")} \
        == {"com.docker.compose.project": "watchdemo", "com.docker.compose.service": "app", "version": "1"}
    (directory / "app" / "Dockerfile").write_text("FROM busybox\nCOPY src/ /srv/\nLABEL version=2\n")
    _read_until(watcher, 'service(s) ["app"] successfully built', lines)
    after = _composer(directory, "ps", "-q", "app").stdout.strip()
    assert after and after != before
    _read_until(watcher, "Removed dangling image", lines)  # watch --prune is the default, as docker's
    assert old_image[7:19] in lines[-1]
    assert _image_id(directory, old_image) == ""  # the replaced image is gone from the store
    assert _image_id(directory, "watchdemo/app:dev") not in ("", old_image)
    assert _cat(directory, "app", "/srv/new/page.txt") == "new page\n"  # the new image has the synced file
    assert watcher.poll() is None, "".join(lines)


def test_up_watch_syncs_while_attached(tmp_path: Path, state_root: Path, busybox_image) -> None:
    """``up --watch``: the logs attached, the watcher beside them; Ctrl-C stops both and the stack."""
    directory = tmp_path / "upwatch"
    (directory / "src").mkdir(parents=True)
    (directory / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          app:
            image: busybox
            command: ["sh", "-c", "echo app-started; trap 'echo app-stopping; exit 0' TERM; while :; do sleep 0.1; done"]
            develop:
              watch:
                - {{action: sync, path: ./src, target: /srv, initial_sync: true}}
        """))
    (directory / "src" / "first.txt").write_text("initial\n")
    up = subprocess.Popen([sys.executable, "-m", "composer", "up", "--watch"], cwd=directory, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    try:
        _read_until(up, "Watch enabled", lines)
        assert lines[-1] == "        ⦿ Watch enabled\n", lines  # Compose's prefix: as wide as "#watch" + 1, then ⦿
        _read_until(up, "Attaching to app-1", lines)  # after the watches are in place, as Compose
        assert _cat(directory, "app", "/srv/first.txt") == "initial\n"
        (directory / "src" / "second.txt").write_text("edited\n")
        _read_until(up, '⦿ Syncing service "app" after 1 changes were detected', lines)
        assert _eventually(lambda: _cat(directory, "app", "/srv/second.txt") == "edited\n")
        os.kill(up.pid, signal.SIGINT)
        assert up.wait(timeout=30) == 130
        rest = up.stdout.read()  # as Compose 2.40: its line, then nothing of the stopping containers
        assert "Gracefully Stopping... press Ctrl+C again to force\n" in rest, rest
        assert "app-stopping" not in rest and "exited with code" not in rest, rest
        assert not _composer(directory, "ps", "-q").stdout.strip()  # attached up stopped the stack
    finally:
        if up.poll() is None:
            os.kill(up.pid, signal.SIGKILL)
            up.wait()
        _composer(directory, "down", "-t", "1", ok=False)
