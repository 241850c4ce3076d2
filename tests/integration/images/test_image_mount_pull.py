"""Compose's ``type: image`` volume of an image that is not here yet: pulled from the registry
by the plan first, even with ``--pull never`` (as Compose 2.40; ``docker run --mount type=image``
does not pull: No such image)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from composer.engine.images.push import push
from composer.engine.images.store import ImageStore
from tests.integration.runtime.layered import write_archive

pytestmark = [pytest.mark.root]


def _composer(state_root: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "composer", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def test_compose_pulls_a_missing_mount_image(busybox_image, registry, docker_config, state_root, tmp_path):
    reference = f"{registry.host}/{uuid.uuid4().hex[:8]}/data:1"
    loaded = _composer(state_root, tmp_path, "image", "load", "-i", str(write_archive(tmp_path / "d.tar", reference)))
    assert loaded.returncode == 0, loaded.stderr
    push(reference)
    assert _composer(state_root, tmp_path, "image", "rm", reference).returncode == 0  # in the registry only
    refused = _composer(state_root, tmp_path, "container", "run", "--rm", "--network", "none", "--mount",
                        f"type=image,source={reference},target=/img", "busybox", "true")
    assert refused.returncode == 125 and f"No such image: {reference}" in refused.stderr, refused.stderr
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    network_mode: none\n    volumes:\n"
        f"      - {{type: image, source: '{reference}', target: /img}}\n")
    ran = _composer(state_root, tmp_path, "run", "--rm", "a", "cat", "/img/data/two.txt")
    assert ran.returncode == 0 and ran.stdout == "two\n", ran.stderr
    assert " a:volume 0 Pulled \n" in ran.stderr, ran.stderr  # as Compose names a mount's pull
    assert ImageStore().read_db()["refs"].get(reference)
    assert _composer(state_root, tmp_path, "image", "rm", reference).returncode == 0
    try:
        up = _composer(state_root, tmp_path, "up", "-d", "--pull", "never")
        assert up.returncode == 0 and " a:volume 0 Pulled \n" in up.stderr, up.stderr
        again = _composer(state_root, tmp_path, "up", "-d")  # present: not pulled again
        assert again.returncode == 0 and reference not in again.stderr, again.stderr
    finally:
        _composer(state_root, tmp_path, "down")
