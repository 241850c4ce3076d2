"""``container commit``'s parts: the writable layer as a tar (whiteouts, opaque directories, links
never followed), the container's docker Config and ``--change`` as docker's commit applies it."""

from __future__ import annotations

import io
import os
import re
import tarfile
from pathlib import Path

import pytest

from composer.engine.images.commit import apply_changes, container_config
from composer.engine.images.layertar import LayerWriter, write_layer
from composer.errors import ImageError

BASE = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "Entrypoint": None, "Labels": {}}


def _entries(upper: Path) -> dict[str, tarfile.TarInfo]:
    buffer = io.BytesIO()
    write_layer(str(upper), buffer)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_entrypoint_without_cmd_before_it_resets_cmd() -> None:
    assert apply_changes(BASE, ['ENTRYPOINT ["/bin/echo"]'])["Cmd"] is None
    both = apply_changes(BASE, ['CMD ["a"]', "ENTRYPOINT echo"])
    assert both["Cmd"] == ["a"] and both["Entrypoint"] == ["/bin/sh", "-c", "echo"]
    assert apply_changes(BASE, ["ENTRYPOINT echo", 'CMD ["a"]'])["Cmd"] == ["a"]


def test_changes_as_docker_commit() -> None:
    config = apply_changes(BASE, ["ENV B=$A-x C=2", "EXPOSE 80 53/udp", "LABEL a=b", "USER nobody",
                                  "WORKDIR /tmp", "VOLUME /data", "ONBUILD RUN x",
                                  "HEALTHCHECK --interval=5s CMD true", "STOPSIGNAL SIGINT"])
    assert config["Env"] == ["PATH=/bin", "A=1", "B=1-x", "C=2"]
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}} and config["Labels"] == {"a": "b"}
    assert (config["User"], config["WorkingDir"], config["Volumes"]) == ("nobody", "/tmp", {"/data": {}})
    assert config["OnBuild"] == ["RUN x"] and config["StopSignal"] == "SIGINT"
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5 * 10**9}
    assert BASE["Env"] == ["PATH=/bin", "A=1"]  # the input is left alone


@pytest.mark.parametrize("change, message", [("RUN rm -rf /", "run is not a valid change command"),
                                             ("MAINTAINER me", "maintainer is not a valid change command"),
                                             ("FOO x", "foo is not a valid change command"),
                                             ("", "file with no instructions"),
                                             # dockerd's words for a missing argument (checked on 20.10)
                                             ("ENV", "^ENV requires at least one argument$"),
                                             ("EXPOSE", "^EXPOSE requires at least one argument$"),
                                             ("VOLUME", "^VOLUME requires at least one argument$"),
                                             ("USER", "^USER requires exactly one argument$"),
                                             ("workdir", "^WORKDIR requires exactly one argument$"),
                                             ("ENV A", "^ENV must have two arguments$"),
                                             ("LABEL x", "^LABEL must have two arguments$")])
def test_refused_changes(change: str, message: str) -> None:
    with pytest.raises(ImageError) as caught:
        apply_changes(BASE, [change])
    assert re.search(message, caught.value.message)


def test_container_config_splits_the_command_at_the_image_entrypoint() -> None:
    config = {"args": ["/entry", "run", "x"], "env": ["A=1"], "cwd": "/", "hostname": "abc", "image": "img",
              "labels": {"l": "2"}, "exposed": ["80/tcp"], "stop_signal": "SIGTERM"}
    image = {"Entrypoint": ["/entry"], "Labels": {"l": "1", "m": "1"}, "Volumes": {"/v": {}}}
    result = container_config(config, image)
    assert (result["Entrypoint"], result["Cmd"]) == (["/entry"], ["run", "x"])
    assert result["Labels"] == {"l": "2", "m": "1"} and result["WorkingDir"] == ""
    assert result["ExposedPorts"] == {"80/tcp": {}} and result["Volumes"] == {"/v": {}}
    assert "StopSignal" not in result
    other = container_config({**config, "args": ["sh"], "stop_signal": "SIGINT"}, image)
    assert (other["Entrypoint"], other["Cmd"], other["StopSignal"]) == (None, ["sh"], "SIGINT")


@pytest.mark.root
def test_layer_entries(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    for directory in ("bin", "etc", "dev/pts", "proc", "opq/x", "only/etc"):
        (upper / directory).mkdir(parents=True)
    (upper / "hello").write_text("hi\n")
    os.link(upper / "hello", upper / "hard")
    os.symlink("/etc/shadow", upper / "lnk")
    os.symlink("/etc", upper / "dirlink")
    os.mknod(upper / "bin/ls", 0o600 | 0o020000, os.makedev(0, 0))  # an overlay whiteout
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    for name in ("hostname", "hosts", "resolv.conf"):
        (upper / "etc" / name).write_text("")
    entries = _entries(upper)
    assert sorted(entries) == ["bin", "bin/.wh.ls", "dirlink", "hard", "hello", "lnk", "only", "only/etc",
                               "opq", "opq/.wh..wh..opq", "opq/x"]
    assert entries["lnk"].issym() and entries["lnk"].linkname == "/etc/shadow"
    assert entries["dirlink"].issym() and entries["hello"].islnk() and entries["hello"].linkname == "hard"
    assert entries["bin/.wh.ls"].isreg() and entries["bin/.wh.ls"].size == 0
    (upper / "etc" / "motd").write_text("changed")
    assert {"etc", "etc/motd"} <= set(_entries(upper)) and "etc/hosts" not in _entries(upper)


def test_swapped_names_are_never_followed(tmp_path: Path) -> None:
    """What a container may swap in between the listing and the open: a link where a file or a
    directory was is left out (never opened, never walked)."""
    upper = tmp_path / "upper"
    upper.mkdir()
    os.symlink("/etc/passwd", upper / "file")
    os.symlink("/etc", upper / "dir")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w|") as tar:
        writer = LayerWriter(tar)
        fd = os.open(upper, os.O_RDONLY | os.O_DIRECTORY)
        try:
            writer._file(fd, "file", "file")
            writer._subdirectory(fd, "dir", "dir")
        finally:
            os.close(fd)
        assert writer.count == 0


def test_missing_upper_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot read the container's writable layer"):
        write_layer(str(tmp_path / "gone"), io.BytesIO())


@pytest.mark.root
def test_export_reads_each_entry_beneath_its_layer(tmp_path: Path) -> None:
    """``container export``'s merged view: upper over lower, whiteouts applied; a parent directory
    swapped for a link to a host directory after the listing leaves its entries out."""
    from composer.engine.images.layertar import write_merged

    lower, upper, secret = tmp_path / "lower", tmp_path / "upper", tmp_path / "secret"
    for directory in (lower / "a", lower / "b", upper, secret):
        directory.mkdir(parents=True)
    (lower / "a" / "file").write_text("lower")
    (lower / "b" / "gone").write_text("x")
    (upper / "new").write_text("upper")
    os.mknod(upper / "b", 0o600 | 0o020000, os.makedev(0, 0))
    (secret / "file").write_text("SECRET")
    buffer = io.BytesIO()
    assert write_merged([str(lower)], str(upper), buffer) == 3
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        assert tar.getnames() == ["a", "a/file", "new"] and tar.extractfile("new").read() == b"upper"
    os.symlink(secret, upper / "a")  # what a running container could do meanwhile
    with tarfile.open(fileobj=io.BytesIO(), mode="w|") as tar:
        writer = LayerWriter(tar, layer=False)
        writer.add_beneath(str(upper), "a/file")
        assert writer.count == 0


def test_pause_flag_as_pflag_bool() -> None:
    from composer.cli.container_commit import pause_and_words

    assert pause_and_words("true", ["c", "r"]) == (True, ["c", "r"])
    assert pause_and_words("=false", ["c"]) == (False, ["c"]) and pause_and_words("0", ["c"]) == (False, ["c"])
    assert pause_and_words("c", ["r"]) == (True, ["c", "r"])  # a bare -p took the container's name


def test_ids_of_a_private_user_namespace_are_shifted_back(tmp_path: Path) -> None:
    """``--userns private``: the upper dir's files belong to the mapped ids; the layer has the container's."""
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "f").write_text("x")
    if os.geteuid() == 0:
        os.chown(upper / "f", 100001, 100002)
        buffer = io.BytesIO()
        write_layer(str(upper), buffer, shift=(100000, 100000))
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            assert (tar.getmember("f").uid, tar.getmember("f").gid) == (1, 2)
    from composer.engine.images.layertar import id_shift

    assert id_shift({"userns_mode": ""}, str(upper)) == (0, 0)
    assert id_shift({"userns_mode": "private"}, str(upper)) == (upper.stat().st_uid, upper.stat().st_gid)
