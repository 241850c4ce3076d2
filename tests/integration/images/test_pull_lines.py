"""``pull`` and ``up``'s pull lines against a registry, as Docker Compose 2.40.3 prints them
(plain): named by service (``web Pulling ``: fmt.Println's space before the empty details),
``Skipped - Image is already being pulled by web`` for a shared image in ``pull``, the layers'
docker statuses (none with ``-q`` / ``--quiet-pull``), ``web:volume 0`` for a mounted image."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from composer.engine.images.push import push

pytestmark = [pytest.mark.root]


def _composer(state_root: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "composer", "--progress", "plain", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def test_pull_lines_are_composes(busybox_image, registry, docker_config, state_root, tmp_path):
    image = f"{registry.host}/{uuid.uuid4().hex[:8]}/busybox:1"
    assert _composer(state_root, tmp_path, "image", "tag", "busybox", image).returncode == 0
    push(image)
    assert _composer(state_root, tmp_path, "image", "rm", image).returncode == 0  # the layers stay here
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    image: {image}\n    network_mode: none\n  other:\n    image: {image}\n"
        "    network_mode: none\n")
    pulled = _composer(state_root, tmp_path, "pull")
    assert pulled.returncode == 0, pulled.stderr
    lines = pulled.stderr.splitlines()
    first, second = ("other", "web") if " other Pulling " in lines else ("web", "other")
    assert lines[0] == f" {second} Skipped - Image is already being pulled by {first} "
    assert lines[1:] == [f" {first} Pulling ", f" {first} Pulled "]  # its layers are here: no layer line
    fresh = tmp_path / "fresh-root"  # a store without the layers: dockerd's statuses of each
    fresh.mkdir()
    downloaded = _composer(fresh, tmp_path, "pull", "web").stderr.splitlines()
    layer = downloaded[1].split()[0]
    assert downloaded[0] == " web Pulling " and downloaded[-1] == " web Pulled " and len(layer) == 12
    assert downloaded[1] == f" {layer} Pulling fs layer " and f" {layer} Verifying Checksum " in downloaded
    assert f" {layer} Download complete " in downloaded and downloaded[-2] == f" {layer} Pull complete "
    assert any(line.startswith(f" {layer} Downloading [") and line.endswith("B") for line in downloaded)
    assert _composer(state_root, tmp_path, "image", "rm", image).returncode == 0
    quiet = _composer(state_root, tmp_path, "pull", "-q", "web")
    assert quiet.stderr == " web Pulling \n web Pulled \n"
    assert _composer(state_root, tmp_path, "image", "rm", image).returncode == 0
    try:
        up = _composer(state_root, tmp_path, "up", "-d", "--quiet-pull")
        assert up.returncode == 0, up.stderr
        assert sorted(up.stderr.splitlines()[:4]) == [" other Pulled ", " other Pulling ", " web Pulled ", " web Pulling "]
    finally:
        _composer(state_root, tmp_path, "down", "-t", "0")


def test_run_quiet_pull_and_quiet(busybox_image, registry, docker_config, state_root, tmp_path):
    """``run --quiet-pull``: the service lines of its pulls (its dependencies' too), no layer line;
    ``run -q``: no progress line at all (Compose's quiet display), the command's output only."""
    image = f"{registry.host}/{uuid.uuid4().hex[:8]}/busybox:1"
    assert _composer(state_root, tmp_path, "image", "tag", "busybox", image).returncode == 0
    push(image)
    fresh = tmp_path / "fresh-root"  # a store without the layers: a pull would print them
    fresh.mkdir()
    (tmp_path / "compose.yaml").write_text(f"services:\n  web:\n    image: {image}\n    network_mode: none\n"
                                           "    command: echo ran\n")
    quiet_pull = _composer(fresh, tmp_path, "run", "--rm", "--quiet-pull", "web")
    assert (quiet_pull.returncode, quiet_pull.stdout) == (0, "ran\n"), quiet_pull.stderr
    assert quiet_pull.stderr == " web Pulling \n web Pulled \n"
    assert _composer(fresh, tmp_path, "image", "rm", image).returncode == 0
    quiet = _composer(fresh, tmp_path, "run", "--rm", "-q", "web")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "ran\n", "")
