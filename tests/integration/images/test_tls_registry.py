"""Pull and push over TLS: a real docker-registry with a certificate from a test CA (openssl).

composer trusts it through ``certs.d/<host:port>/ca.crt`` as docker does (a private certs
directory through ``$COMPOSER_REGISTRY_CERTS_DIR``), and without one as an insecure (loopback)
registry: TLS unverified, as docker treats 127.0.0.0/8.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from composer.engine.images.pull import pull
from composer.engine.images.push import push
from composer.engine.images.store import ImageStore
from composer.engine.images.warm import warm_pull
from composer.errors import RegistryError
from composer.settings import REGISTRY_CERTS_ENV
from tests.fixtures.registry import Registry, stop_registry
from tests.integration.images.tlscerts import make_ca, start_tls_registry
from tests.integration.images.warmcheck import warm_pull_modules

pytestmark = [pytest.mark.root]


def serve(factory: pytest.TempPathFactory, client_certs: bool = False) -> Iterator[tuple[Registry, Path]]:
    """A TLS registry and the directory of its CA (``test-ca.crt``), a client pair and another CA."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (run `make setup`)")
    work = factory.mktemp("tls-registry")
    make_ca(work, "other")
    running, process = start_tls_registry(work, client_certs)
    try:
        yield running, work
    finally:
        stop_registry(process)


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Path]]:
    """A TLS registry with a certificate of the test CA."""
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def mtls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Path]]:
    """A TLS registry that demands a client certificate of its CA."""
    yield from serve(tmp_path_factory, client_certs=True)


@pytest.fixture
def certs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private certs.d (empty: add ``<host:port>/ca.crt``)."""
    monkeypatch.setenv(REGISTRY_CERTS_ENV, str(tmp_path / "certs.d"))
    return Path(os.environ[REGISTRY_CERTS_ENV])


def trust(certs_dir: Path, host: str, ca: Path) -> None:
    (certs_dir / host).mkdir(parents=True)
    shutil.copy(ca, certs_dir / host / "ca.crt")


@pytest.fixture
def pushed_tls(tls_registry, certs_dir, busybox_image, docker_config) -> str:
    """busybox pushed over verified TLS to the TLS registry: its reference."""
    registry, work = tls_registry
    trust(certs_dir, registry.host, work / "test-ca.crt")
    reference = f"{registry.host}/busybox-{uuid.uuid4().hex[:8]}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    push(reference)
    return reference


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs the lean HEAD requests connect to (``endpoint._connect``), in order."""
    from composer.engine.images import endpoint

    made: list[str] = []
    real = endpoint._connect

    def counting(domain: str, url: str, verify: bool, timeout: float):  # type: ignore[no-untyped-def]
        made.append(url)
        return real(domain, url, verify, timeout)

    monkeypatch.setattr(endpoint, "_connect", counting)
    return made


def test_cold_and_warm_pull_over_verified_tls(pushed_tls, busybox_image, tmp_path: Path, connections) -> None:
    other = ImageStore(tmp_path / "other")
    result = pull(pushed_tls, store=other)
    assert result.updated and result.image_id == busybox_image.id
    assert (other.resolve(pushed_tls).layer_dirs[0] / "bin/busybox").is_file()
    # the warm fast path (one HEAD over TLS, no httpx) sees it unchanged in the test's store
    connections.clear()
    assert warm_pull(pushed_tls) is not None
    assert connections == [f"https://{pushed_tls.split('/')[0]}"]  # certs.d: TLS first, no plain HTTP try
    assert warm_pull_modules(pushed_tls) == "httpx: False, typer: False, typing: False"


def test_an_untrusted_certificate_is_refused(pushed_tls, tls_registry, certs_dir, tmp_path: Path) -> None:
    registry, work = tls_registry
    shutil.copy(work / "other-ca.crt", certs_dir / registry.host / "ca.crt")
    other = ImageStore(tmp_path / "other")
    with pytest.raises(RegistryError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed") as refused:
        pull(pushed_tls, store=other)
    assert f"{certs_dir}/{registry.host}/ca.crt" in refused.value.hint
    assert other.read_db()["images"] == {}
    assert warm_pull(pushed_tls) is None  # the warm path refuses it too (the full pull reports it)


def test_insecure_loopback_registry_without_certs(pushed_tls, tls_registry, certs_dir, tmp_path: Path,
                                                  connections) -> None:
    registry, _ = tls_registry
    shutil.rmtree(certs_dir / registry.host)  # no certs.d: loopback is insecure, TLS unverified
    other = ImageStore(tmp_path / "other")
    assert pull(pushed_tls, store=other).updated
    assert warm_pull(pushed_tls) is not None
    # the pull's client found TLS after plain HTTP's 400; the warm HEAD then goes straight to TLS
    http, https = f"http://{registry.host}", f"https://{registry.host}"
    assert connections == [http, https, https]


def test_a_bad_certs_dir_file_is_named(pushed_tls, tls_registry, certs_dir, tmp_path: Path) -> None:
    registry, _ = tls_registry
    (certs_dir / registry.host / "ca.crt").write_text("not a certificate\n")
    with pytest.raises(RegistryError, match="ca.crt"):
        pull(pushed_tls, store=ImageStore(tmp_path / "other"))
    assert warm_pull(pushed_tls) is None  # the fast path leaves the report to the full pull


def test_client_certificate_from_certs_dir(mtls_registry, certs_dir, busybox_image, docker_config,
                                           tmp_path: Path) -> None:
    registry, work = mtls_registry
    trust(certs_dir, registry.host, work / "test-ca.crt")
    reference = f"{registry.host}/busybox-{uuid.uuid4().hex[:8]}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    with pytest.raises(RegistryError, match="TLS with registry") as refused:  # no client certificate
        push(reference)
    assert "client.cert" in refused.value.hint
    shutil.copy(work / "client.crt", certs_dir / registry.host / "client.cert")
    shutil.copy(work / "client.key", certs_dir / registry.host / "client.key")
    push(reference)
    assert pull(reference, store=ImageStore(tmp_path / "other")).updated
    assert warm_pull(reference) is not None


def test_a_registry_that_moves_to_tls_and_back_is_found_again(busybox_image, docker_config, tmp_path: Path) -> None:
    """The endpoint a process chose for an insecure registry (http, then remembered) is probed
    again when it fails: the same registry restarted with TLS on its port, then without."""
    from tests.fixtures.registry import start_registry

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (run `make setup`)")
    registry, process = start_registry(tmp_path / "registry")
    reference = f"{registry.host}/moving:v1"
    try:
        with ImageStore().update_db() as db:
            db["refs"][reference] = busybox_image.id
        push(reference)  # over plain HTTP: remembered for this process
    finally:
        stop_registry(process)
    _, process = start_tls_registry(tmp_path, host=registry.host)
    try:
        assert pull(reference, store=ImageStore(tmp_path / "after-tls")).image_id == busybox_image.id
    finally:
        stop_registry(process)
    _, process = start_registry(tmp_path / "registry", host=registry.host)
    try:
        assert pull(reference, store=ImageStore(tmp_path / "after-plain")).image_id == busybox_image.id
    finally:
        stop_registry(process)
