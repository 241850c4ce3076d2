"""Pull and push against a real registry (Debian's docker-registry), checked with skopeo."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from composer.engine.images import auth
from composer.engine.images.pull import pull
from composer.engine.images.push import push
from composer.engine.images.store import ImageStore
from composer.errors import ImageNotFound, LayerError, RegistryError
from tests.fixtures.registry import DroppingProxy, free_port

pytestmark = [pytest.mark.root]


def skopeo(*args: str) -> str:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def assert_empty(store: ImageStore) -> None:
    """Nothing visible was left behind: no image, blob or snapshot."""
    assert store.read_db()["images"] == {}
    for sub in ("blobs/sha256", "snapshots"):
        path = store.root / sub
        assert not path.exists() or list(path.iterdir()) == []


@pytest.fixture
def pushed(busybox_image, registry, docker_config) -> tuple[str, str]:
    """busybox pushed to the plain registry: (reference, manifest digest)."""
    reference = f"{registry.host}/{unique('busybox')}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    return reference, push(reference).digest


def test_push_is_read_back_by_skopeo(pushed, tmp_path: Path) -> None:
    reference, digest = pushed
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{reference}"))
    assert info["Digest"] == digest
    skopeo("copy", "--src-tls-verify=false", f"docker://{reference}", f"dir:{tmp_path / 'copy'}")
    assert (tmp_path / "copy/manifest.json").exists()


def test_pull_into_a_fresh_store_and_warm_repull(pushed, busybox_image, tmp_path: Path) -> None:
    reference, digest = pushed
    other = ImageStore(tmp_path / "other")
    events = []
    result = pull(reference, store=other, on_event=events.append)
    assert result.updated and result.image_id == busybox_image.id and result.digest == digest
    assert any(event.status == "Pull complete" for event in events)
    assert (other.resolve(reference).layer_dirs[0] / "bin/busybox").is_file()
    started = time.perf_counter()
    again = pull(reference, store=other)
    assert not again.updated and time.perf_counter() - started < 0.1


@pytest.mark.slow
def test_skopeo_push_compressed_then_pull(debian_tarball: Path, registry, tmp_path: Path, state_root) -> None:
    source = ImageStore()
    image = source.import_rootfs(debian_tarball, "debian:bookworm", ['CMD ["bash"]'])
    reference = f"{registry.host}/{unique('debian')}:bookworm"
    skopeo("copy", "--dest-tls-verify=false", "--dest-compress-format", "zstd", "--dest-compress",
           f"oci:{source.root}:bookworm", f"docker://{reference}")
    other = ImageStore(tmp_path / "other")
    result = pull(reference, store=other)
    assert result.image_id == image.id
    (layer,) = other.resolve(reference).layer_dirs
    assert (layer / "usr/bin/dpkg").is_file()


def test_manifest_list_picks_the_platform(pushed, registry, tmp_path: Path) -> None:
    from composer.engine.images.registry import RegistryClient

    reference, digest = pushed
    name, tag = reference.split("/", 1)[1].rsplit(":", 1)
    with RegistryClient(registry.host) as client:
        body, media_type, _ = client.get_manifest(name, digest, ["application/vnd.oci.image.manifest.v1+json"])
        entry = {"mediaType": media_type, "digest": digest, "size": len(body)}
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {**entry, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {**entry, "platform": {"os": "linux", "architecture": "amd64"}}]}
        client.put_manifest(name, "multi", json.dumps(index).encode(), index["mediaType"])
    other = ImageStore(tmp_path / "other")
    multi = f"{registry.host}/{name}:multi"
    assert pull(multi, store=other).image_id == pull(reference, store=other).image_id
    with pytest.raises(ImageNotFound, match="linux/s390x"):
        pull(multi, store=ImageStore(tmp_path / "third"), platform="linux/s390x")


def test_chunked_push(busybox_image, registry, docker_config) -> None:
    reference = f"{registry.host}/{unique('chunked')}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    result = push(reference, chunk_size=256 * 1024)
    assert json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{reference}"))["Digest"] == result.digest


def test_corrupt_blob_leaves_no_trace(pushed, registry, busybox_image, tmp_path: Path) -> None:
    reference, _ = pushed
    layer = json.loads(ImageStore().blobs.read(
        ImageStore().read_db()["images"][busybox_image.id]["manifest"]))["layers"][0]["digest"]
    blob = registry.blob_path(layer)
    original = blob.read_bytes()
    try:
        blob.write_bytes(original[:-4] + b"evil")
        other = ImageStore(tmp_path / "other")
        with pytest.raises(LayerError, match="digest mismatch"):
            pull(reference, store=other)
        assert_empty(other)
    finally:
        blob.write_bytes(original)


def test_dropped_connection_is_resumed(pushed, registry, tmp_path: Path, monkeypatch) -> None:
    reference, digest = pushed
    path = reference.split("/", 1)[1]
    proxy = DroppingProxy(registry.host, after=300_000, cuts=2)
    try:
        result = pull(f"{proxy.host}/{path}", store=ImageStore(tmp_path / "resumed"))
        assert result.digest == digest and proxy.cuts == 0
    finally:
        proxy.close()
    always = DroppingProxy(registry.host, after=300_000, cuts=1000)
    try:
        other = ImageStore(tmp_path / "failed")
        with pytest.raises(RegistryError, match="failed"):
            pull(f"{always.host}/{path}", store=other)
        assert_empty(other)
    finally:
        always.close()


def test_errors_a_person_can_act_on(registry, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    with pytest.raises(ImageNotFound, match="not found"):
        pull(f"{registry.host}/{unique('missing')}:v1", store=store)
    with pytest.raises(RegistryError, match="unreachable"):
        pull(f"127.0.0.1:{free_port()}/x:v1", store=store)
    assert_empty(store)


def test_basic_auth_registry(busybox_image, auth_registry, docker_config) -> None:
    reference = f"{auth_registry.host}/{unique('private')}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    with pytest.raises(RegistryError, match="authentication required") as caught:
        push(reference)
    assert "composer login" in str(caught.value)
    auth.store(auth_registry.host, auth.Credentials(auth_registry.user, "wrong"))
    with pytest.raises(RegistryError, match="wrong user name or password"):
        push(reference)
    auth.store(auth_registry.host, auth.Credentials(auth_registry.user, auth_registry.password))
    result = push(reference)
    info = json.loads(skopeo("inspect", "--tls-verify=false", "--creds",
                             f"{auth_registry.user}:{auth_registry.password}", f"docker://{reference}"))
    assert info["Digest"] == result.digest


def test_second_repository_mounts_blobs(pushed, registry, busybox_image) -> None:
    reference, _ = pushed
    second = f"{registry.host}/{unique('mounted')}:v1"
    with ImageStore().update_db() as db:
        db["refs"][second] = busybox_image.id
    events = []
    push(second, on_event=events.append)
    assert any(event.status.startswith("Mounted from") for event in events)
    assert not any(event.status == "Pushing" for event in events)
    assert json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{second}"))["Name"].endswith(
        second.split("/", 1)[1].rsplit(":", 1)[0])
