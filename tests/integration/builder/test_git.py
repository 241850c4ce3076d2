"""ADD of a git repository served by a real `git daemon` on 127.0.0.1 (refs, subdirs, .git, cache)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore
from composer.errors import BuildError

pytestmark = [pytest.mark.root]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def commit(work: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    git("push", "-q", "--tags", "origin", "HEAD:main", cwd=work)


@pytest.fixture
def repo(tmp_path: Path):
    """(git:// URL of a bare repo served on loopback, a work tree that pushes to it)."""
    served = tmp_path / "served"
    bare = served / "app.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    work = tmp_path / "work"
    git("clone", "-q", str(bare), str(work), cwd=tmp_path)
    git("checkout", "-q", "-b", "main", cwd=work)
    commit(work, {"README": "one\n", "sub/inner.txt": "inner\n"}, "one")
    git("tag", "v1", cwd=work)
    git("push", "-q", "--tags", "origin", "main", cwd=work)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={served}",
                               "--listen=127.0.0.1", f"--port={port}", str(served)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}/app.git", work
    finally:
        daemon.terminate()
        daemon.wait(10)


def test_add_git_refs_subdir_keep_git_dir_and_cache(builder, context: Path, repo) -> None:
    url, work = repo
    dockerfile = f"""\
FROM busybox
ADD {url}#v1:sub /inner
ADD {url} /src
ADD --keep-git-dir=true {url}#main /kept
"""
    image_id, lines = builder(context, dockerfile)
    image = ImageStore().resolve(image_id)
    inner, src, kept = image.layer_dirs[-3:]
    assert (src / "src/README").read_text() == "one\n" and not (src / "src/.git").exists()
    assert sorted(p.name for p in (inner / "inner").iterdir()) == ["inner.txt"]
    assert (kept / "kept/.git/HEAD").exists()

    _, again = builder(context, dockerfile)
    assert again.count("CACHED") == 3
    commit(work, {"README": "two\n"}, "two")
    changed_id, changed = builder(context, dockerfile)
    assert changed.count("CACHED") == 1  # the tag v1 did not move; main did
    assert (ImageStore().resolve(changed_id).layer_dirs[-2] / "src/README").read_text() == "two\n"


def test_add_git_unknown_ref_and_checksum(builder, context: Path, repo) -> None:
    url, work = repo
    with pytest.raises(BuildError) as caught:
        builder(context, f"FROM busybox\nADD {url}#nope /src\n")
    assert "has no branch or tag 'nope'" in caught.value.message and caught.value.location.line == 2
    head = git("rev-parse", "HEAD", cwd=work).strip()
    builder(context, f"FROM busybox\nADD --checksum={head[:12]} {url}#main /src\n")
    with pytest.raises(BuildError, match="not --checksum=0000"):
        builder(context, f"FROM busybox\nADD --checksum=0000 {url}#main /src\n")
