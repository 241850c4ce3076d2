"""TLS towards registries as docker does it: ``certs.d/<host[:port]>/`` and insecure registries.

A registry's directory under one of :func:`composer.settings.registry_certs_dirs` may hold CA
certificates (``*.crt``, trusted on top of the system's) and a client certificate pair
(``name.cert`` + ``name.key``). An insecure registry's certificate is not verified unless it
has such a directory (see :func:`composer.engine.images.endpoint.endpoints`).
Cheap to import: ``ssl`` is imported only when a context is made.
"""

from __future__ import annotations

import os

from composer import settings
from composer.errors import RegistryError

TYPE_CHECKING = False  # typing itself stays off the warm path
if TYPE_CHECKING:
    import ssl


def certs_dir(domain: str) -> str | None:
    """The first ``certs.d/<domain>`` directory that exists, else None."""
    if "/" in domain or domain in ("", ".", ".."):
        return None
    for root in settings.registry_certs_dirs():
        path = os.path.join(root, domain)
        if os.path.isdir(path):
            return path
    return None


def _load_dir(context: "ssl.SSLContext", directory: str, verify: bool) -> None:
    import ssl

    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        try:
            if name.endswith(".crt") and verify:
                context.load_verify_locations(cafile=path)
            elif name.endswith(".cert"):
                key = path.removesuffix(".cert") + ".key"
                if not os.path.exists(key):
                    raise RegistryError(f"client certificate {path} has no key {key}",
                                        hint="put the matching .key file beside it or remove the .cert")
                context.load_cert_chain(path, key)
        except (ssl.SSLError, OSError) as error:
            raise RegistryError(f"cannot use {path}: {error}",
                                hint="it must be a PEM certificate (a .key: its PEM private key)") from error


def _system_cas(context: "ssl.SSLContext") -> None:
    """The system's CAs, looked up lazily in the hashed CA directory when there is one.

    Loading Debian's whole bundle eagerly costs ~60 ms, more than the rest of a warm pull; its
    hashed directory holds the same CAs (update-ca-certificates writes both). A bundle named by
    ``$SSL_CERT_FILE`` other than the system's is loaded as well.
    """
    import ssl

    paths = ssl.get_default_verify_paths()
    hashed = bool(paths.capath) and os.path.isdir(paths.capath) and any(
        name.endswith(".0") for name in os.listdir(paths.capath))
    if not hashed:
        context.load_default_certs()
        return
    context.load_verify_locations(capath=paths.capath)
    bundle, system = os.environ.get(paths.openssl_cafile_env), paths.openssl_cafile
    if bundle and os.path.isfile(bundle) and not (os.path.exists(system) and os.path.samefile(bundle, system)):
        context.load_verify_locations(cafile=bundle)


def ssl_context(domain: str, verify: bool) -> "ssl.SSLContext":
    """A client context for ``domain``: the system CAs plus its certs.d CAs, or no verification."""
    import ssl

    if verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, hostnames too
        _system_cas(context)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    directory = certs_dir(domain)
    if directory:
        _load_dir(context, directory, verify)
    return context
