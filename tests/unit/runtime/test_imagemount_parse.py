"""``--mount type=image`` parsing and the image ids a container's config mounts (no kernel)."""

from __future__ import annotations

import pytest

from composer.engine.runtime import imagemount
from composer.engine.runtime.config import Mount
from composer.engine.runtime.mounts import parse_mount_flag
from composer.errors import MountError, UsageError


@pytest.fixture
def resolved(monkeypatch):
    """image_mount resolves every reference to one fake id (the store is not read)."""
    class Image:
        id = "sha256:" + "ab" * 32

    monkeypatch.setattr("composer.engine.runtime.imagecache.resolve_image", lambda reference: Image())
    return Image.id


def test_parse_image_mount(resolved):
    mount = parse_mount_flag("type=image,source=alpine,target=/p,image-subpath=etc")
    assert mount == Mount(type="image", target="/p", source=resolved, readonly=True, subpath="etc")


def test_image_subpath_must_stay_inside(resolved):
    for bad in ("/etc", "../x", "a/../../x"):
        with pytest.raises(UsageError, match="subpath must be a relative path"):
            parse_mount_flag(f"type=image,source=alpine,target=/p,image-subpath={bad}")


def test_image_mount_needs_a_source(resolved):
    with pytest.raises(MountError, match="source \\(the image\\) is required"):
        parse_mount_flag("type=image,target=/p")


def test_mounted_images_of_a_config():
    mounts = [{"type": "volume", "source": "v"}, {"type": "image", "source": "sha256:1"}, {"type": "image"}]
    assert imagemount.mounted_images(mounts) == ["sha256:1"]


def test_compose_image_subpath_must_stay_inside(resolved):
    with pytest.raises(MountError, match="must be a relative path within the image"):
        imagemount.image_mount("alpine", "/p", "../etc")
