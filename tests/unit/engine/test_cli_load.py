"""``composer.cli.compose.load``: the project a compose command acts on, loaded once."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from composer.cli import compose as C
from composer.cli.app import GlobalOptions


@pytest.fixture
def counted(state_root: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The profiles of every uncached model load."""
    from composer.spec import loader

    calls: list[tuple[str, ...]] = []
    real = loader.load_model

    def load_model(options):  # type: ignore[no-untyped-def]
        calls.append(tuple(options.profiles))
        return real(options)

    monkeypatch.setattr(loader, "load_model", load_model)
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    return calls


def _context(directory: Path, *services: str, profiles: tuple[str, ...] = ()) -> SimpleNamespace:
    options = GlobalOptions(files=[str(directory / "compose.yaml")], profiles=list(profiles))
    return SimpleNamespace(obj=options, params={"services": list(services)})


def _write(directory: Path, dotenv: str = "") -> None:
    directory.mkdir()
    (directory / "compose.yaml").write_text(textwrap.dedent("""
        services:
          web: {image: busybox}
          debug: {image: busybox, profiles: [debug]}
          tools: {image: busybox, profiles: [tools]}
        """))
    if dotenv:
        (directory / ".env").write_text(dotenv)


def test_naming_a_disabled_service_loads_the_model_once(tmp_path: Path, counted: list) -> None:
    _write(tmp_path / "demo")
    project = C.load(_context(tmp_path / "demo", "debug"))
    assert sorted(project.services) == ["debug", "web"]
    assert counted == [(), ("debug",)]  # the project's first load, then the one with the profile
    counted.clear()
    assert sorted(C.load(_context(tmp_path / "demo", "debug")).services) == ["debug", "web"]
    assert counted == []  # both from the cache now
    assert sorted(C.load(_context(tmp_path / "demo", "web")).services) == ["web"]
    assert counted == []


def test_the_active_profiles_stay_active(tmp_path: Path, counted: list) -> None:
    """Profiles from --profile or the .env's COMPOSE_PROFILES are kept beside the named service's."""
    _write(tmp_path / "a", dotenv="COMPOSE_PROFILES=tools\n")
    assert sorted(C.load(_context(tmp_path / "a", "debug")).services) == ["debug", "tools", "web"]
    _write(tmp_path / "b")
    assert sorted(C.load(_context(tmp_path / "b", "debug", profiles=("tools",))).services) == ["debug", "tools", "web"]
