"""The validated project cache of the compose commands (``composer.cli.project.cached_project``):
a repeated command binds the stored model; any change to what the load read loads again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from composer.cli import project as project_cli
from composer.spec import cache


def _globals(**changes: object) -> SimpleNamespace:
    options = dict(files=[], project_name=None, project_directory=None, profiles=[], env_files=[])
    return SimpleNamespace(**{**options, **changes})


@pytest.fixture
def demo(tmp_path: Path, state_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "compose.yaml").write_text("services:\n  web:\n    image: busybox:${TAG:-1}\n")
    monkeypatch.chdir(directory)
    monkeypatch.delenv("TAG", raising=False)
    return directory


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real loads (the cache's misses)."""
    counted: list[int] = []
    real = project_cli._load

    def load(global_options, **overrides):
        counted.append(1)
        return real(global_options, **overrides)

    monkeypatch.setattr(project_cli, "_load", load)
    return counted


def test_a_repeated_load_binds_the_same_project_from_the_cache(demo, loads):
    first = project_cli.cached_project(_globals())
    second = project_cli.cached_project(_globals())
    assert len(loads) == 1
    assert second == first and second.config_hashes == first.config_hashes


def test_a_changed_file_env_file_or_option_loads_again(demo, loads, monkeypatch):
    assert project_cli.cached_project(_globals()).services["web"].image == "busybox:1"
    (demo / ".env").write_text("TAG=2\n")
    assert project_cli.cached_project(_globals()).services["web"].image == "busybox:2"
    (demo / "compose.yaml").write_text("services:\n  api:\n    image: busybox\n")
    assert list(project_cli.cached_project(_globals()).services) == ["api"]
    assert project_cli.cached_project(_globals(project_name="other")).name == "other"
    monkeypatch.setenv("TAG", "3")
    (demo / "compose.yaml").write_text("services:\n  web:\n    image: busybox:${TAG:-1}\n")
    assert project_cli.cached_project(_globals()).services["web"].image == "busybox:3"
    assert len(loads) == 5


def test_a_hit_notes_the_files_the_load_read(demo):
    """What is stored after a hit (the settled record of up -d) still depends on the compose file."""
    project_cli.cached_project(_globals())
    cache.reset()
    project_cli.cached_project(_globals())
    assert str(demo / "compose.yaml") in cache._READS


def test_a_hit_imports_no_yaml(demo, state_root):
    code = ("import sys; from types import SimpleNamespace; from composer.cli.project import cached_project;"
            "cached_project(SimpleNamespace(files=[], project_name=None, project_directory=None, profiles=[],"
            " env_files=[])); print('yaml' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=demo)
            for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"]


def test_standard_input_is_never_cached(demo, loads, monkeypatch):
    """COMPOSE_FILE can name ``-`` behind its own separator: the load itself notes standard input,
    so a later command with other input is not answered from the first one's model."""
    import io

    monkeypatch.setenv("COMPOSE_PATH_SEPARATOR", ",")
    monkeypatch.setenv("COMPOSE_FILE", "compose.yaml,-")
    monkeypatch.setattr(sys, "stdin", io.StringIO("services:\n  one:\n    image: busybox\n"))
    assert set(project_cli.cached_project(_globals()).services) == {"web", "one"}
    monkeypatch.setattr(sys, "stdin", io.StringIO("services:\n  two:\n    image: busybox\n"))
    assert set(project_cli.cached_project(_globals()).services) == {"web", "two"}
    assert len(loads) == 2
