"""On a terminal, ``up`` asks Compose's question about a changed volume and reads the answer."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.root]

COMPOSE = """
services:
  app: {image: busybox, command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"], volumes: [data:/data]}
volumes:
  data: {labels: {foo: LABEL}}
"""


def _read_until(fd: int, text: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, seen
        if select.select([fd], [], [], 0.5)[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_a_terminal_is_asked_and_yes_recreates_the_volume(project):
    project.write(COMPOSE.replace("LABEL", "one"))
    project("up", "-d")
    project.write(COMPOSE.replace("LABEL", "two"))
    main, secondary = pty.openpty()
    process = None
    try:
        process = subprocess.Popen([sys.executable, "-m", "composer", "--progress", "plain", "up", "-d"],
                                   cwd=project.directory, stdin=secondary, stdout=secondary,
                                   stderr=subprocess.PIPE, text=True)
        os.close(secondary)
        secondary = -1
        shown = _read_until(main, b"(y/N) ")
        assert b'? Volume "proj_data" exists but doesn\'t match configuration in compose file. ' \
               b'Recreate (data will be lost)? (y/N) ' in shown
        os.write(main, b"y\n")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    finally:
        os.close(main)
        if secondary >= 0:
            os.close(secondary)
        if process is not None and process.poll() is None:  # the question never came: no composer left behind
            process.kill()
            process.communicate()
    labels = json.loads(project("volume", "inspect", "proj_data").stdout)[0]["Labels"]
    assert labels["foo"] == "two"
