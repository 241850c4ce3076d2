"""A network file removed between the store's listing and its read is gone, not corrupt: a
``down`` removing several networks at once read that as an error, and one removal was skipped."""

from __future__ import annotations

import pytest

from composer.network import store as store_module
from composer.network.store import NetworkStore


def test_a_file_removed_while_listing_is_skipped(tmp_path, monkeypatch):
    store = NetworkStore(tmp_path)
    (tmp_path / "gone.json").write_text("{}")
    monkeypatch.setattr(store_module, "read_json", lambda path: (_ for _ in ()).throw(FileNotFoundError(path)))
    assert store.all() == []


def test_an_unreadable_file_is_still_corrupt(tmp_path, monkeypatch):
    store = NetworkStore(tmp_path)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(store_module.NetworkError, match="corrupt network state file"):
        store.all()
