"""Parsing --secret / --ssh values and compose build.secrets / build.ssh."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from composer.engine.build.secrets import Secret, SshAgent, compose_secrets, compose_ssh, parse_secret, parse_ssh
from composer.errors import BuildError


@pytest.mark.parametrize(("text", "expected"), [
    ("id=npm,src=/etc/npmrc", Secret("npm", file="/etc/npmrc")),
    ("id=npm,source=/etc/npmrc,type=file", Secret("npm", file="/etc/npmrc")),
    ("id=tok,env=TOKEN", Secret("tok", env="TOKEN")),
    ("id=TOKEN", Secret("TOKEN", env="TOKEN")),
    ("type=env,id=tok,src=VAR", Secret("tok", env="VAR")),
])
def test_parse_secret(text: str, expected: Secret) -> None:
    assert parse_secret(text) == expected


@pytest.mark.parametrize("text", ["src=/x", "id=a,type=socket", "id=a,type=file", "id=a,colour=red", "id=a,b"])
def test_parse_secret_errors(text: str) -> None:
    with pytest.raises(BuildError, match="invalid --secret"):
        parse_secret(text)


def test_secret_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert Secret("a", file=str(tmp_path / "f")).read() == b"abc"
    assert Secret("a", env="V").read({"V": "x"}) == b"x"
    with pytest.raises(BuildError, match="V is not set"):
        Secret("a", env="V").read({})
    with pytest.raises(BuildError, match="cannot read"):
        Secret("a", file=str(tmp_path / "missing")).read()


def test_parse_ssh() -> None:
    assert parse_ssh("default", {"SSH_AUTH_SOCK": "/tmp/a.sock"}) == SshAgent("default", "/tmp/a.sock")
    assert parse_ssh("work=/run/w.sock", {}) == SshAgent("work", "/run/w.sock")
    with pytest.raises(BuildError, match="SSH_AUTH_SOCK is not set"):
        parse_ssh("default", {})
    with pytest.raises(BuildError, match="invalid --ssh"):
        parse_ssh("=x", {})


def test_checked_socket(tmp_path: Path) -> None:
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert SshAgent("default", str(path)).checked_socket() == str(path)
    finally:
        server.close()
    (tmp_path / "key").write_text("k")
    with pytest.raises(BuildError, match="not an agent socket"):
        SshAgent("default", str(tmp_path / "key")).checked_socket()
    with pytest.raises(BuildError, match="cannot use"):
        SshAgent("default", str(tmp_path / "none")).checked_socket()


def test_compose_secrets_and_ssh() -> None:
    top = {"a": {"file": "/run/a.txt"}, "b": {"environment": "B"}, "c": {"external": True}}
    assert compose_secrets(["a", {"source": "b", "target": "bee"}], top) == (
        Secret("a", file="/run/a.txt"), Secret("bee", env="B"))
    from_env = compose_secrets(["b"], top, environ={"B": "from .env"})[0]
    assert from_env.read({}) == b"from .env" and "from .env" not in repr(from_env)
    with pytest.raises(BuildError, match="'x' is not defined"):
        compose_secrets(["x"], top)
    with pytest.raises(BuildError, match="neither file"):
        compose_secrets(["c"], top)
    assert compose_ssh(["default", "k=/x.sock"], {"SSH_AUTH_SOCK": "/a"}) == (
        SshAgent("default", "/a"), SshAgent("k", "/x.sock"))
    assert compose_ssh({"k": "/x.sock"}, {}) == (SshAgent("k", "/x.sock"),)


def test_parse_ssh_key_files(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("key a")
    (tmp_path / "b").write_text("key b")
    assert parse_ssh(f"deploy={tmp_path / 'a'}", {}) == SshAgent("deploy", keys=(str(tmp_path / "a"),))
    assert parse_ssh(f"deploy={tmp_path / 'a'},{tmp_path / 'b'}", {}).keys == (str(tmp_path / "a"), str(tmp_path / "b"))
    with pytest.raises(BuildError, match="invalid --ssh"):
        parse_ssh("deploy=", {})
