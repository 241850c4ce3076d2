"""``container diff`` and ``container export``'s view of a container's layers (docker's A/C/D)."""

from __future__ import annotations

import os

import pytest

from composer.engine.runtime.layerview import changes, merged_view


def _layers(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for path in ("etc/passwd", "bin/sh", "var/old/a", "var/old/b", "tmp/keep"):
        (lower / path).parent.mkdir(parents=True, exist_ok=True)
        (lower / path).write_text(path)
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "passwd").write_text("changed")
    (upper / "etc" / "hostname").write_text("runtime's own file")
    (upper / "new").mkdir()
    (upper / "new" / "file").write_text("added")
    os.mknod(upper / "tmp", 0o020000, os.makedev(0, 0))  # a whiteout: /tmp deleted
    return [str(lower)], str(upper)


@pytest.mark.root
def test_diff_kinds_as_docker(tmp_path):
    if os.geteuid():
        pytest.skip("mknod of a whiteout needs root")
    layers, upper = _layers(tmp_path)
    assert changes(upper, layers) == [("C", "/etc"), ("C", "/etc/passwd"), ("A", "/new"), ("A", "/new/file"),
                                      ("D", "/tmp")]


@pytest.mark.root
def test_merged_view_applies_whiteouts(tmp_path):
    if os.geteuid():
        pytest.skip("mknod of a whiteout needs root")
    layers, upper = _layers(tmp_path)
    view = merged_view(layers, upper)
    assert "tmp" not in view and "tmp/keep" not in view
    assert view["etc/passwd"] == os.path.join(upper, "etc", "passwd")
    assert view["bin/sh"] == os.path.join(layers[0], "bin", "sh") and "new/file" in view
    assert list(view) == sorted(view)
