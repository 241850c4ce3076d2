"""An OCI Distribution v2 client (httpx): manifests, blobs, uploads, token and basic auth.

Only ``pull``/``push``/``login`` import this module (httpx costs ~50 ms to import).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import time
from typing import BinaryIO, Callable, Iterable



def _import_httpx_quickly() -> None:
    """Import httpx without the ~150 ms of imports a synchronous client never uses.

    httpx's __init__ imports its command line (click, rich, pygments) when they are installed, as
    they are beside typer; httpcore imports trio and anyio for its *async* locks. Both are blocked
    for the duration of the import when the process has not imported them already (a process
    that runs trio keeps everything as it was); the sync client needs only threading.
    """
    blocked = [name for name in ("httpx._main", "trio", "anyio") if name not in sys.modules]
    if "trio" not in blocked or "anyio" not in blocked:
        blocked = ["httpx._main"] if "httpx._main" in blocked else []
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        for name in blocked:
            if name != "httpx._main" and sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_httpx_quickly()
import httpx  # noqa: E402

from composer.engine.images import auth
from composer.engine.images.content import BlobWriter, CHUNK
from composer.engine.images.endpoint import base_url, choose_endpoint, endpoints, forget_endpoints, parse_challenge
from composer.engine.images.tls import ssl_context
from composer.errors import ImageNotFound, LayerError, RegistryError

RETRIES = 5
def _with_digest(location: str, digest: str) -> str:
    """The upload URL with ``digest=`` added to its query (which holds the upload state)."""
    return f"{location}{'&' if '?' in location else '?'}digest={digest}"


def _transport_error(domain: str, error: httpx.TransportError) -> RegistryError:
    """What to say when no answer came: a TLS failure names the certs.d files to provide."""
    text = str(error) or type(error).__name__
    if "SSL" in text or "CERTIFICATE" in text.upper():
        from composer.settings import registry_certs_dirs

        return RegistryError(f"TLS with registry {domain} failed: {text}",
                             hint=f"trust its CA as {registry_certs_dirs()[0]}/{domain}/ca.crt (and give "
                                  "client.cert/client.key there if it asks for a client certificate)")
    return RegistryError(f"registry {domain} is unreachable: {text}",
                         hint="check the address, the network and that the registry runs")


def _error_text(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('code', '').lower()}: {e.get('message', '')}" for e in errors) or response.text
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase


class RegistryClient:
    """Talks to one registry; remembers tokens per scope; thread-safe for parallel blob fetches."""

    def __init__(self, domain: str, *, credentials: auth.Credentials | None = None,
                 use_stored_credentials: bool = True, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.domain = domain
        self.credentials = credentials or (auth.lookup(domain) if use_stored_credentials else None)
        self._timeout, self._transport = timeout, transport
        # several candidate endpoints (an insecure registry: http and https): the one chosen is
        # probed again when it fails, as the registry may have moved to TLS or back since
        self._reprobe = transport is None and len(endpoints(domain)) > 1
        self._use(*(choose_endpoint(domain) if transport is None else (base_url(domain), True)))
        self._tokens: dict[str, str] = {}
        self._basic = False

    def _use(self, base: str, verify: bool) -> None:
        """Talk to the endpoint ``base`` (TLS verified or not) from now on."""
        self.base, self._verify = base, verify
        self._client = httpx.Client(timeout=httpx.Timeout(self._timeout, connect=10.0), follow_redirects=True,
                                    verify=ssl_context(self.domain, verify) if base.startswith("https:") else False,
                                    limits=httpx.Limits(max_connections=16), transport=self._transport)

    def _moved(self) -> bool:
        """Probe the endpoints again after the chosen one failed; whether another one answers now
        (then it is used). Done once per client: a registry that is down stays an error."""
        if not self._reprobe:
            return False
        self._reprobe = False
        forget_endpoints(self.domain)
        chosen = choose_endpoint(self.domain)
        if chosen == (self.base, self._verify):
            return False
        self._client.close()
        self._use(*chosen)
        return True

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- requests and auth ----------------------------------------------------------------
    def _auth_header(self, scope: str) -> dict[str, str]:
        if scope in self._tokens:
            return {"Authorization": f"Bearer {self._tokens[scope]}"}
        if self._basic and self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return {}

    def request(self, method: str, url: str, *, scope: str, headers: dict[str, str] | None = None,
                stream: bool = False, **kwargs: object) -> httpx.Response:
        """Send a request, answering one auth challenge; RegistryError when unreachable."""
        for attempt in range(2):
            response = self._send(method, url, scope, headers, stream, **kwargs)
            if response.status_code != 401 or attempt:
                break
            response.close()
            self._answer_challenge(response.headers.get("WWW-Authenticate", ""), scope)
        if response.status_code == 401:
            response.close()
            if self.credentials:
                raise RegistryError(f"{self.domain}: unauthorized: wrong user name or password",
                                    hint=f"composer login {self.domain}")
            raise RegistryError(f"{self.domain}: unauthorized: authentication required",
                                hint=f"composer login {self.domain}")
        return response

    def _send(self, method: str, url: str, scope: str, headers: dict[str, str] | None, stream: bool,
              **kwargs: object) -> httpx.Response:
        """One request; when the endpoint fails (no answer, or a TLS server's 400 to plain HTTP)
        and another one answers now, the request goes there instead."""
        relative = not url.startswith("http")
        while True:
            request = self._client.build_request(
                method, self.base + url if relative else url,
                headers={**(headers or {}), **self._auth_header(scope)}, **kwargs)  # type: ignore[arg-type]
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as error:
                if relative and self._moved():
                    continue
                raise _transport_error(self.domain, error) from error
            if response.status_code == 400 and relative and self.base.startswith("http:") and self._moved():
                response.close()
                continue
            return response

    def _answer_challenge(self, header: str, scope: str) -> None:
        scheme, params = parse_challenge(header)
        if scheme == "basic":
            if not self.credentials:
                raise RegistryError(f"{self.domain}: unauthorized: authentication required",
                                    hint=f"composer login {self.domain}")
            self._basic = True
        elif scheme == "bearer" and params.get("realm"):
            self._tokens[scope] = self._fetch_token(params, scope)
        else:
            raise RegistryError(f"{self.domain}: unsupported authentication challenge {header!r}")

    def _fetch_token(self, params: dict[str, str], scope: str) -> str:
        query = {"service": params.get("service", "")}
        if scope:
            query["scope"] = scope
        basic = (self.credentials.username, self.credentials.password) if self.credentials else None
        try:
            if self.credentials and self.credentials.username == auth.IDENTITY_TOKEN_USER:
                # an identity (refresh) token, as Azure's helper or `docker login` keep: OAuth2 POST
                response = self._client.post(params["realm"], data={
                    **query, "grant_type": "refresh_token", "refresh_token": self.credentials.password,
                    "client_id": "composer"})
            else:
                response = self._client.get(params["realm"], params=query, auth=basic)
        except httpx.TransportError as error:
            raise RegistryError(f"token service {params['realm']} is unreachable: {error}") from error
        if response.status_code in (401, 403):
            why = "wrong user name or password" if basic else "authentication required"
            raise RegistryError(f"{self.domain}: unauthorized: {why}", hint=f"composer login {self.domain}")
        if response.status_code != 200:
            raise RegistryError(f"token service answered {response.status_code}: {_error_text(response)}")
        body = response.json()
        return body.get("token") or body.get("access_token") or ""

    def login(self) -> None:
        """Check the credentials against ``/v2/`` (RegistryError when refused)."""
        self._basic = True
        response = self.request("GET", "/v2/", scope="")
        if response.status_code >= 400:
            raise RegistryError(f"login to {self.domain} failed: {_error_text(response)}")

    def _check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code == 404:
            response.read()
            raise ImageNotFound(f"{what}: not found in {self.domain} ({_error_text(response)})",
                                hint="check the name and tag, and that you are logged in")
        if response.status_code >= 400:
            response.read()
            raise RegistryError(f"{what}: {self.domain} answered {response.status_code}: {_error_text(response)}")
        return response

    # --- manifests --------------------------------------------------------------------------
    def get_manifest(self, path: str, reference: str, accept: Iterable[str]) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest by tag or digest."""
        response = self._check(self.request("GET", f"/v2/{path}/manifests/{reference}",
                                            scope=f"repository:{path}:pull",
                                            headers={"Accept": ", ".join(accept)}),
                               f"manifest {path}:{reference}")
        body = response.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise LayerError(f"manifest digest mismatch: asked {reference}, got {digest}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return body, media_type, digest

    def list_tags(self, path: str) -> list[str]:
        """The repository's tags (``/v2/PATH/tags/list``, every page of it), sorted."""
        tags: list[str] = []
        url: str | None = f"/v2/{path}/tags/list"
        while url:
            response = self._check(self.request("GET", url, scope=f"repository:{path}:pull"), f"tags of {path}")
            tags += response.json().get("tags") or []
            link = response.headers.get("Link", "")  # the next page: ``</v2/...?last=x&n=100>; rel="next"``
            url = link[link.find("<") + 1:link.find(">")] if 'rel="next"' in link and "<" in link else None
        return sorted(set(tags))

    def put_manifest(self, path: str, reference: str, body: bytes, media_type: str) -> str:
        response = self._check(self.request("PUT", f"/v2/{path}/manifests/{reference}",
                                            scope=f"repository:{path}:pull,push",
                                            headers={"Content-Type": media_type}, content=body),
                               f"manifest {path}:{reference}")
        return response.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()

    # --- blobs ----------------------------------------------------------------------------
    def fetch_blob(self, path: str, digest: str, writer: BlobWriter,
                   progress: Callable[[int], None] = lambda _: None) -> None:
        """Download a blob into ``writer``, resuming (Range) after a dropped connection."""
        for attempt in range(RETRIES):
            headers = {"Range": f"bytes={writer.size}-"} if writer.size else {}
            try:
                response = self.request("GET", f"/v2/{path}/blobs/{digest}", scope=f"repository:{path}:pull",
                                        headers=headers, stream=True)
                try:
                    self._check(response, f"blob {digest}")
                    if writer.size and response.status_code != 206:
                        writer.reset()
                    for chunk in response.iter_bytes(CHUNK):
                        writer.write(chunk)
                        progress(writer.size)
                finally:
                    response.close()
                return
            except (httpx.TransportError, RegistryError) as error:
                if isinstance(error, RegistryError) and not isinstance(error.__cause__, httpx.TransportError):
                    raise
                if attempt == RETRIES - 1:
                    raise RegistryError(f"download of {digest} from {self.domain} failed {RETRIES} times: {error}",
                                        hint="check the network and retry") from error
                time.sleep(0.2 * (attempt + 1))

    def blob_exists(self, path: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{path}/blobs/{digest}", scope=f"repository:{path}:pull,push")
        response.close()
        return response.status_code == 200

    def mount_blob(self, path: str, digest: str, source: str) -> str | None:
        """Cross-repository mount; returns None when mounted, else the upload URL to use."""
        response = self._check(self.request(
            "POST", f"/v2/{path}/blobs/uploads/", scope=f"repository:{path}:pull,push",
            params={"mount": digest, "from": source}), f"mount of {digest}")
        if response.status_code == 201:
            return None
        return self._location(response)

    def start_upload(self, path: str) -> str:
        response = self._check(self.request("POST", f"/v2/{path}/blobs/uploads/",
                                            scope=f"repository:{path}:pull,push"), "blob upload")
        return self._location(response)

    def _location(self, response: httpx.Response) -> str:
        location = response.headers.get("Location", "")
        if not location:
            raise RegistryError(f"{self.domain} started an upload without a Location header")
        return location if location.startswith("http") else self.base + location

    def upload_blob(self, path: str, digest: str, stream: BinaryIO, size: int, location: str,
                    chunk_size: int | None = None, progress: Callable[[int], None] = lambda _: None) -> None:
        """Upload monolithically (one PUT) or in PATCH chunks of ``chunk_size`` bytes."""
        scope = f"repository:{path}:pull,push"
        if chunk_size is None or size <= chunk_size:
            data = stream.read()
            response = self.request("PUT", _with_digest(location, digest), scope=scope, content=data,
                                    headers={"Content-Type": "application/octet-stream"})
            self._check(response, f"upload of {digest}")
            progress(size)
            return
        offset = 0
        while chunk := stream.read(chunk_size):
            response = self._check(self.request(
                "PATCH", location, scope=scope, content=chunk,
                headers={"Content-Type": "application/octet-stream",
                         "Content-Range": f"{offset}-{offset + len(chunk) - 1}"}), f"upload of {digest}")
            location = self._location(response)
            offset += len(chunk)
            progress(offset)
        self._check(self.request("PUT", _with_digest(location, digest), scope=scope), f"upload of {digest}")
