"""``config --resolve-image-digests`` and ``--lock-image-digests`` against a registry, as Docker
Compose 2.40.3 prints them (compared byte for byte on the same project and registry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from composer.engine.images.push import push

pytestmark = [pytest.mark.root]


def _config(state_root: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "composer", "config", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def test_images_pinned_to_the_registrys_digests(busybox_image, registry, docker_config, state_root, tmp_path):
    repository = f"{registry.host}/{uuid.uuid4().hex[:8]}/busybox"
    for tag in ("1", "latest"):
        tagged = subprocess.run([sys.executable, "-m", "composer", "image", "tag", "busybox", f"{repository}:{tag}"],
                                capture_output=True, text=True, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
        assert tagged.returncode == 0, tagged.stderr
        digest = push(f"{repository}:{tag}").digest
    zeros = "sha256:" + "0" * 64
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    image: {repository}:1\n  other:\n    image: {repository}\n"
        f"  built:\n    build: .\n  pinned:\n    image: {repository}:1@{zeros}\n")
    resolved = _config(state_root, tmp_path, "--resolve-image-digests")
    assert resolved.returncode == 0, resolved.stderr
    assert f"  web:\n    image: {repository}:1@{digest}\n    networks:\n" in resolved.stdout
    assert f"  other:\n    image: {repository}:latest@{digest}\n" in resolved.stdout
    assert f"  pinned:\n    image: {repository}@{zeros}\n" in resolved.stdout  # the tag dropped
    assert "  built:\n    build:\n" in resolved.stdout
    locked = _config(state_root, tmp_path, "--lock-image-digests")
    assert locked.stdout == (f"services:\n  built: {{}}\n  other:\n    image: {repository}:latest@{digest}\n"
                             f"  pinned:\n    image: {repository}@{zeros}\n"
                             f"  web:\n    image: {repository}:1@{digest}\n")
    as_json = _config(state_root, tmp_path, "--lock-image-digests", "--format", "json").stdout
    assert not as_json.endswith("\n") and json.loads(as_json) == {"name": "", "services": {
        "built": {"command": None, "entrypoint": None},
        "other": {"command": None, "entrypoint": None, "image": f"{repository}:latest@{digest}"},
        "pinned": {"command": None, "entrypoint": None, "image": f"{repository}@{zeros}"},
        "web": {"command": None, "entrypoint": None, "image": f"{repository}:1@{digest}"}}}
    only_web = _config(state_root, tmp_path, "--resolve-image-digests", "web").stdout
    assert "other:" not in only_web and f"{repository}:1@{digest}" in only_web
    assert _config(state_root, tmp_path, "--resolve-image-digests", "--images").stdout.count("@") == 1  # as written


def test_an_unreachable_registry_fails_the_command(state_root, tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: 127.0.0.1:1/none:1\n")
    for flags in (("--resolve-image-digests",), ("--lock-image-digests", "-q")):
        failed = _config(state_root, tmp_path, *flags)
        assert failed.returncode == 1 and failed.stdout == ""
        assert "failed to resolve digest for 127.0.0.1:1/none:1: " in failed.stderr
    assert _config(state_root, tmp_path, "--resolve-image-digests", "--services").stdout == "web\n"  # no registry asked
