"""Image tests never read the host's registry configuration: docker's ``daemon.json`` (insecure
registries), ``certs.d`` and ``$COMPOSER_INSECURE_REGISTRIES`` could otherwise change which
endpoints are tried, and so a test's result."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from composer.engine.images.endpoint import INSECURE_ENV, forget_endpoints
from composer.settings import DOCKER_DAEMON_CONFIG_ENV, REGISTRY_CERTS_ENV


@pytest.fixture(autouse=True)
def private_registry_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No daemon.json, no certs.d, no listed insecure registries, no endpoint remembered."""
    empty = tmp_path / "registry-config"  # never made: nothing configured
    monkeypatch.setenv(DOCKER_DAEMON_CONFIG_ENV, str(empty / "daemon.json"))
    monkeypatch.setenv(REGISTRY_CERTS_ENV, str(empty / "certs.d"))
    monkeypatch.delenv(INSECURE_ENV, raising=False)
    forget_endpoints()  # a registry of an earlier test may have had this port
    yield
    forget_endpoints()

