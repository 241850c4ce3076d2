"""`-p` parsing (docker's syntax) and /proc socket decoding."""

from __future__ import annotations

import pytest

from composer.errors import NetworkError
from composer.network.model import PortBinding
from composer.network.ports import _decode_address, parse_publish


@pytest.mark.parametrize("spec, expected", [
    ("80", [PortBinding(80, 0, "tcp", "")]),
    ("8080:80", [PortBinding(80, 8080, "tcp", "")]),
    ("53:53/udp", [PortBinding(53, 53, "udp", "")]),
    ("127.0.0.1:8080:80", [PortBinding(80, 8080, "tcp", "127.0.0.1")]),
    ("127.0.0.1::80", [PortBinding(80, 0, "tcp", "127.0.0.1")]),
    ("[::1]:8080:80", [PortBinding(80, 8080, "tcp", "::1")]),
    ("8000-8001:80-81", [PortBinding(80, 8000), PortBinding(81, 8001)]),
    ("8000-8010:80", [PortBinding(80, 8000, host_port_end=8010)]),
    ("7000-7001", [PortBinding(7000, 0), PortBinding(7001, 0)]),
])
def test_parse_publish(spec, expected):
    assert parse_publish(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("80/sctp", "invalid protocol"),
    ("http", "invalid port"),
    ("0:80", "invalid port range"),
    ("70000:80", "invalid port range"),
    ("1-3:1-2", "differ in size"),
    ("300.1.1.1:80:80", "invalid host address"),
])
def test_parse_publish_errors(spec, message):
    with pytest.raises(NetworkError, match=message):
        parse_publish(spec)


def test_decode_proc_addresses():
    assert _decode_address("0100007F") == "127.0.0.1"
    assert _decode_address("00000000000000000000000001000000") == "::1"


def test_publish_all_takes_exposed_ports_not_published_explicitly():
    from composer.network.ports import publish_all

    exposed = ["80/tcp", "53/udp", "7000-7001", "80/tcp"]
    assert publish_all(exposed, ["8080:80", "127.0.0.1:7001:7001/tcp"]) == ["53/udp", "7000/tcp"]
    assert publish_all([], ["80"]) == []
