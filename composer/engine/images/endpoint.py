"""Where a registry answers (plain HTTP or TLS) and a lean manifest ``HEAD`` for warm re-pulls.

This module stays cheap to import (no httpx, no ssl until a TLS registry is asked): a warm
``image pull`` of an unchanged image is one ``HEAD`` request whose ``Docker-Content-Digest``
header is compared with the store, so its cost is mostly the process start-up.
"""

from __future__ import annotations

import os
import re
import socket

INSECURE_ENV = "COMPOSER_INSECURE_REGISTRIES"
DOCKER_HUB_HOST = "registry-1.docker.io"
HEAD_TIMEOUT = 5.0
MAX_HEADER_BYTES = 64 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def is_insecure(domain: str) -> bool:
    """Plain HTTP for loopback registries and those listed in ``$COMPOSER_INSECURE_REGISTRIES``."""
    listed = {item.strip() for item in os.environ.get(INSECURE_ENV, "").split(",") if item.strip()}
    if domain in listed:
        return True
    host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
    host = host.strip("[]")
    if host in ("localhost", "::1") or (host.startswith("127.") and host.replace(".", "").isdigit()):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="..",service=".."`` -> ("bearer", {"realm": .., "service": ..})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def base_url(domain: str) -> str:
    """``http://127.0.0.1:5000`` or ``https://ghcr.io`` (Docker Hub's API host for docker.io)."""
    host = DOCKER_HUB_HOST if domain == "docker.io" else domain
    return f"{'http' if is_insecure(domain) else 'https'}://{host}"


def _split_host(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    host, colon, port = netloc.partition(":")
    return host, int(port) if colon else default_port


def _connect(url: str, timeout: float) -> socket.socket:
    scheme, _, netloc = url.partition("://")
    host, port = _split_host(netloc, 443 if scheme == "https" else 80)
    # bytes: a str host would import the idna codec (~4 ms) just to encode an ASCII name
    sock = socket.create_connection((host.encode("ascii"), port), timeout=timeout)
    if scheme != "https":
        return sock
    import ssl

    try:
        return ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(8192)
        if not chunk or len(data) > MAX_HEADER_BYTES:
            raise OSError("incomplete response head")
        data += chunk
    return data.partition(b"\r\n\r\n")[0]


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """(status, lower-cased headers) of an HTTP/1.x response head; ValueError when malformed."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 response: {lines[0]!r}")
    status = int(rest.partition(" ")[0])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return status, headers


def head_manifest(domain: str, path: str, reference: str, accept: str, authorization: str | None = None,
                  timeout: float = HEAD_TIMEOUT) -> tuple[int, dict[str, str]] | None:
    """(status, headers) of ``HEAD /v2/<path>/manifests/<reference>``; None when it failed."""
    url = base_url(domain)
    netloc = url.partition("://")[2]
    extra = f"Authorization: {authorization}\r\n" if authorization else ""
    request = (f"HEAD /v2/{path}/manifests/{reference} HTTP/1.1\r\nHost: {netloc}\r\n{extra}"
               f"Accept: {accept}\r\nUser-Agent: composer\r\nConnection: close\r\n\r\n")
    try:
        with _connect(url, timeout) as sock:
            sock.sendall(request.encode("latin-1"))
            return parse_head(_read_head(sock))
    except (OSError, ValueError, UnicodeError):
        return None


def fetch_token(realm: str, service: str, scope: str, authorization: str | None,
                timeout: float = HEAD_TIMEOUT) -> str | None:
    """A bearer token from the token service ``realm`` (http.client: no httpx); None when refused."""
    import http.client
    import json
    from urllib.parse import quote, urlsplit

    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = f"{parts.query}&" if parts.query else ""
    target = f"{parts.path or '/'}?{query}service={quote(service)}&scope={quote(scope)}"
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=timeout)
    try:
        connection.request("GET", target, headers={"Authorization": authorization} if authorization else {})
        response = connection.getresponse()
        body = json.loads(response.read(MAX_HEADER_BYTES)) if response.status == 200 else {}
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        return token if isinstance(token, str) and token.isprintable() and " " not in token else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
