"""IPAM: default pools, host routes skipped, allocation and static addresses."""

from __future__ import annotations

import ipaddress

import pytest

from composer.errors import NetworkError
from composer.network import ipam

N = ipaddress.ip_network


def test_first_pick_is_docker_default_and_skip_first_leaves_it_to_bridge():
    assert ipam.pick_subnet([]) == N("172.17.0.0/16")
    assert ipam.pick_subnet([], skip_first=True) == N("172.18.0.0/16")


def test_subnets_covered_by_host_routes_are_skipped():
    vpn = [N("172.16.0.0/12")]  # a VPN routing all of 172.16/12
    assert ipam.pick_subnet(vpn) == N("192.168.0.0/20")
    assert ipam.pick_subnet([N("172.18.5.0/24"), N("172.17.0.0/16")]) == N("172.19.0.0/16")


def test_pools_exhausted_is_a_clear_error():
    with pytest.raises(NetworkError, match="fully subnetted"):
        ipam.pick_subnet([N("0.0.0.0/0")])


def test_allocate_skips_gateway_and_used_and_honours_range():
    subnet = N("10.1.0.0/24")
    assert ipam.allocate(subnet, ["10.1.0.1"]) == "10.1.0.2"
    assert ipam.allocate(subnet, ["10.1.0.1", "10.1.0.2"]) == "10.1.0.3"
    assert ipam.allocate(subnet, ["10.1.0.1"], ip_range="10.1.0.128/25") == "10.1.0.129"


def test_static_address_checked():
    subnet = N("10.1.0.0/24")
    assert ipam.allocate(subnet, ["10.1.0.1"], requested="10.1.0.50") == "10.1.0.50"
    with pytest.raises(NetworkError, match="already in use"):
        ipam.allocate(subnet, ["10.1.0.50"], requested="10.1.0.50")
    with pytest.raises(NetworkError, match="not a usable address"):
        ipam.allocate(subnet, [], requested="10.2.0.5")
    with pytest.raises(NetworkError, match="invalid address"):
        ipam.allocate(subnet, [], requested="nope")


def test_full_subnet_error():
    subnet = N("10.1.0.0/30")
    with pytest.raises(NetworkError, match="no available addresses"):
        ipam.allocate(subnet, ["10.1.0.1", "10.1.0.2"])


def test_ipv6_allocation_does_not_enumerate():
    assert ipam.allocate(N("fd00:1::/64"), ["fd00:1::1"]) == "fd00:1::2"


def test_host_routes_parses_proc_format(tmp_path):
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "tun0\t000010AC\t00000000\t0001\t0\t0\t0\t0000F0FF\t0\t0\t0\n"
    )
    assert ipam.host_routes(str(table)) == [N("192.0.2.0/24"), N("172.16.0.0/12")]


def test_mac_for_is_dockers_scheme():
    assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"
