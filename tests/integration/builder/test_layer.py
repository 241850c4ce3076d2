"""Layer tars from layer directories, COPY destination rules, RUN network modes (fast, local files)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from composer.engine.build.copying import Copier
from composer.engine.build.layer import write_layer
from composer.engine.build.running import network_mode
from composer.engine.images.layers import OPAQUE_XATTR
from composer.errors import BuildError


def tar_of(root: Path) -> tuple[bytes, dict[str, tarfile.TarInfo]]:
    out = io.BytesIO()
    write_layer(str(root), out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        return out.getvalue(), {m.name.rstrip("/"): m for m in tar}


def test_layer_entries_are_sorted_numeric_and_reproducible(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b/file").write_text("data")
    (tmp_path / "a-link").symlink_to("b/file")
    os.link(tmp_path / "b/file", tmp_path / "hard")
    data, members = tar_of(tmp_path)
    assert list(members) == ["a-link", "b", "b/file", "hard"]
    assert members["a-link"].issym() and members["a-link"].linkname == "b/file"
    assert members["hard"].islnk() and members["hard"].linkname == "b/file"
    assert all(m.uname == "" and m.gname == "" for m in members.values())
    assert tar_of(tmp_path)[0] == data


@pytest.mark.root
def test_overlay_whiteouts_become_oci_whiteouts(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mknod, trusted xattrs)")
    (tmp_path / "etc").mkdir()
    os.mknod(tmp_path / "etc/gone", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    (tmp_path / "opaque").mkdir()
    os.setxattr(tmp_path / "opaque", OPAQUE_XATTR, b"y")
    (tmp_path / "opaque/new").write_text("n")
    _, members = tar_of(tmp_path)
    assert members["etc/.wh.gone"].isreg() and members["etc/.wh.gone"].size == 0
    assert "etc/gone" not in members
    assert "opaque/.wh..wh..opq" in members and "opaque/new" in members


def test_copy_destination_rules(tmp_path: Path) -> None:
    copier = Copier(tmp_path, None)
    assert copier.destination("/app/", "/", many=False) == ("app", True)
    assert copier.destination("app.txt", "/srv", many=False) == ("srv/app.txt", False)
    assert copier.destination(".", "/work", many=True) == ("work", True)
    assert copier.destination("/x", "/", many=False, source_is_dir=True) == ("x", True)
    with pytest.raises(BuildError, match="must be a directory and end with a /"):
        copier.destination("/file", "/", many=True)


def test_copy_refuses_writing_through_a_link_it_made(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "link").symlink_to(tmp_path)
    with pytest.raises(BuildError, match="symbolic link"):
        Copier(staging, None).write_file("link/escaped", b"x")
    assert not (tmp_path / "escaped").exists()


def test_network_modes() -> None:
    assert network_mode(None) == "bridge" and network_mode("default") == "bridge"
    assert network_mode("none") == "none" and network_mode("host") == "host"
