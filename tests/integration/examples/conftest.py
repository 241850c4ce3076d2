"""Fixtures for the examples' images: rootfs tarballs built once per machine, imported per test."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / "examples" / "images" / "build.py"


def load_build_module() -> ModuleType:
    """``examples/images/build.py`` as a module (it is a script, not part of the package)."""
    if "examples_images_build" in sys.modules:
        return sys.modules["examples_images_build"]
    spec = importlib.util.spec_from_file_location("examples_images_build", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def images_build() -> ModuleType:
    return load_build_module()


class ExampleStore:
    """A private COMPOSER_ROOT holding the examples' images, each imported on first use."""

    def __init__(self, root: Path, build: ModuleType) -> None:
        self.root, self.build, self.references = root, build, {}

    def image(self, name: str) -> str:
        """Build (or reuse) ``name``'s rootfs, import it once into this store; its reference."""
        if name not in self.references:
            image = self.build.load(name)
            try:
                rootfs, _ = self.build.build_rootfs(image)
            except self.build.BuildError as error:
                pytest.skip(f"cannot build the {name} rootfs here: {str(error)[-300:]}")
            self.build.import_image(image, self.build.image_tarball(image, rootfs))
            self.references[name] = image.reference
        return self.references[name]


@pytest.fixture(scope="module")
def example_store(tmp_path_factory: pytest.TempPathFactory, images_build: ModuleType) -> Iterator[ExampleStore]:
    """One temporary state root per test module: importing a 100-400 MB rootfs takes 10-30 s, so
    the module's tests share the imports (each test still removes its own containers/volumes)."""
    if not shutil.which("mmdebstrap"):
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap, or `make setup`)")
    root = tmp_path_factory.mktemp("examples") / "composer-root"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPOSER_ROOT", str(root))
        try:
            yield ExampleStore(root, images_build)
        finally:
            from tests.fixtures.leftovers import release_state_root

            release_state_root(root)  # (containers first: none joins a network after its removal)
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def example_image(example_store: ExampleStore, monkeypatch: pytest.MonkeyPatch):
    """``example_image("postgres")``: the image's reference in the module's store (COMPOSER_ROOT set)."""
    monkeypatch.setenv("COMPOSER_ROOT", str(example_store.root))
    return example_store.image


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExampleProject:
    """A copy of ``examples/<name>`` in a temporary directory, and composer run in it with ``env``."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory, self.env = directory, env

    def __call__(self, *args: str, ok: bool = True, timeout: float = 240):
        import os
        import subprocess

        result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=self.directory, text=True,
                                capture_output=True, timeout=timeout, env={**os.environ, **self.env})
        assert not ok or result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def get(self, port_variable: str, path: str, data: bytes | None = None) -> bytes:
        """The body of an HTTP request to ``127.0.0.1:$port_variable``."""
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{self.env[port_variable]}{path}", data=data,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()


@pytest.fixture
def example_project(tmp_path: Path, example_image) -> Iterator:
    """``example_project("static-site", images=("nginx",), ports=("SITE_PORT",))``: the example's
    copy with its images imported and free ports; taken down (volumes, built images) after."""
    made: list[ExampleProject] = []

    def make(name: str, images: tuple[str, ...], ports: tuple[str, ...] = ()) -> ExampleProject:
        for image in images:
            example_image(image)
        directory = tmp_path / name
        shutil.copytree(REPO / "examples" / name, directory)
        made.append(ExampleProject(directory, {port: str(free_port()) for port in ports}))
        return made[-1]

    try:
        yield make
    finally:
        for project in made:
            project("down", "-v", "-t", "2", "--rmi", "local", "--remove-orphans", ok=False)
