def test_busybox_rootfs_has_a_shell(busybox_rootfs):
    assert (busybox_rootfs / "bin/sh").is_symlink()
    assert (busybox_rootfs / "bin/busybox").stat().st_size > 100_000
    assert "root:x:0:0" in (busybox_rootfs / "etc/passwd").read_text()
