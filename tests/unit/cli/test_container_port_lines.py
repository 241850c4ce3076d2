"""``container port``'s lines from a container's endpoints (the network manager faked: pure logic)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from composer.cli import network_fast
from composer.errors import UsageError
from composer.network.model import PortBinding


def _endpoints(monkeypatch, *endpoints: tuple[str, list[PortBinding]]) -> None:
    attached = [(None, SimpleNamespace(ipv6=ipv6, ports=ports)) for ipv6, ports in endpoints]
    monkeypatch.setattr(network_fast, "_manager", lambda: SimpleNamespace(endpoints_of=lambda cid: attached))


def test_a_binding_on_all_addresses_of_an_ipv6_container_is_also_listed_as_ipv6(monkeypatch) -> None:
    _endpoints(monkeypatch, ("fd00::2", [PortBinding(container_port=80, host_port=8080),
                                         PortBinding(container_port=53, host_port=5353, proto="udp",
                                                     host_ip="127.0.0.1")]))
    assert network_fast.port_lines("c") == ["53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:8080",
                                            "80/tcp -> [::]:8080"]
    assert network_fast.port_lines("c", "80") == ["0.0.0.0:8080", "[::]:8080"]


def test_an_ipv4_only_container_lists_only_what_is_forwarded(monkeypatch) -> None:
    _endpoints(monkeypatch, ("", [PortBinding(container_port=80, host_port=8080)]),
               ("", [PortBinding(container_port=81, host_port=8081, host_ip="::1")]))
    assert network_fast.port_lines("c") == ["80/tcp -> 0.0.0.0:8080", "81/tcp -> [::1]:8081"]
    with pytest.raises(UsageError, match="No public port '80/udp' published for web"):
        network_fast.port_lines("c", "80/udp", "web")
