"""Credentials in docker's config.json, auth challenges, insecure registries."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from composer.engine.images import auth
from composer.engine.images.registry import parse_challenge


def test_store_lookup_remove(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {}, "credsStore": "keep-me"}))
    auth.store("localhost:5000", auth.Credentials("me", "pw:with:colons"), path)
    auth.store("docker.io", auth.Credentials("hub", "x"), path)
    config = json.loads(path.read_text())
    assert config["credsStore"] == "keep-me"
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
