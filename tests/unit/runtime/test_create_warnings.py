"""docker's create-time warnings come from the runtime's create path (compose's creates too)."""

from __future__ import annotations

import json
import os

from composer.engine.runtime import cgroups, containers
from composer.engine.runtime.config import ContainerConfig, Resources


def _config(name: str, resources: Resources) -> ContainerConfig:
    return ContainerConfig(id=os.urandom(32).hex(), name=name, image="busybox", image_id="sha256:x", layers=[],
                           args=["true"], env=[], resources=resources)


def test_create_drops_what_the_host_cannot_apply_and_returns_dockers_warnings(state_root, monkeypatch):
    monkeypatch.setattr(cgroups, "supports_swap_limit", lambda *args: False)
    monkeypatch.setattr(cgroups, "supports_io_weight", lambda *args: False)
    config = _config("limited", Resources(memory=64 << 20, memory_swap=128 << 20, blkio_weight=300))
    containers.create(config)
    assert config.warnings == (cgroups.SWAP_WARNING, cgroups.BLKIO_WEIGHT_WARNING)
    saved = json.loads((state_root / "containers" / config.id / "config.json").read_text())
    assert (saved["resources"]["memory_swap"], saved["resources"]["blkio_weight"]) == (-1, 0)
    assert "warnings" not in saved
    plain = _config("plain", Resources(memory=64 << 20))
    containers.create(plain)
    assert plain.warnings == ()
