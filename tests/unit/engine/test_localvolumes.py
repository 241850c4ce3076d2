"""The local volume driver's options checked and turned into mount(2) arguments as moby's
``volume/local`` and ``moby/sys/mount`` do (dockerd 20.10's words, compared on a private dockerd)."""

from __future__ import annotations

import pytest

from composer.engine.localvolumes import _mount_error, check_options, parse_mount_options, ram_in_bytes
from composer.engine.volumes import check_volume_options, needs_mount
from composer.errors import VolumeError


@pytest.mark.parametrize(("options", "message"), [
    ({"foo": "bar"}, 'create v: invalid option: "foo"'),
    ({"type": "tmpfs"}, 'create v: missing required option: "device"'),
    ({"o": "bind"}, 'create v: missing required option: "device"'),
    ({"device": "/x"}, 'create v: missing required option: "type"'),
    ({"size": "abc"}, "create v: invalid size: 'abc'"),
    ({"size": "1m"}, "create v: quota size requested but no quota support"),
    ({"type": "cifs", "device": "//host:445/share"}, "create v: port not allowed in CIFS device URL, include 'port' in 'o='"),
])
def test_refused_options(options, message):
    with pytest.raises(VolumeError) as caught:
        check_volume_options("v", options)
    assert caught.value.message == message


def test_accepted_options():
    for options in ({"type": "none", "o": "bind", "device": "/srv"}, {"type": "tmpfs", "device": "tmpfs"},
                    {"size": "0"}, {"type": "nfs", "o": "addr=10.0.0.1,rw", "device": ":/export"}):
        check_options(options)
    assert needs_mount({"type": "tmpfs", "device": "tmpfs"}) and not needs_mount({"type": "", "device": ""})
    assert not needs_mount({}) and not needs_mount(None)


def test_sizes_as_go_units():
    assert ram_in_bytes("0") == 0 and ram_in_bytes("1k") == 1024 and ram_in_bytes("1.5MiB") == 1572864
    assert ram_in_bytes("2 GB") == 2 << 30


def test_option_words_become_flags_and_data():
    assert parse_mount_options("bind") == (0x1000, "")
    assert parse_mount_options("bind,ro") == (0x1001, "")
    assert parse_mount_options("addr=127.0.0.1,rw") == (0, "addr=127.0.0.1")  # rw clears MS_RDONLY
    assert parse_mount_options("size=10m,uid=1000,noexec") == (8, "size=10m,uid=1000")
    assert parse_mount_options("defaults") == (0, "defaults")  # no flag: moby passes it as data
    assert parse_mount_options("rbind,rprivate") == (0x1000 | 0x4000 | 0x40000, "")


def test_mount_errors_in_moby_words():
    assert _mount_error("mount", "/nonexist", "/v/_data", 0x1000, "", OSError(2, "x")) == \
        "mount /nonexist:/v/_data, flags: 0x1000: no such file or directory"
    assert _mount_error("mount", "/tmp", "/v/_data", 0, "bnd", OSError(19, "x")) == \
        "mount /tmp:/v/_data, data: bnd: no such device"
    assert _mount_error("remount-ro", "", "/v/_data", 0x1021, "", OSError(22, "x")) == \
        "remount-ro /v/_data, flags: 0x1021: invalid argument"


def test_nfs_addresses_are_resolved_as_docker_resolves_them():
    from composer.engine.localvolumes import _resolved_address

    assert _resolved_address("nfs", "addr=localhost,rw", "") == "addr=127.0.0.1,rw"
    assert _resolved_address("nfs", "nolock,addr=10.0.0.1", "") == "nolock,addr=10.0.0.1"
    assert _resolved_address("tmpfs", "addr=localhost", "") == "addr=localhost"  # only nfs and cifs
