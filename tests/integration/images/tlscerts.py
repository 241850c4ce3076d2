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


def make_server_cert(directory: Path) -> None:
    """``server.crt``/``.key`` for IP 127.0.0.1, signed by the ``test`` CA."""
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr", cwd=directory)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=directory)


def start_tls_registry(work: Path) -> tuple[Registry, subprocess.Popen]:
    """A registry on 127.0.0.1 serving TLS with a certificate of ``work/test-ca.crt``'s CA."""
    make_ca(work, "test")
    make_server_cert(work)
    tls = ["  tls:", f"    certificate: {work / 'server.crt'}", f"    key: {work / 'server.key'}"]
    return start_registry(work / "registry", auth_config=tls)
