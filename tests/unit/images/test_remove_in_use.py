"""`image rm` of an image a container uses: docker's conflicts; -f deletes a stopped user's image."""

from __future__ import annotations

import pytest

from composer.engine.images.catalog import remove, tag
from composer.engine.images.store import ImageStore
from composer.errors import ImageError

pytestmark = pytest.mark.root
CONTAINER = "c0ffee" * 10 + "abcd"


def test_last_name_of_a_used_image_needs_force(busybox_image) -> None:
    store, used = ImageStore(), {busybox_image.id: [(CONTAINER, False)]}
    with pytest.raises(ImageError, match='unable to remove repository reference "busybox" \\(must force\\) - '
                                         f"container {CONTAINER[:12]} is using its referenced image"):
        remove(store, "busybox", in_use=used)
    assert store.resolve("busybox").id == busybox_image.id
    assert remove(store, "busybox", force=True, in_use=used) == [("Untagged", "busybox:latest"),
                                                                 ("Deleted", busybox_image.id)]
    assert busybox_image.id not in store.read_db()["images"]


def test_force_by_name_keeps_a_running_users_image_untagged(busybox_image) -> None:
    store, used = ImageStore(), {busybox_image.id: [(CONTAINER, True)]}
    assert remove(store, "busybox", force=True, in_use=used) == [("Untagged", "busybox:latest")]
    assert busybox_image.id in store.read_db()["images"]  # kept for the container, now dangling


def test_another_name_can_go_while_used(busybox_image) -> None:
    store = ImageStore()
    tag(store, "busybox", "mine:1")
    used = {busybox_image.id: [(CONTAINER, True)]}
    assert remove(store, "mine:1", in_use=used) == [("Untagged", "mine:1")]


def test_by_id_stopped_must_be_forced_running_cannot(busybox_image) -> None:
    store = ImageStore()
    with pytest.raises(ImageError, match="cannot be forced.*running container"):
        remove(store, busybox_image.id, force=True, in_use={busybox_image.id: [(CONTAINER, True)]})
    with pytest.raises(ImageError, match="must be forced.*stopped container"):
        remove(store, busybox_image.id, in_use={busybox_image.id: [(CONTAINER, False)]})
    lines = remove(store, busybox_image.id, force=True, in_use={busybox_image.id: [(CONTAINER, False)]})
    assert lines == [("Untagged", "busybox:latest"), ("Deleted", busybox_image.id)]
    assert busybox_image.id not in store.read_db()["images"]


def test_by_id_with_several_names_must_be_forced(busybox_image) -> None:
    store = ImageStore()
    tag(store, "busybox", "mine:1")
    with pytest.raises(ImageError, match="must be forced.*referenced in multiple repositories"):
        remove(store, busybox_image.id, in_use={})
    with pytest.raises(ImageError, match="cannot be forced.*running container"):
        remove(store, busybox_image.id, force=True, in_use={busybox_image.id: [(CONTAINER, True)]})
    lines = remove(store, busybox_image.id, force=True, in_use={})
    assert sorted(lines[:2]) == [("Untagged", "busybox:latest"), ("Untagged", "mine:1")]


def test_unused_image_is_deleted(busybox_image) -> None:
    lines = remove(ImageStore(), "busybox", in_use={})
    assert lines[-1] == ("Deleted", busybox_image.id)
