"""Token auth for real: docker-registry with an ``auth: token`` realm served by a tiny JWT issuer.

The issuer is written here: it checks basic credentials, grants the scope asked for, and signs
an RS256 JWT (``x5c`` header with its self-signed certificate, the registry's root bundle) with
``openssl dgst``. The registry verifies every token, so composer's bearer dance is proven end to end.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from composer.engine.images import auth
from composer.engine.images.pull import pull
from composer.engine.images.push import push
from composer.engine.images.store import ImageStore
from composer.errors import RegistryError
from tests.fixtures.registry import start_registry, stop_registry
from tests.integration.images.warmcheck import warm_pull_modules

pytestmark = [pytest.mark.root]
SERVICE, ISSUER, USER, PASSWORD = "composer-test", "composer-test-issuer", "alice", "token-pass"
REFRESH_TOKEN = "refresh-" + uuid.uuid4().hex


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """Signs registry tokens for ``USER``/``PASSWORD`` (RS256, openssl); counts what it issued."""

    def __init__(self, workdir: Path) -> None:
        self.key, self.cert = workdir / "key.pem", workdir / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=composer-test-token"],
                       check=True, capture_output=True)
        lines = self.cert.read_text().strip().splitlines()
        self.x5c = "".join(line for line in lines if not line.startswith("-----"))
        self.issued: list[str] = []

    def token(self, scope: str) -> str:
        access = []
        for item in filter(None, scope.split(" ")):
            kind, name, actions = item.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), check=True, capture_output=True).stdout
        self.issued.append(scope)
        return f"{signing_input}.{b64url(signature)}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                query = parse_qs(urlparse(self.path).query)
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected or query.get("service") != [SERVICE]:
                    self.send_response(401)
                    self.end_headers()
                    return
                self.answer(issuer.token(" ".join(query.get("scope", []))))

            def do_POST(self) -> None:  # noqa: N802 - an OAuth2 refresh-token grant
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [REFRESH_TOKEN]:
                    self.send_response(401)
                    self.end_headers()
                    return
                self.answer(issuer.token(" ".join(form.get("scope", []))))

            def answer(self, token: str) -> None:
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TokenIssuer]]:
    """(registry host, issuer): a registry that accepts only tokens from the issuer."""
    workdir = tmp_path_factory.mktemp("token-registry")
    issuer = TokenIssuer(workdir)
    server = ThreadingHTTPServer(("127.0.0.1", 0), issuer.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        realm = f"http://127.0.0.1:{server.server_address[1]}/token"
        running, process = start_registry(workdir / "registry", auth_config=[
            "auth:", "  token:", f"    realm: {realm}", f"    service: {SERVICE}", f"    issuer: {ISSUER}",
            f"    rootcertbundle: {issuer.cert}"])
        try:
            yield running.host, issuer
        finally:
            stop_registry(process)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_push_and_pull_with_real_tokens(token_registry, busybox_image, docker_config, tmp_path: Path) -> None:
    host, issuer = token_registry
    auth.store(host, auth.Credentials(USER, PASSWORD))
    reference = f"{host}/team/tok-{uuid.uuid4().hex[:8]}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    digest = push(reference).digest
    assert any(scope.endswith(":pull,push") for scope in issuer.issued)
    result = pull(reference, store=ImageStore(tmp_path / "other"))
    assert result.updated and result.digest == digest and result.image_id == busybox_image.id
    assert pull(reference, store=ImageStore(tmp_path / "other")).updated is False
    warm = warm_pull_modules(reference, {"COMPOSER_ROOT": str(tmp_path / "other-root")})  # a cold pull first
    modules = warm_pull_modules(reference, {"COMPOSER_ROOT": str(tmp_path / "other-root")})
    assert modules.startswith("httpx: False, typer: False"), warm  # the warm one answers the challenge itself


def test_wrong_password_and_anonymous_are_refused(token_registry, busybox_image, docker_config,
                                                  tmp_path: Path) -> None:
    host, _ = token_registry
    reference = f"{host}/team/nobody:v1"
    with pytest.raises(RegistryError, match="authentication required"):
        pull(reference, store=ImageStore(tmp_path / "anonymous"))
    auth.store(host, auth.Credentials(USER, "wrong"))
    with pytest.raises(RegistryError, match="wrong user name or password"):
        pull(reference, store=ImageStore(tmp_path / "wrong"))
    assert not (tmp_path / "wrong/images.json").exists()


def test_identity_token_is_exchanged_with_an_oauth_refresh_grant(token_registry, busybox_image, docker_config,
                                                                 tmp_path: Path) -> None:
    host, issuer = token_registry
    auth.store(host, auth.Credentials(USER, PASSWORD))
    reference = f"{host}/team/refresh-{uuid.uuid4().hex[:8]}:v1"
    with ImageStore().update_db() as db:
        db["refs"][reference] = busybox_image.id
    push(reference)
    (docker_config / "config.json").write_text(json.dumps({"auths": {host: {"identitytoken": REFRESH_TOKEN}}}))
    assert pull(reference, store=ImageStore(tmp_path / "other")).image_id == busybox_image.id
