"""The image definitions agree with their Dockerfiles and with the postgres-api example (no root)."""

from __future__ import annotations

import re

import pytest

from tests.integration.examples.conftest import REPO, load_build_module

build = load_build_module()


def _dockerfile_instructions(name: str) -> list[str]:
    lines = (build.HERE / name / "Dockerfile").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("name", build.IMAGES)
def test_dockerfile_has_the_same_config_as_the_import(name: str) -> None:
    image = build.load(name)
    instructions = _dockerfile_instructions(name)
    assert instructions[:2] == ["FROM scratch", "ADD rootfs.tar /"]
    for change in image.changes:
        assert change in instructions, f"{name}/Dockerfile lacks {change!r}"
    if image.files.is_dir():
        assert "COPY files/ /" in instructions


@pytest.mark.parametrize("name", build.IMAGES)
def test_mmdebstrap_command_is_minbase_trimmed_and_keyed(name: str) -> None:
    image = build.load(name)
    args = image.mmdebstrap_args(build.CACHE / "x.tar")
    assert "--variant=minbase" in args and "--dpkgopt=path-exclude=/usr/share/doc/*" in args
    assert args[-2:] == [build.SUITE, str(build.CACHE / "x.tar")]
    changed = build.ImageDef(**{**image.__dict__, "include": [*image.include, "hello"]})
    assert changed.rootfs_key() != image.rootfs_key()
    assert image.rootfs_key() == build.load(name).rootfs_key()


def test_overlay_files_change_the_image_key_not_the_rootfs_key() -> None:
    image = build.load("postgres")
    other = build.ImageDef(**{**image.__dict__, "changes": [*image.changes, "ENV X=1"]})
    assert other.rootfs_key() == image.rootfs_key() and other.image_key() != image.image_key()


def test_postgres_api_defaults_to_the_local_images() -> None:
    compose = (REPO / "examples" / "postgres-api" / "compose.yaml").read_text()
    dockerfile = (REPO / "examples" / "postgres-api" / "api" / "Dockerfile").read_text()
    references = {build.load(name).reference for name in build.IMAGES}
    defaults = set(re.findall(r"\$\{\w+_IMAGE:-([^}]+)\}", compose))
    assert defaults == {"composer-local/postgres:15", "composer-local/nginx:bookworm",
                        "composer-local/python:3-bookworm"}
    assert defaults <= references
    assert "ARG PYTHON_IMAGE=composer-local/python:3-bookworm" in dockerfile
    assert "FROM ${PYTHON_IMAGE}" in dockerfile


def test_unknown_image_is_a_clear_error() -> None:
    with pytest.raises(build.BuildError, match="no such image definition"):
        build.load("nope")


def test_malformed_definition_names_file_and_key(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "image.toml").write_text('reference = "x:y"\ninclude = "nginx"\nchanges = []\n')
    monkeypatch.setattr(build, "HERE", tmp_path)
    with pytest.raises(build.BuildError, match=r"bad/image.toml: 'include' must be a list of strings"):
        build.load("bad")
    (tmp_path / "bad" / "image.toml").write_text('include = []\n')
    with pytest.raises(build.BuildError, match="'reference'"):
        build.load("bad")
