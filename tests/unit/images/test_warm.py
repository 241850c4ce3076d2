"""The warm re-pull: a lean manifest HEAD (raw socket) and the store comparison, against a loopback server."""

from __future__ import annotations

import base64
import json
import socket
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

from composer.engine.images import endpoint
from composer.engine.images.endpoint import choose_endpoint, head_manifest, is_insecure, parse_head
from composer.engine.images.warm import warm_pull

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
IMAGE_ID = "sha256:" + "11" * 32
CHAIN = "sha256:" + "22" * 32


class HeadServer:
    """Answers every connection on 127.0.0.1 with ``head`` (or ``head(request)``) and records the requests
    (a TLS hello too, answered at once as a plain server would: the handshake fails)."""

    def __init__(self, head: bytes | Callable[[bytes], bytes]) -> None:
        self.head = head if callable(head) else lambda _: head
        self.requests: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with client:
                data = b""
                while b"\r\n\r\n" not in data and not data.startswith(b"\x16") and (chunk := client.recv(4096)):
                    data += chunk
                self.requests.append(data)
                client.sendall(self.head(data))

    def close(self) -> None:
        self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._server.close()
        self._thread.join(5)


OK_HEAD = (b"HTTP/1.1 200 OK\r\nDocker-Content-Digest: " + DIGEST.encode() + b"\r\n"
           b"Content-Type: application/vnd.oci.image.manifest.v1+json\r\n\r\n")


@pytest.fixture
def server() -> Iterator[HeadServer]:
    running = HeadServer(OK_HEAD)
    try:
        yield running
    finally:
        running.close()


def write_store(root: Path, name: str, repo_digest: str, snapshot: bool = True) -> None:
    images = root / "images"
    images.mkdir(parents=True)
    record = {"repo_digests": [repo_digest], "chain": [CHAIN], "manifest": DIGEST}
    (images / "images.json").write_text(json.dumps({"refs": {name: IMAGE_ID}, "images": {IMAGE_ID: record},
                                                    "layers": {}}))
    if snapshot:
        (images / "snapshots" / CHAIN[7:]).mkdir(parents=True)


def test_parse_head() -> None:
    status, headers = parse_head(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"x\"\r\nX: a:b")
    assert status == 401 and headers == {"www-authenticate": 'Bearer realm="x"', "x": "a:b"}
    with pytest.raises(ValueError):
        parse_head(b"SSH-2.0-OpenSSH\r\n")


def test_insecure_only_for_loopback_and_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_insecure("localhost:5000") and is_insecure("127.0.0.1:5000") and is_insecure("[::1]:5000")
    assert is_insecure("127.1.2.3")
    assert not is_insecure("127.evil.example:5000") and not is_insecure("ghcr.io")
    monkeypatch.setenv("COMPOSER_INSECURE_REGISTRIES", "registry.local:5000")
    assert is_insecure("registry.local:5000")


def test_head_manifest_sends_one_plain_request(server: HeadServer) -> None:
    status, headers = head_manifest(server.host, "team/app", "v1", "a/b, c/d")
    assert status == 200 and headers["docker-content-digest"] == DIGEST
    (request,) = server.requests
    assert request.startswith(b"HEAD /v2/team/app/manifests/v1 HTTP/1.1\r\n")
    assert f"Host: {server.host}\r\n".encode() in request and b"Accept: a/b, c/d\r\n" in request


def test_head_manifest_unreachable_is_none() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    assert head_manifest(f"127.0.0.1:{port}", "a", "b", "x") is None


def test_an_insecure_registry_is_probed_once_per_process(server: HeadServer) -> None:
    """Every client asks which endpoint to use: one ``HEAD /v2/`` answers them all, and the warm
    HEAD goes to the same endpoint."""
    plain = (f"http://{server.host}", False)
    assert choose_endpoint(server.host) == plain and choose_endpoint(server.host) == plain
    assert head_manifest(server.host, "team/app", "v1", "a/b")[0] == 200
    assert [request.split(b" ")[1] for request in server.requests] == [b"/v2/", b"/v2/team/app/manifests/v1"]


def test_a_remembered_endpoint_that_fails_falls_back(server: HeadServer) -> None:
    endpoint._answered[server.host] = (f"https://{server.host}", False)  # e.g. the registry was TLS before
    assert head_manifest(server.host, "team/app", "v1", "a/b")[0] == 200  # TLS fails, plain HTTP answers
    assert choose_endpoint(server.host) == (f"http://{server.host}", False)
    assert len(server.requests) == 2  # the TLS hello and the HEAD; the choice cost nothing


def test_unchanged_image_is_up_to_date(server: HeadServer, state_root: Path) -> None:
    name = f"{server.host}/team/app:v1"
    write_store(state_root, name, f"{server.host}/team/app@{DIGEST}")
    assert warm_pull(name) == (IMAGE_ID, name, DIGEST)
    assert len(server.requests) == 1


def test_changed_or_incomplete_image_takes_the_full_pull(server: HeadServer, state_root: Path) -> None:
    name = f"{server.host}/team/app:v1"
    write_store(state_root, name, f"{server.host}/team/app@{OTHER}")
    assert warm_pull(name) is None  # the registry has a newer manifest
    (state_root / "images").rename(state_root / "old")
    write_store(state_root, name, f"{server.host}/team/app@{DIGEST}", snapshot=False)
    assert warm_pull(name) is None  # a snapshot is missing
    assert warm_pull(f"{server.host}/team/app:v2") is None  # the tag v2 would have to be moved


def test_unknown_repository_and_digest_references_cost_no_request(server: HeadServer, state_root: Path) -> None:
    write_store(state_root, f"{server.host}/team/app:v1", f"{server.host}/team/app@{DIGEST}")
    assert warm_pull(f"{server.host}/other/app:v1") is None
    by_digest = f"{server.host}/team/app@{DIGEST}"
    assert warm_pull(by_digest) == (IMAGE_ID, by_digest, DIGEST)
    assert server.requests == []


def test_basic_auth_is_answered_with_stored_credentials(state_root: Path, docker_config: Path) -> None:
    from composer.engine.images import auth

    expected = b"Authorization: Basic " + base64.b64encode(b"me:pw") + b"\r\n"
    server = HeadServer(lambda request: OK_HEAD if expected in request else
                        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="r"\r\n\r\n')
    try:
        name = f"{server.host}/team/app:v1"
        write_store(state_root, name, f"{server.host}/team/app@{DIGEST}")
        assert warm_pull(name) is None  # no credentials: the full pull will say so
        auth.store(server.host, auth.Credentials("me", "pw"))
        assert warm_pull(name) == (IMAGE_ID, name, DIGEST)
        assert [expected in request for request in server.requests] == [False, False, True]
    finally:
        server.close()


def test_a_client_on_a_remembered_endpoint_that_fails_probes_again(server: HeadServer) -> None:
    """The registry was TLS when this process chose (remembered); it serves plain HTTP now: the
    client's first request fails, the endpoints are probed again and the request goes to HTTP."""
    from composer.engine.images.registry import RegistryClient

    endpoint._answered[server.host] = (f"https://{server.host}", False)
    with RegistryClient(server.host, use_stored_credentials=False) as client:
        assert client.base == f"https://{server.host}"
        response = client.request("HEAD", "/v2/", scope="")
        assert response.status_code == 200 and client.base == f"http://{server.host}"
    assert choose_endpoint(server.host) == (f"http://{server.host}", False)
