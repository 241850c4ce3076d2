"""Two pulls of the same image at once download and unpack each layer once."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from composer.engine.images.pull import pull
from composer.engine.images.push import push
from composer.engine.images.store import ImageStore

pytestmark = [pytest.mark.root]


def test_concurrent_pulls_share_the_work(busybox_image, registry, tmp_path: Path, docker_config) -> None:
    reference = f"{registry.host}/{uuid.uuid4().hex[:8]}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    push(reference)
    store = ImageStore(tmp_path / "shared")
    statuses: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pull(reference, store=store, on_event=lambda event: statuses.append(event.status))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert statuses.count("Verifying Checksum") == 1
    assert len(list((store.root / "snapshots").iterdir())) == 1
    assert store.resolve(reference).id == busybox_image.id
