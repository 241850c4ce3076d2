"""The bearer-token dance (Docker Hub, GHCR) against a scripted transport."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest

from composer.engine.images.auth import Credentials
from composer.engine.images.registry import RegistryClient
from composer.errors import RegistryError

MANIFEST = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/token":
        expected = "Basic " + base64.b64encode(b"me:pw").decode()
        if request.headers.get("Authorization") != expected:
            return httpx.Response(401)
        assert request.url.params["scope"] == "repository:org/app:pull"
        assert request.url.params["service"] == "registry.example"
        return httpx.Response(200, json={"token": "tok-1"})
    if request.headers.get("Authorization") != "Bearer tok-1":
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="https://auth.example/token",'
                                            'service="registry.example",scope="repository:org/app:pull"'})
    return httpx.Response(200, content=MANIFEST,
                          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})


def test_token_is_fetched_once_and_reused() -> None:
    calls = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return handler(request)

    with RegistryClient("registry.example", credentials=Credentials("me", "pw"),
                        transport=httpx.MockTransport(counting)) as client:
        body, media_type, digest = client.get_manifest("org/app", "1", ["application/vnd.oci.image.manifest.v1+json"])
        client.get_manifest("org/app", "1", ["application/vnd.oci.image.manifest.v1+json"])
    assert body == MANIFEST and digest == "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    assert media_type == "application/vnd.oci.image.manifest.v1+json"
    assert calls == ["/v2/org/app/manifests/1", "/token", "/v2/org/app/manifests/1", "/v2/org/app/manifests/1"]


def test_wrong_password_is_reported() -> None:
    with RegistryClient("registry.example", credentials=Credentials("me", "bad"),
                        transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(RegistryError, match="wrong user name or password"):
            client.get_manifest("org/app", "1", ["application/vnd.oci.image.manifest.v1+json"])
