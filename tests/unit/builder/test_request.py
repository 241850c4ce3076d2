"""Build requests from CLI flags and compose services."""

from pathlib import Path

import pytest

from composer.engine.build.request import BuildRequest, from_flags, from_service, named_contexts
from composer.errors import BuildError


def test_from_flags_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    request = from_flags("app", file="docker/Dockerfile.dev", cwd=str(tmp_path), target="dev",
                         build_args={"A": "1"}, tags=("x:1",))
    assert request.context == str(tmp_path / "app")
    assert request.dockerfile == str(tmp_path / "docker/Dockerfile.dev")
    assert request.target == "dev" and request.build_args == {"A": "1"} and request.tags == ("x:1",)
    assert from_flags("-", cwd=str(tmp_path)).context == "-"
    assert from_flags(".", file="-", cwd=str(tmp_path)).dockerfile is None


def test_from_service_defaults(tmp_path: Path) -> None:
    request = from_service("shop", "web", None, {"context": str(tmp_path), "dockerfile": "Dockerfile"})
    assert request.tags == ("shop-web",) and request.dockerfile == str(tmp_path / "Dockerfile")


def test_from_service_fields(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    build = {"context": str(tmp_path), "dockerfile": "build/web.Dockerfile", "target": "prod",
             "args": {"A": "1", "B": None}, "labels": ["team=x"], "tags": ["reg/web:1", "web:latest"],
             "no_cache": True, "pull": True, "network": "none", "platforms": ["linux/amd64"],
             "additional_contexts": {"assets": str(tmp_path / "assets"), "base": "docker-image://alpine:3",
                                     "api": "service:api"}}
    request = from_service("shop", "web", "web:latest", build)
    assert request.tags == ("web:latest", "reg/web:1")
    assert request.dockerfile == str(tmp_path / "build/web.Dockerfile")
    assert request.build_args == {"A": "1", "B": None} and request.labels == {"team": "x"}
    assert request.no_cache and request.pull and request.network == "none" and request.platform == "linux/amd64"
    assert [(c.name, c.kind, c.value) for c in request.contexts] == [
        ("assets", "local", str(tmp_path / "assets")), ("base", "image", "alpine:3"), ("api", "service", "api")]


def test_remote_contexts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="remote build context") as info:
        from_service("p", "web", None, {"context": "https://github.com/x/y.git"}, source="compose.yaml")
    assert str(info.value.location) == "compose.yaml: services.web.build"
    with pytest.raises(BuildError, match="not supported"):
        named_contexts({"x": "https://example.com/a.tar"})
    with pytest.raises(BuildError, match="not a directory"):
        named_contexts({"x": str(tmp_path / "missing")})


def test_dockerfile_text(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    assert BuildRequest(context=str(tmp_path)).dockerfile_text() == ("FROM x\n", str(tmp_path / "Dockerfile"))
    inline = BuildRequest(context=str(tmp_path), dockerfile_inline="FROM y\n")
    assert inline.dockerfile_text() == ("FROM y\n", "Dockerfile (inline)")
    with pytest.raises(BuildError, match="cannot find the Dockerfile"):
        BuildRequest(context=str(tmp_path / "nope")).dockerfile_text()
