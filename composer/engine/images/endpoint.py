"""Where a registry answers (plain HTTP or TLS) and a lean manifest ``HEAD`` for warm re-pulls.

This module stays cheap to import (no httpx, no ssl until a TLS registry is asked): a warm
``image pull`` of an unchanged image is one ``HEAD`` request whose ``Docker-Content-Digest``
header is compared with the store, so its cost is mostly the process start-up.
"""

from __future__ import annotations

import os
import re
import socket

from composer.errors import ComposerError

INSECURE_ENV = "COMPOSER_INSECURE_REGISTRIES"
DOCKER_HUB_HOST = "registry-1.docker.io"
HEAD_TIMEOUT = 5.0
MAX_HEADER_BYTES = 64 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _host(domain: str) -> str:
    """The host of a registry ``domain`` (host[:port], an IPv6 address in brackets), unbracketed."""
    return (domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain).strip("[]")


def is_loopback(domain: str) -> bool:
    """Whether the registry ``domain`` (host[:port]) is on this machine's loopback."""
    host = _host(domain)
    if host in ("localhost", "::1") or (host.startswith("127.") and host.replace(".", "").isdigit()):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_listed: dict[tuple[str, str], list[str]] = {}


def listed_insecure() -> list[str]:
    """Registries the user calls insecure: ``$COMPOSER_INSECURE_REGISTRIES`` (comma-separated)
    and ``insecure-registries`` of docker's ``daemon.json``, so a docker set-up carries over.

    Read once per process (per variable and path): a pull asks for every request it makes.
    """
    from composer.settings import docker_daemon_config

    key = (os.environ.get(INSECURE_ENV, ""), docker_daemon_config())
    listed = _listed.get(key)
    if listed is not None:
        return listed
    listed = [item.strip() for item in key[0].split(",") if item.strip()]
    try:
        with open(key[1], encoding="utf-8") as handle:
            import json

            entries = json.load(handle).get("insecure-registries") or []
    except (OSError, ValueError, AttributeError):
        entries = []
    listed += [str(entry).strip() for entry in entries if str(entry).strip()]
    _listed[key] = listed
    return listed


def _in_listed_network(domain: str, listed: list[str]) -> bool:
    """Whether ``domain``'s host is an IP address inside one of the listed CIDRs (docker's
    ``insecure-registries: ["10.0.0.0/8"]``); host names are not resolved for this."""
    import ipaddress

    try:
        address = ipaddress.ip_address(_host(domain))
    except ValueError:
        return False
    for entry in listed:
        if "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def is_insecure(domain: str) -> bool:
    """Loopback registries and those listed as insecure (TLS unverified, plain HTTP allowed)."""
    if is_loopback(domain):
        return True
    listed = listed_insecure()
    bare = [entry.removeprefix("http://").removeprefix("https://").rstrip("/") for entry in listed]
    return domain in bare or _in_listed_network(domain, bare)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="..",service=".."`` -> ("bearer", {"realm": .., "service": ..})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def verifies(domain: str) -> bool:
    """Whether TLS to ``domain`` checks its certificate: yes unless insecure without a certs.d."""
    from composer.engine.images.tls import certs_dir

    return not is_insecure(domain) or certs_dir(domain) is not None


def endpoints(domain: str) -> list[tuple[str, bool]]:
    """The (base URL, verify TLS) to try in order, as docker does.

    A secure registry: TLS verified against the system's CAs and its ``certs.d`` ones. An
    insecure registry (loopback, or listed) is also tried over plain HTTP; its TLS is verified
    when it has a ``certs.d`` directory, else not (loopback: HTTP first, the usual local case).
    """
    from composer.engine.images.tls import certs_dir

    host = DOCKER_HUB_HOST if domain == "docker.io" else domain
    https, http = f"https://{host}", f"http://{host}"
    if not is_insecure(domain):
        return [(https, True)]
    if certs_dir(domain) is not None:
        return [(https, True), (http, False)]
    return [(http, False), (https, False)] if is_loopback(domain) else [(https, False), (http, False)]


_answered: dict[str, tuple[str, bool]] = {}  # domain -> the endpoint that answered in this process


def _ordered(domain: str) -> list[tuple[str, bool]]:
    """:func:`endpoints`, the one that answered before in this process first (when still a candidate)."""
    candidates = endpoints(domain)
    known = _answered.get(domain)
    return [known, *(c for c in candidates if c != known)] if known in candidates else candidates


def forget_endpoints(domain: str | None = None) -> None:
    """Forget which endpoint of ``domain`` (of every registry: None) answered: the next choice
    probes again (the registry moved to TLS or back, or restarted on the same port)."""
    if domain is None:
        _answered.clear()
    else:
        _answered.pop(domain, None)


def base_url(domain: str) -> str:
    """The first endpoint's URL: ``http://127.0.0.1:5000`` or ``https://ghcr.io``."""
    return endpoints(domain)[0][0]


def _split_host(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    host, colon, port = netloc.partition(":")
    return host, int(port) if colon else default_port


def _connect(domain: str, url: str, verify: bool, timeout: float) -> socket.socket:
    scheme, _, netloc = url.partition("://")
    host, port = _split_host(netloc, 443 if scheme == "https" else 80)
    # bytes: a str host would import the idna codec (~4 ms) just to encode an ASCII name
    sock = socket.create_connection((host.encode("ascii"), port), timeout=timeout)
    if scheme != "https":
        return sock
    # the TLS Finished record and the request are separate small writes: without NODELAY, Nagle
    # holds the request until the server's delayed ACK (40 ms here)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    from composer.engine.images.tls import ssl_context

    try:
        return ssl_context(domain, verify).wrap_socket(sock, server_hostname=host)
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


def _exchange(domain: str, url: str, verify: bool, request: bytes,
              timeout: float) -> tuple[int, dict[str, str]] | None:
    """Send ``request`` to ``url``: the (status, headers) of the answer, None when none came."""
    try:
        with _connect(domain, url, verify, timeout) as sock:
            sock.sendall(request)
            return parse_head(_read_head(sock))
    except (OSError, ValueError, UnicodeError, ComposerError):
        return None  # ssl.SSLError is an OSError; a bad certs.d file: the full pull reports it


def head(domain: str, target: str, headers: str = "", timeout: float = HEAD_TIMEOUT
         ) -> tuple[str, bool, int, dict[str, str]] | None:
    """(base URL, verify, status, headers) of ``HEAD target`` at the first endpoint that answers.

    A 400 is taken as "wrong protocol" (a TLS server's answer to plain HTTP) and the next
    endpoint is tried; None when none answered.
    """
    for url, verify in _ordered(domain):
        netloc = url.partition("://")[2]
        request = (f"HEAD {target} HTTP/1.1\r\nHost: {netloc}\r\n{headers}"
                   f"User-Agent: composer\r\nConnection: close\r\n\r\n").encode("latin-1")
        answer = _exchange(domain, url, verify, request, timeout)
        if answer is not None and answer[0] != 400:
            _answered[domain] = (url, verify)
            return url, verify, *answer
    return None


def head_manifest(domain: str, path: str, reference: str, accept: str, authorization: str | None = None,
                  timeout: float = HEAD_TIMEOUT) -> tuple[int, dict[str, str]] | None:
    """(status, headers) of ``HEAD /v2/<path>/manifests/<reference>``; None when it failed."""
    extra = f"Authorization: {authorization}\r\n" if authorization else ""
    answer = head(domain, f"/v2/{path}/manifests/{reference}", f"{extra}Accept: {accept}\r\n", timeout)
    return None if answer is None else (answer[2], answer[3])


def choose_endpoint(domain: str, timeout: float = HEAD_TIMEOUT) -> tuple[str, bool]:
    """The (base URL, verify) a client should use: the first that answers ``/v2/`` when several.

    Decided once per process: later clients (and warm HEADs) take the endpoint that answered.
    """
    candidates = _ordered(domain)
    if len(candidates) > 1 and candidates[0] != _answered.get(domain):
        answer = head(domain, "/v2/", timeout=timeout)
        if answer is not None:
            return answer[0], answer[1]
    return candidates[0]


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
    if parts.scheme == "https":
        from composer.engine.images.tls import ssl_context

        context = ssl_context(parts.netloc, verifies(parts.netloc))
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
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
