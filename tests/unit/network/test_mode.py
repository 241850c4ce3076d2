"""``--network`` value parsing."""

from __future__ import annotations

import pytest

from composer.errors import NetworkError
from composer.network.mode import NetworkMode, parse_network_mode


@pytest.mark.parametrize("value, expected", [
    (None, NetworkMode("bridge", "bridge")),
    ("none", NetworkMode("none")),
    ("host", NetworkMode("host")),
    ("container:web", NetworkMode("container", "web")),
    ("service:db", NetworkMode("service", "db")),
    ("app_default", NetworkMode("bridge", "app_default")),
])
def test_parse(value, expected):
    assert parse_network_mode(value) == expected


@pytest.mark.parametrize("value", ["container:", "bogus:thing"])
def test_errors(value):
    with pytest.raises(NetworkError, match="invalid network mode"):
        parse_network_mode(value)
