"""Credentials in docker's config.json, auth challenges, insecure registries."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from composer.engine.images import auth
from composer.engine.images.endpoint import parse_challenge
from composer.errors import ImageError


def test_store_lookup_remove(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {}, "currentContext": "keep-me"}))
    auth.store("localhost:5000", auth.Credentials("me", "pw:with:colons"), path)
    auth.store("docker.io", auth.Credentials("hub", "x"), path)
    config = json.loads(path.read_text())
    assert config["currentContext"] == "keep-me"
    assert base64.b64decode(config["auths"]["localhost:5000"]["auth"]) == b"me:pw:with:colons"
    assert "https://index.docker.io/v1/" in config["auths"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert auth.lookup("localhost:5000", path) == auth.Credentials("me", "pw:with:colons")
    assert auth.lookup("index.docker.io", path) == auth.Credentials("hub", "x")
    assert auth.remove("localhost:5000", path) and not auth.remove("localhost:5000", path)
    assert auth.lookup("localhost:5000", path) is None


def test_unreadable_config_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(Exception, match="cannot read"):
        auth.lookup("x.io", path)


def test_parse_challenge() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull"')
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                      "scope": "repository:library/a:pull"}
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


def test_cred_helpers_store_get_erase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.images.credhelper import install_helper

    secrets = install_helper(tmp_path / "bin", "vault", monkeypatch)
    other = install_helper(tmp_path / "bin", "special", monkeypatch)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "vault", "credHelpers": {"special.io": "special"}}))
    auth.store("localhost:5000", auth.Credentials("me", "pw"), path)
    auth.store("special.io", auth.Credentials("sp", "x"), path)
    assert json.loads(path.read_text())["auths"] == {"localhost:5000": {}, "special.io": {}}  # no secret in the file
    assert json.loads(secrets.read_text())["localhost:5000"]["Secret"] == "pw"
    assert "special.io" in json.loads(other.read_text()) and "special.io" not in json.loads(secrets.read_text())
    assert auth.lookup("localhost:5000", path) == auth.Credentials("me", "pw")
    assert auth.lookup("special.io", path) == auth.Credentials("sp", "x")
    assert auth.lookup("unknown.io", path) is None  # the helper's "credentials not found"
    assert auth.remove("localhost:5000", path) and auth.lookup("localhost:5000", path) is None
    assert not auth.remove("localhost:5000", path)


def test_missing_or_bad_helper_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.json"
    monkeypatch.setenv("PATH", str(tmp_path))
    path.write_text(json.dumps({"credsStore": "nothere"}))
    with pytest.raises(ImageError, match="docker-credential-nothere is not on PATH"):
        auth.lookup("x.io", path)
    path.write_text(json.dumps({"credHelpers": {"x.io": "../../bin/sh"}}))
    with pytest.raises(ImageError, match="invalid credential helper name"):
        auth.lookup("x.io", path)
