"""A project directory fixture for the end-to-end compose tests (``project``): write a compose
file, run composer in it, and take the project down (volumes, orphans) whatever happens."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

PROJECTS = Path(__file__).parent / "projects"
LOOP = "trap 'exit 0' TERM; while :; do sleep 0.1; done"
WEB = """
services:
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
"""
"""The smallest project: one long-running ``web`` service."""


class Project:
    """A project directory and a way to run composer in it (``project("up", "-d")``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def name(self) -> str:
        return self.directory.name

    def write(self, text: str, name: str = "compose.yaml") -> None:
        (self.directory / name).write_text(textwrap.dedent(text).replace("{loop}", LOOP))

    def copy(self, example: str) -> None:
        """Use the files of ``projects/<example>``."""
        shutil.copytree(PROJECTS / example, self.directory, dirs_exist_ok=True)

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "composer", *args], cwd=self.directory, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)

    def __call__(self, *args: str, ok: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=self.directory,
                                capture_output=True, text=True, timeout=timeout)
        if ok:
            assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    def ps(self, *args: str) -> list[dict]:
        return [json.loads(line) for line in self("ps", "--format", "json", *args).stdout.splitlines()]


@pytest.fixture
def project(tmp_path: Path, state_root: Path, busybox_image) -> Iterator[Project]:
    directory = tmp_path / "proj"
    directory.mkdir()
    made = Project(directory)
    try:
        yield made
    finally:
        made("down", "-v", "-t", "1", "--remove-orphans", ok=False)
