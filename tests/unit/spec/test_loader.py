"""Loading: discovery, project names, env files, the public API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec.loader import ProjectOptions, find_files, load_model, load_project, \
    load_project_from_options, normalize_project_name


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def test_discovery_walks_up_and_applies_override(tmp_path: Path) -> None:
    _write(tmp_path, {"compose.yml": "services:\n  a:\n    image: x\n",
                      "compose.override.yml": "services:\n  a:\n    image: y\n"})
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    assert [p.name for p in find_files(nested)] == ["compose.yml", "compose.override.yml"]
    project = load_project(ProjectOptions(working_dir=str(nested), environment={}))
    assert project.services["a"].image == "y"
    assert project.working_dir == str(tmp_path)


def test_no_file_is_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no configuration file provided"):
        load_model(ProjectOptions(working_dir=str(tmp_path), environment={}))


@pytest.mark.parametrize(("options", "env", "expected"), [
    ({"project_name": "given"}, {}, "given"),
    ({}, {"COMPOSE_PROJECT_NAME": "fromenv"}, "fromenv"),
    ({}, {}, "fromfile"),
])
def test_project_name_precedence(tmp_path: Path, options: dict, env: dict, expected: str) -> None:
    _write(tmp_path, {"compose.yaml": "name: FromFile\nservices:\n  a:\n    image: x\n"})
    model = load_model(ProjectOptions(working_dir=str(tmp_path), environment=env, **options))
    assert model.name == expected


def test_directory_name_is_normalized() -> None:
    assert normalize_project_name("_My Project.v2") == "myprojectv2"


def test_compose_file_variable_and_env_files(tmp_path: Path) -> None:
    _write(tmp_path, {"one.yaml": "services:\n  a:\n    image: ${IMG}\n", "two.yaml": "services:\n  b:\n    image: y\n",
                      "vars.env": "IMG=fromfile\n", ".env": "IMG=default\n"})
    env = {"COMPOSE_FILE": "one.yaml:two.yaml"}
    model = load_model(ProjectOptions(working_dir=str(tmp_path), environment=env, env_files=("vars.env",)))
    assert sorted(model.model["services"]) == ["a", "b"]
    assert model.model["services"]["a"]["image"] == "fromfile"
    default = load_model(ProjectOptions(working_dir=str(tmp_path), environment=env))
    assert default.model["services"]["a"]["image"] == "default"
    process_wins = load_model(ProjectOptions(working_dir=str(tmp_path), environment={**env, "IMG": "proc"}))
    assert process_wins.model["services"]["a"]["image"] == "proc"


def test_stdin_and_profiles(tmp_path: Path) -> None:
    text = "services:\n  a:\n    image: x\n  dbg:\n    image: d\n    profiles: [debug]\n"
    plain = load_project(ProjectOptions(files=("-",), stdin=text, working_dir=str(tmp_path), environment={}))
    assert list(plain.services) == ["a"] and list(plain.disabled_services) == ["dbg"]
    debug = load_project(ProjectOptions(files=("-",), stdin=text, working_dir=str(tmp_path), environment={},
                                        profiles=("debug",)))
    assert sorted(debug.services) == ["a", "dbg"]


def test_load_project_from_global_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    _write(tmp_path, {"c.yaml": "services:\n  a:\n    image: x\n    ports: ['8080:80']\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPOSE_PROFILES", "")
    options = SimpleNamespace(files=["c.yaml"], project_name="demo", project_directory=None, profiles=[],
                              env_files=[])
    project = load_project_from_options(options)
    assert project.name == "demo"
    assert project.services["a"].ports[0]["published"] == "8080"
    assert project.services["a"].networks == {"default": None}
    assert project.networks["default"]["name"] == "demo_default"


def test_a_named_disabled_service_enables_its_profiles(tmp_path: Path) -> None:
    """As compose-go's WithServicesEnabled: ``up -d b`` activates b's profiles (so also c's)."""
    (tmp_path / "compose.yaml").write_text("services:\n  a: {image: x}\n  b: {image: x, profiles: [p]}\n"
                                           "  c: {image: x, profiles: [p]}\n  d: {image: x, profiles: [q]}\n")
    options = ProjectOptions(working_dir=str(tmp_path), environment={})
    assert sorted(load_project(options).services) == ["a"]
    assert sorted(load_project(replace(options, targets=("b", "a"))).services) == ["a", "b", "c"]
