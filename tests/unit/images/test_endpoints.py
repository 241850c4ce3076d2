"""Which endpoints a registry is tried at (scheme, TLS verification), as docker chooses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.engine.images.endpoint import INSECURE_ENV, endpoints
from composer.engine.images.tls import certs_dir, ssl_context
from composer.errors import RegistryError
from composer.settings import DOCKER_DAEMON_CONFIG_ENV, REGISTRY_CERTS_ENV


@pytest.fixture(autouse=True)
def private_certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(REGISTRY_CERTS_ENV, str(tmp_path))
    monkeypatch.setenv(DOCKER_DAEMON_CONFIG_ENV, str(tmp_path / "daemon.json"))
    return tmp_path


def test_public_registries_are_verified_tls() -> None:
    assert endpoints("ghcr.io") == [("https://ghcr.io", True)]
    assert endpoints("docker.io") == [("https://registry-1.docker.io", True)]


def test_loopback_tries_plain_http_then_unverified_tls() -> None:
    assert endpoints("127.0.0.1:5000") == [("http://127.0.0.1:5000", False), ("https://127.0.0.1:5000", False)]
    assert endpoints("localhost:5000")[0] == ("http://localhost:5000", False)


def test_listed_insecure_tries_unverified_tls_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(INSECURE_ENV, "reg.lan:5000, other")
    assert endpoints("reg.lan:5000") == [("https://reg.lan:5000", False), ("http://reg.lan:5000", False)]


def test_docker_daemon_json_insecure_registries_count(private_certs: Path) -> None:
    (private_certs / "daemon.json").write_text('{"insecure-registries": ["reg.lan:5000", "10.1.0.0/16"]}')
    assert endpoints("reg.lan:5000") == [("https://reg.lan:5000", False), ("http://reg.lan:5000", False)]
    assert endpoints("10.1.2.3:5000")[0] == ("https://10.1.2.3:5000", False)
    assert endpoints("10.2.0.1:5000") == [("https://10.2.0.1:5000", True)]
    assert endpoints("reg.lan") == [("https://reg.lan", True)]


def test_an_unreadable_daemon_json_is_ignored(private_certs: Path) -> None:
    (private_certs / "daemon.json").write_text("{not json")
    assert endpoints("reg.lan:5000") == [("https://reg.lan:5000", True)]


def test_a_certs_dir_means_verified_tls_first_even_on_loopback(private_certs: Path) -> None:
    (private_certs / "127.0.0.1:5000").mkdir()
    assert certs_dir("127.0.0.1:5000") == str(private_certs / "127.0.0.1:5000")
    assert endpoints("127.0.0.1:5000") == [("https://127.0.0.1:5000", True), ("http://127.0.0.1:5000", False)]
    (private_certs / "ghcr.io").mkdir()
    assert endpoints("ghcr.io") == [("https://ghcr.io", True)]
    assert certs_dir("../etc") is None and certs_dir("a/b") is None


def test_a_client_certificate_without_its_key_is_named(private_certs: Path) -> None:
    (private_certs / "reg.lan").mkdir()
    (private_certs / "reg.lan" / "client.cert").write_text("x")
    with pytest.raises(RegistryError, match="client.cert has no key"):
        ssl_context("reg.lan", True)


def test_daemon_json_is_read_once_per_process(private_certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    daemon = private_certs / "daemon.json"
    daemon.write_text('{"insecure-registries": ["reg.lan:5000"]}')
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    for _ in range(3):  # a warm pull's HEAD, token and second HEAD each ask
        assert endpoints("reg.lan:5000")[0] == ("https://reg.lan:5000", False)
    assert opened.count(str(daemon)) == 1
