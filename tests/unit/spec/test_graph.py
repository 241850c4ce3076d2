"""The networkx dependency graph and the typed model."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.engine.graph import build_graph, start_order, stop_order
from composer.errors import SemanticError
from composer.spec.loader import ProjectOptions, load_project


def _project(tmp_path: Path, text: str):
    (tmp_path / "compose.yaml").write_text(text)
    return load_project(ProjectOptions(working_dir=str(tmp_path), environment={}))


def test_model_and_start_order(tmp_path: Path) -> None:
    project = _project(tmp_path, "name: demo\nservices:\n  web:\n    image: w\n    depends_on:\n      api: "
                                 "{condition: service_healthy}\n  api:\n    image: a\n    depends_on: [db]\n"
                                 "  db:\n    image: d\n    volumes: [data:/var]\nvolumes:\n  data: {}\n")
    assert project.name == "demo"
    assert project.services["web"].depends_on["api"].condition == "service_healthy"
    assert project.services["db"].volumes[0]["source"] == "data"
    graph = build_graph(project)
    assert graph.edges["service:web", "service:api"]["condition"] == "service_healthy"
    assert graph.has_edge("service:db", "volume:data")
    assert start_order(graph) == ["db", "api", "web"]
    assert stop_order(graph) == ["web", "api", "db"]
    with pytest.raises(AttributeError):
        project.name = "x"  # type: ignore[misc]
    assert project.to_dict()["services"]["web"]["image"] == "w"
    assert len(project.config_hashes["web"]) == 64


def test_cycle_error_prints_cycle(tmp_path: Path) -> None:
    with pytest.raises(SemanticError, match="a -> b -> a"):
        _project(tmp_path, "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n"
                           "    depends_on: [a]\n")
