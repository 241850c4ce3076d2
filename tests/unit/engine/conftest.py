"""Helpers for the engine's unit tests: projects from YAML text, a FakeRuntime, a service."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

from composer.engine.api import ProjectService
from composer.engine.events import Event
from composer.engine.runtime.fake import FakeRuntime
from composer.spec.loader import ProjectOptions, load_project
from composer.spec.model import Project


@pytest.fixture
def load(tmp_path: Path) -> Callable[[str], Project]:
    """Write ``compose.yaml`` (dedented) into a project directory named ``demo`` and load it."""
    directory = tmp_path / "demo"
    directory.mkdir()

    def loader(text: str) -> Project:
        (directory / "compose.yaml").write_text(textwrap.dedent(text))
        return load_project(ProjectOptions(working_dir=str(directory), environment={}))

    return loader


@pytest.fixture
def fake() -> FakeRuntime:
    return FakeRuntime(images={"busybox": "sha256:" + "b" * 64, "nginx": "sha256:" + "e" * 64})


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def service(fake: FakeRuntime, events: list[Event], state_root: Path) -> ProjectService:
    return ProjectService(fake, emit=events.append, lock_timeout=5)


def lines(events: list[Event], kind: str = "Container") -> list[str]:
    """The events of one kind as text without durations (for order assertions)."""
    return [f"{e.name} {e.status.value}" for e in events if e.kind == kind]
