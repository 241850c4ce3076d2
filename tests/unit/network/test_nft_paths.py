"""nft scripts run the same through libnftables and through the ``nft`` tool (its fallback):
a script applied, and a refused one reported with nft's own message."""

from __future__ import annotations

import os
import shutil

import pytest

from composer.errors import NetworkError
from composer.network import firewall

pytestmark = pytest.mark.root


@pytest.fixture(params=["libnftables", "tool"])
def path(request, monkeypatch):
    if request.param == "libnftables":
        if firewall._libnftables() is None:
            pytest.skip("no libnftables.so.1")
    else:
        if shutil.which("nft") is None:
            pytest.skip("no nft tool")
        monkeypatch.setattr(firewall, "_LIBNFTABLES", [None])
    return request.param


def test_a_script_applies_and_a_bad_one_says_why(path):
    table = f"composer_t{os.getpid() % 10000:04d}"
    try:
        firewall.nft(f"table inet {table} {{\n chain c {{\n  type filter hook forward priority 0;\n }}\n}}\n")
        with pytest.raises(NetworkError, match="(?s)nftables refused composer's rules: .*Could not process rule.*no_such_chain"):
            firewall.nft(f"add rule inet {table} no_such_chain accept\n")
    finally:
        firewall.remove(table)
    with pytest.raises(NetworkError):
        firewall.nft(f"list table inet {table}\n")  # gone


def test_a_library_without_the_functions_means_the_tool(monkeypatch):
    import ctypes

    class Old:
        def __init__(self, name):
            pass

    monkeypatch.setattr(firewall, "_LIBNFTABLES", [])
    monkeypatch.setattr(ctypes, "CDLL", Old)
    assert firewall._libnftables() is None
