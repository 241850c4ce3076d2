"""``--mount type=image`` (Docker 28) and Compose's ``type: image`` volumes: another image's files,
read-only, at a path of the container; ``image rm`` refuses an image a container mounts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.runtime.conftest import cli
from tests.integration.runtime.layered import write_archive

pytestmark = pytest.mark.root

NO_NET = ("--rm", "--network", "none")


@pytest.fixture
def data_image(image, state_root: Path, tmp_path: Path) -> str:
    """``data:1`` (two layers, a whiteout, a link to /) loaded beside busybox."""
    loaded = cli(state_root, "image", "load", "-i", str(write_archive(tmp_path / "data.tar", "data:1")))
    assert loaded.returncode == 0, loaded.stderr
    return "data:1"


def test_image_layers_merged_read_only_at_the_target(run, data_image):
    mount = f"type=image,source={data_image},target=/img"
    result = run(*NO_NET, "--mount", mount, "busybox", "sh", "-c",
                 "ls /img/data; cat /img/data/one.txt /img/data/two.txt; touch /img/data/new")
    assert result.returncode == 1, result.stderr  # touch fails: the mount is read-only
    assert result.stdout.split() == ["one.txt", "two.txt", "up", "one", "two"]  # gone.txt whited out
    assert "Read-only file system" in result.stderr


def test_image_subpath_and_its_escapes(run, data_image, image):
    base = f"type=image,source={data_image},target=/img,image-subpath="
    inside = run(*NO_NET, "--mount", base + "data", "busybox", "cat", "/img/two.txt")
    assert inside.returncode == 0 and inside.stdout == "two\n", inside.stderr
    up = run(*NO_NET, "--mount", base + "data/up", "busybox", "ls", "/img")  # the link stays in the image
    assert up.returncode == 0 and up.stdout.split() == ["data"], up.stdout + up.stderr
    climbing = run(*NO_NET, "--mount", base + "../etc", "busybox", "true")
    assert climbing.returncode != 0 and "subpath must be a relative path" in climbing.stderr
    missing = run(*NO_NET, "--mount", base + "nothing", "busybox", "true")
    assert missing.returncode != 0 and "cannot access image-subpath 'nothing'" in missing.stderr
    one_layer = run(*NO_NET, "--mount", "type=image,source=busybox,target=/b,image-subpath=bin", "busybox",
                    "sh", "-c", "test -x /b/busybox && touch /b/x")
    assert one_layer.returncode == 1 and "Read-only file system" in one_layer.stderr
    absent = run(*NO_NET, "--mount", "type=image,source=nothere:1,target=/x", "busybox", "true")
    assert absent.returncode != 0 and "No such image: nothere:1" in absent.stderr
    assert "Traceback" not in climbing.stderr + missing.stderr + absent.stderr


def test_rm_refuses_an_image_a_running_container_mounts(state_root, data_image, image):
    started = cli(state_root, "container", "run", "-d", "--network", "none", "--mount",
                  f"type=image,source={data_image},target=/img", "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        refused = cli(state_root, "image", "rm", data_image)
        assert refused.returncode == 1 and f"container {container[:12]} is using its referenced image" \
            in refused.stderr
        image_id = cli(state_root, "image", "inspect", "-f", "{{.Id}}", data_image).stdout.strip()
        by_id = cli(state_root, "image", "rm", "-f", image_id)
        assert by_id.returncode == 1 and "image is being used by running container" in by_id.stderr
        inspect = cli(state_root, "container", "inspect", "-f", "{{json .Mounts}}", container).stdout
        assert '"Type":"image"' in inspect and '"RW":false' in inspect
    finally:
        cli(state_root, "container", "rm", "-f", container)
    assert cli(state_root, "image", "rm", data_image).returncode == 0


def test_start_after_the_mounted_image_was_forced_away(state_root, data_image):
    created = cli(state_root, "container", "create", "--network", "none", "--mount",
                  f"type=image,source={data_image},target=/img", "busybox", "true")
    assert created.returncode == 0, created.stderr
    try:
        assert cli(state_root, "image", "rm", "-f", data_image).returncode == 0  # a stopped user: -f deletes it
        started = cli(state_root, "container", "start", created.stdout.strip())
        assert started.returncode == 1 and "mounted at /img is gone" in started.stderr, started.stderr
    finally:
        cli(state_root, "container", "rm", "-f", created.stdout.strip())


def test_compose_image_volume(state_root, data_image, tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    network_mode: none\n    volumes:\n"
        "      - type: image\n        source: data:1\n        target: /img\n        image: {subpath: data}\n")
    result = subprocess.run([sys.executable, "-m", "composer", "run", "--rm", "a", "sh", "-c",
                             "cat /img/one.txt; touch /img/x"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    assert result.stdout == "one\n" and "Read-only file system" in result.stderr, result.stderr


def test_image_mount_in_a_private_user_namespace(run, data_image):
    """With ``--userns private`` the image's files are the container's root's (idmapped layers)."""
    result = run(*NO_NET, "--userns", "private", "--mount", f"type=image,source={data_image},target=/img",
                 "busybox", "sh", "-c", "stat -c %u /img/data/one.txt; cat /img/data/two.txt")
    assert result.returncode == 0 and result.stdout == "0\ntwo\n", result.stderr
