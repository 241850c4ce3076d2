"""``pull_policy: every_<duration>`` against a real registry: ``up`` pulls a missing image and
records when; it pulls again only once that pull is older than the window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from composer.engine.images.push import push
from composer.engine.images.store import ImageStore

pytestmark = [pytest.mark.root]


def _compose(project: Path, state_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "composer", *args], cwd=project, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def _age_last_pull(name: str, seconds: float) -> None:
    """Pretend the last pull of ``name`` happened ``seconds`` earlier than recorded."""
    store = ImageStore()
    image_id, when = store.read_db()["pulled"][name]
    store.record_pull(name, image_id, when=when - seconds)


def test_every_window_pulls_missing_then_only_when_stale(busybox_image, registry, docker_config, state_root,
                                                         tmp_path: Path) -> None:
    reference = f"{registry.host}/{uuid.uuid4().hex[:8]}/fresh:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    push(reference)
    with ImageStore().update_db() as db:
        del db["refs"][reference]  # present in the registry only
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    image: {reference}\n    pull_policy: every_2h\n    network_mode: none\n"
        "    command: ['true']\n")
    try:
        first = _compose(tmp_path, state_root, "up", "-d")
        assert first.returncode == 0 and "Pulled" in first.stderr, first.stderr
        assert reference in ImageStore().read_db()["pulled"]
        _age_last_pull(reference, 3600)  # an hour old: inside the window
        fresh = _compose(tmp_path, state_root, "up", "-d")
        assert fresh.returncode == 0 and "Pull" not in fresh.stderr, fresh.stderr
        _age_last_pull(reference, 2 * 3600)  # three hours old now
        before = time.time()
        stale = _compose(tmp_path, state_root, "up", "-d")
        assert stale.returncode == 0 and "Pulled" in stale.stderr, stale.stderr
        store = ImageStore()
        assert store.last_pull(store.read_db(), reference) >= before  # the window starts again
    finally:
        _compose(tmp_path, state_root, "down")
