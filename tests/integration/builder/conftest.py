"""Fixtures for builder tests: a build context directory and an in-process build helper."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Callable

import pytest

@pytest.fixture
def context(tmp_path: Path) -> Path:
    """An empty build context directory."""
    path = tmp_path / "context"
    path.mkdir()
    return path


def write(root: Path, files: dict[str, str]) -> None:
    """Create ``files`` (relative path -> text) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def builder(busybox_image, state_root: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[str, list[str]]]:
    """``builder(context, dockerfile_text, **request options) -> (image id, progress lines)``.

    Checks afterwards that no build container, cgroup, mount or temporary file was left behind.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root")
    from composer.engine.build.executor import build
    from composer.engine.build.request import from_flags

    from composer.engine.build import running

    made: list[str] = []

    def new_id() -> str:
        made.append(os.urandom(32).hex())
        return made[-1]

    monkeypatch.setattr(running, "new_container_id", new_id)

    def run(ctx: Path, dockerfile: str | None = None, **options) -> tuple[str, list[str]]:
        if dockerfile is not None:
            (ctx / "Dockerfile").write_text(dockerfile)
        lines: list[str] = []
        request = from_flags(str(ctx), **options)
        return build(request, emit=lines.append), lines

    yield run
    leaked = [path for cid in made for path in glob.glob(f"/sys/fs/cgroup/*/composer/{cid}")]
    assert not leaked, f"a build container's cgroup was left behind: {leaked}"
    assert not list((state_root / "containers").glob("*")) if (state_root / "containers").exists() else True
    tmp = state_root / "images" / "tmp"
    assert not tmp.exists() or not [p for p in tmp.iterdir() if not p.name.startswith("blob-")]
    with open("/proc/self/mountinfo") as handle:
        assert str(state_root) not in handle.read(), "a view mount was left behind"


def layer_blob(diff_id: str) -> Path:
    """The stored blob (gzip or plain tar) of the layer ``diff_id`` of some stored image."""
    import json

    from composer.engine.images.store import ImageStore

    store = ImageStore()
    for image_id, record in store.read_db()["images"].items():
        config = json.loads(store.blobs.read(image_id))
        manifest = json.loads(store.blobs.read(record["manifest"]))
        for layer_diff, layer in zip(config["rootfs"]["diff_ids"], manifest["layers"]):
            if layer_diff == diff_id:
                return store.blobs.path(layer["digest"])
    raise KeyError(diff_id)
