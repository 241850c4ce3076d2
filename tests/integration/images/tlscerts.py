"""A test CA, a server certificate for 127.0.0.1 (openssl), and a TLS docker-registry using it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixtures.registry import Registry, start_registry


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def make_ca(directory: Path, name: str) -> None:
    """``<name>-ca.crt``/``.key``: a self-signed CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} test CA",
            "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.crt", cwd=directory)


def make_signed_cert(directory: Path, name: str, extensions: str) -> None:
    """``<name>.crt``/``.key`` signed by the ``test`` CA, with the openssl ``extensions`` line."""
    (directory / f"{name}.ext").write_text(extensions + "\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=directory)


def start_tls_registry(work: Path, client_certs: bool = False,
                       host: str | None = None) -> tuple[Registry, subprocess.Popen]:
    """A registry on 127.0.0.1 serving TLS with a certificate of ``work/test-ca.crt``'s CA.

    ``client_certs``: it also demands a client certificate of that CA (``work/client.crt``/``.key``).
    """
    make_ca(work, "test")
    make_signed_cert(work, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    tls = ["  tls:", f"    certificate: {work / 'server.crt'}", f"    key: {work / 'server.key'}"]
    if client_certs:
        make_signed_cert(work, "client", "extendedKeyUsage=clientAuth")
        tls += ["    clientcas:", f"      - {work / 'test-ca.crt'}"]
    return start_registry(work / "registry", auth_config=tls, host=host)
