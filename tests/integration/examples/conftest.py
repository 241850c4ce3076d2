"""Fixtures for the examples' images: rootfs tarballs built once per machine, imported per test."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

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


@pytest.fixture
def example_image(state_root: Path, images_build: ModuleType):
    """A function: ``example_image("postgres")`` builds (or reuses) the rootfs and imports it into
    this test's store; returns the image reference."""
    if not shutil.which("mmdebstrap"):
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap, or `make setup`)")

    def make(name: str) -> str:
        image = images_build.load(name)
        try:
            rootfs, _ = images_build.build_rootfs(image)
        except images_build.BuildError as error:
            pytest.skip(f"cannot build the {name} rootfs here: {str(error)[-300:]}")
        images_build.import_image(image, images_build.image_tarball(image, rootfs))
        return image.reference

    return make
