"""Mount points a RUN step's mounts left in its upper dir are dropped, copied-up parents too;
secret files are detached mounts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from composer.engine.build.runmounts import SecretFile, SecretFiles, drop_stubs, open_secret_files
from composer.engine.runtime.config import Mount


def tree(tmp_path: Path) -> tuple[Path, Path]:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.chmod(lower / "etc", 0o755)
    (upper / "etc").mkdir(parents=True)
    os.chmod(upper / "etc", 0o755)
    (upper / "etc" / "api.key").touch()
    (upper / "run" / "secrets").mkdir(parents=True)
    (upper / "run" / "secrets" / "token").touch()
    return lower, upper


def test_stubs_and_the_parents_made_or_copied_up_for_them_go(tmp_path: Path) -> None:
    lower, upper = tree(tmp_path)
    mounts = [Mount(type="bind", target="/etc/api.key", source="/x"),
              Mount(type="bind", target="/run/secrets/token", source="/y")]
    drop_stubs(upper, mounts, [lower])
    assert list(upper.iterdir()) == []


def test_a_changed_parent_stays(tmp_path: Path) -> None:
    lower, upper = tree(tmp_path)
    os.chmod(upper / "etc", 0o700)  # the step changed /etc itself
    (upper / "run" / "secrets" / "kept.txt").write_text("made by the step")
    drop_stubs(upper, [Mount(type="bind", target="/etc/api.key", source="/x"),
                       Mount(type="bind", target="/run/secrets/token", source="/y")], [lower])
    assert sorted(str(p.relative_to(upper)) for p in upper.rglob("*")) == [
        "etc", "run", "run/secrets", "run/secrets/kept.txt"]


def opened_secret_mounts() -> list[Mount]:
    """open_secret_files of two secrets: checks that the host's mount table does not change and
    that each mount's source holds its file's value, owner and mode; returns the mounts."""
    secrets = SecretFiles([SecretFile(b"v1", 5, 6, 0o440, "/run/secrets/a"), SecretFile(b"v2", 0, 0, 0o400, "/b")])
    with open("/proc/self/mountinfo") as handle:
        before = handle.read()
    fds = open_secret_files(secrets)
    try:
        with open("/proc/self/mountinfo") as handle:
            assert handle.read() == before
        mounts = secrets.mounts(fds)
        found = []
        for mount in mounts:
            info = os.stat(mount.source)
            with open(mount.source, "rb") as handle:
                found.append((handle.read(), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)))
        assert found == [(b"v1", 5, 6, 0o440), (b"v2", 0, 0, 0o400)]
        assert [(m.type, m.target, m.readonly) for m in secrets.mounts()] == [
            ("bind", "/run/secrets/a", True), ("bind", "/b", True)]
        return mounts
    finally:
        for fd in fds:
            os.close(fd)


@pytest.mark.root
def test_secret_files_are_detached_mounts_of_a_tmpfs() -> None:
    """Each secret is a one-file mount attached nowhere: the host's mount table does not change."""
    mounts = opened_secret_mounts()
    assert all(m.source.count("/") == 4 and not m.options for m in mounts)  # /proc/self/fd/N


@pytest.mark.root
def test_before_linux_6_15_each_secret_is_its_own_detached_tmpfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """open_tree of a file in a detached mount fails with EINVAL before 6.15: one tmpfs per file."""
    import errno

    from composer.engine.runtime import libc
    from composer.engine.runtime.rootfs import STAGED

    def old_kernel(path: str, flags: int = 0) -> int:
        raise OSError(errno.EINVAL, "Invalid argument", path)

    monkeypatch.setattr(libc, "clone_tree", old_kernel)
    mounts = opened_secret_mounts()
    assert all(m.source.endswith("/secret") and m.options == STAGED for m in mounts)
