"""`image rm` of an image a container uses: docker's conflicts; -f deletes a stopped user's image;
the layers it releases are listed as docker lists them."""

from __future__ import annotations

import pytest

from composer.engine.images.catalog import ContainerUsage, prune, remove, tag
from composer.engine.images.store import ImageStore
from composer.errors import ImageError

pytestmark = pytest.mark.root
CONTAINER = "c0ffee" * 10 + "abcd"


def released(image) -> list[tuple[str, str]]:
    """docker's ``Deleted:`` lines of an image's layers (chain ids, top first), none kept elsewhere."""
    return [("Deleted", "sha256:" + path.name) for path in reversed(image.layer_dirs)]


def users(image_id: str, running: bool) -> ContainerUsage:
    return ContainerUsage({image_id: [(CONTAINER, running)]})


def test_last_name_of_a_used_image_needs_force(busybox_image) -> None:
    store, used = ImageStore(), users(busybox_image.id, False)
    with pytest.raises(ImageError, match='unable to remove repository reference "busybox" \\(must force\\) - '
                                         f"container {CONTAINER[:12]} is using its referenced image"):
        remove(store, "busybox", usage=used)
    assert store.resolve("busybox").id == busybox_image.id
    assert remove(store, "busybox", force=True, usage=used) == [("Untagged", "busybox:latest"),
                                                                ("Deleted", busybox_image.id), *released(busybox_image)]
    assert busybox_image.id not in store.read_db()["images"]


def test_force_by_name_keeps_a_running_users_image_untagged(busybox_image) -> None:
    store, used = ImageStore(), users(busybox_image.id, True)
    assert remove(store, "busybox", force=True, usage=used) == [("Untagged", "busybox:latest")]
    assert busybox_image.id in store.read_db()["images"]  # kept for the container, now dangling


def test_another_name_can_go_while_used(busybox_image) -> None:
    store = ImageStore()
    tag(store, "busybox", "mine:1")
    used = users(busybox_image.id, True)
    assert remove(store, "mine:1", usage=used) == [("Untagged", "mine:1")]


def test_by_id_stopped_must_be_forced_running_cannot(busybox_image) -> None:
    store = ImageStore()
    with pytest.raises(ImageError, match="cannot be forced.*running container"):
        remove(store, busybox_image.id, force=True, usage=users(busybox_image.id, True))
    with pytest.raises(ImageError, match="must be forced.*stopped container"):
        remove(store, busybox_image.id, usage=users(busybox_image.id, False))
    lines = remove(store, busybox_image.id, force=True, usage=users(busybox_image.id, False))
    assert lines == [("Untagged", "busybox:latest"), ("Deleted", busybox_image.id), *released(busybox_image)]
    assert busybox_image.id not in store.read_db()["images"]


def test_by_id_with_several_names_must_be_forced(busybox_image) -> None:
    store = ImageStore()
    tag(store, "busybox", "mine:1")
    with pytest.raises(ImageError, match="must be forced.*referenced in multiple repositories"):
        remove(store, busybox_image.id, usage=ContainerUsage({}))
    with pytest.raises(ImageError, match="cannot be forced.*running container"):
        remove(store, busybox_image.id, force=True, usage=users(busybox_image.id, True))
    lines = remove(store, busybox_image.id, force=True, usage=ContainerUsage({}))
    assert sorted(lines[:2]) == [("Untagged", "busybox:latest"), ("Untagged", "mine:1")]


def test_unused_image_is_deleted_with_its_layers(busybox_image) -> None:
    lines = remove(ImageStore(), "busybox", usage=ContainerUsage({}))
    assert lines == [("Untagged", "busybox:latest"), ("Deleted", busybox_image.id), *released(busybox_image)]


def test_layers_a_container_holds_are_not_deleted(busybox_image) -> None:
    lower = frozenset(str(path) for path in busybox_image.layer_dirs)
    usage = ContainerUsage({busybox_image.id: [(CONTAINER, False)]}, lower)
    lines = remove(ImageStore(), "busybox", force=True, usage=usage)
    assert lines == [("Untagged", "busybox:latest"), ("Deleted", busybox_image.id)]


def test_layers_go_with_the_last_image_on_them(busybox_image, busybox_tar) -> None:
    store = ImageStore()
    other = store.import_rootfs(busybox_tar, "other:1", ['CMD ["true"]'])
    assert other.id != busybox_image.id and other.layer_dirs == busybox_image.layer_dirs
    assert remove(store, "busybox", usage=ContainerUsage({}))[-1] == ("Deleted", busybox_image.id)
    assert remove(store, "other:1", usage=ContainerUsage({})) == [
        ("Untagged", "other:1"), ("Deleted", other.id), *released(other)]


def test_prune_lists_what_docker_lists(busybox_image) -> None:
    store = ImageStore()
    assert prune(store)[0] == []  # busybox is tagged: not dangling
    lines, freed = prune(store, everything=True)
    assert lines == [("Untagged", "busybox:latest"), ("Deleted", busybox_image.id), *released(busybox_image)]
    assert freed > 0 and store.read_db()["images"] == {}


def test_prune_of_several_images_writes_the_index_once(busybox_image, busybox_tar, monkeypatch) -> None:
    """Two images on the same layers: both deleted, the shared layers listed once (with the last),
    in one read-and-write of the index."""
    store = ImageStore()
    other = store.import_rootfs(busybox_tar, "other:1", ['CMD ["true"]'])
    updates = []
    update_db = ImageStore.update_db
    monkeypatch.setattr(ImageStore, "update_db", lambda self: updates.append(1) or update_db(self))
    lines, _ = prune(store, everything=True)
    assert updates == [1, 1]  # the removals, then gc's layer sizes
    assert sorted(line for line in lines if line[1] in (busybox_image.id, other.id)) == sorted(
        [("Deleted", busybox_image.id), ("Deleted", other.id)])
    assert lines[-len(released(other)):] == released(other) and len(lines) == 4 + len(released(other))
    assert store.read_db()["images"] == {}


def test_gc_with_no_layer_to_drop_leaves_the_index_unwritten(busybox_image, monkeypatch) -> None:
    from composer.engine.images.catalog import gc

    store = ImageStore()
    updates = []
    update_db = ImageStore.update_db
    monkeypatch.setattr(ImageStore, "update_db", lambda self: updates.append(1) or update_db(self))
    before = store.read_db()
    gc(store, frozenset())
    assert updates == [] and store.read_db() == before  # busybox's layers are all in use
    remove(store, "busybox", usage=ContainerUsage({}))
    gc(store, frozenset())
    assert updates == [1, 1] and store.read_db()["layers"] == {}  # the rm, then gc's layer sizes


def test_rm_that_only_untags_collects_no_garbage(busybox_image, composer) -> None:
    """`image rm` of one of two names only untags: no gc runs (an unreferenced blob stays); a
    removal that deletes the image collects it."""
    store = ImageStore()
    tag(store, "busybox", "mine:1")
    orphan = store.blobs.put(b"nobody's blob")
    untagged = composer("image", "rm", "mine:1")
    assert untagged.returncode == 0 and untagged.stdout == "Untagged: mine:1\n"
    assert store.blobs.exists(orphan)
    deleted = composer("image", "rm", "busybox")
    assert deleted.returncode == 0 and f"Deleted: {busybox_image.id}" in deleted.stdout
    assert not store.blobs.exists(orphan)
