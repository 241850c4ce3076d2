"""The compose engine's builder hook: ``up`` builds a service's missing image through it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.builder.conftest import write

pytestmark = [pytest.mark.root]


def test_up_builds_the_missing_image_through_the_hook(busybox_image, state_root: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    from composer.engine.api import ProjectService
    from composer.engine.build.compose import make_builder
    from composer.engine.images.store import ImageStore
    from composer.engine.options import DownOptions, UpOptions
    from composer.engine.runtime.adapter import LinuxRuntime
    from composer.spec.loader import ProjectOptions, load_project

    write(tmp_path / "proj", {
        "app/Dockerfile": "FROM busybox\nRUN echo built-by-up > /marker\nCMD [\"cat\", \"/marker\"]\n",
        "compose.yaml": "services:\n  app:\n    build: ./app\n",
    })
    project = load_project(ProjectOptions(files=(str(tmp_path / "proj/compose.yaml"),), project_name="upb"))
    lines: list[str] = []
    service = ProjectService(LinuxRuntime(), builder=make_builder(project, emit=lines.append))
    try:
        service.up(project, UpOptions(no_start=True))
        image = ImageStore().resolve("upb-app")
        assert (image.layer_dirs[-1] / "marker").read_text() == "built-by-up\n"
        assert any("RUN echo built-by-up" in line for line in lines)
    finally:
        service.down(project, DownOptions())
