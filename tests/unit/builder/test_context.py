"""Build context: COPY source resolution, errors, content hashes and tar stream contexts."""

import io
import os
import tarfile
from pathlib import Path

import pytest

from composer.engine.build.context import BuildContext, from_stream, load_digests, save_digests
from composer.errors import BuildError


@pytest.fixture
def ctx(tmp_path: Path) -> BuildContext:
    for name, text in {"app/main.py": "print(1)", "app/util.py": "x", "app/cache.pyc": "bin",
                       "README.md": "r", "a.txt": "a", "b.txt": "b", "secret.key": "k",
                       "dir with space/f": "s", "weird[1].txt": "w"}.items():
        path = tmp_path / "ctx" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "ctx/.dockerignore").write_text("secret.key\n**/*.pyc\n")
    (tmp_path / "outside.txt").write_text("o")
    return BuildContext.from_directory(tmp_path / "ctx")


def resolved(ctx: BuildContext, source: str) -> list[str]:
    return [s.path for s in ctx.resolve(source)]


def test_plain_sources(ctx: BuildContext) -> None:
    assert resolved(ctx, "a.txt") == ["a.txt"]
    assert resolved(ctx, "/app/../a.txt") == ["a.txt"]
    assert resolved(ctx, "./app/") == ["app"] and ctx.resolve("app")[0].is_dir
    assert resolved(ctx, ".") == ["."]


def test_wildcards(ctx: BuildContext) -> None:
    assert resolved(ctx, "*.txt") == ["a.txt", "b.txt", "weird[1].txt"]
    assert resolved(ctx, "?.txt") == ["a.txt", "b.txt"]
    assert resolved(ctx, "[ab].txt") == ["a.txt", "b.txt"]
    assert resolved(ctx, "app/*") == ["app/main.py", "app/util.py"]
    assert resolved(ctx, "*/main.py") == ["app/main.py"]
    assert resolved(ctx, "weird\\[1].txt") == ["weird[1].txt"]


def test_ignored_files_do_not_exist(ctx: BuildContext) -> None:
    with pytest.raises(BuildError, match="'secret.key' not found in the build context"):
        ctx.resolve("secret.key")
    with pytest.raises(BuildError, match="matches nothing"):
        ctx.resolve("app/*.pyc")


def test_missing_source_names_path_and_context(ctx: BuildContext) -> None:
    with pytest.raises(BuildError) as info:
        ctx.resolve("nope/file")
    assert "nope/file" in info.value.message and str(ctx.root) in info.value.message


@pytest.mark.parametrize("source", ["../outside.txt", "..", "app/../../outside.txt"])
def test_outside_the_context(ctx: BuildContext, source: str) -> None:
    with pytest.raises(BuildError, match="outside the build context") as info:
        ctx.resolve(source)
    assert source in info.value.message


def test_symlinks_followed_inside_refused_outside(ctx: BuildContext) -> None:
    os.symlink("a.txt", ctx.root / "link")
    os.symlink("../app", ctx.root / "app/self")
    os.symlink("/etc/passwd", ctx.root / "abs")
    os.symlink("../outside.txt", ctx.root / "rel_out")
    assert resolved(ctx, "link") == ["a.txt"] and ctx.resolve("link")[0].name == "link"
    assert resolved(ctx, "app/self/main.py") == ["app/main.py"]
    for source in ("abs", "rel_out"):
        with pytest.raises(BuildError, match="outside the build context"):
            ctx.resolve(source)


def test_symlink_loop(ctx: BuildContext) -> None:
    os.symlink("loop2", ctx.root / "loop1")
    os.symlink("loop1", ctx.root / "loop2")
    with pytest.raises(BuildError, match="too many levels"):
        ctx.resolve("loop1")


def digest(ctx: BuildContext, *sources: str) -> str:
    return ctx.content_hash([s for source in sources for s in ctx.resolve(source)])


def test_hash_ignores_mtime_but_sees_content_mode_and_names(ctx: BuildContext) -> None:
    first = digest(ctx, "app")
    os.utime(ctx.root / "app/main.py", (1, 1))
    assert digest(ctx, "app") == first
    (ctx.root / "app/main.py").write_text("print(2)")
    second = digest(ctx, "app")
    assert second != first
    (ctx.root / "app/main.py").chmod(0o755)
    third = digest(ctx, "app")
    assert third != second
    (ctx.root / "app/main.py").chmod(0o4755)
    assert digest(ctx, "app") != third
    (ctx.root / "app/main.py").rename(ctx.root / "app/other.py")
    assert digest(ctx, "app") not in (first, second, third)


def test_hash_ignores_excluded_files_and_owner(ctx: BuildContext) -> None:
    first = digest(ctx, "app")
    (ctx.root / "app/cache.pyc").write_text("changed")
    os.chown(ctx.root / "app/main.py", 1234, 1234) if os.geteuid() == 0 else None
    assert digest(ctx, "app") == first


def test_hash_sees_symlink_targets(ctx: BuildContext) -> None:
    os.symlink("main.py", ctx.root / "app/l")
    first = digest(ctx, "app")
    os.unlink(ctx.root / "app/l")
    os.symlink("util.py", ctx.root / "app/l")
    assert digest(ctx, "app") != first


def test_hash_depends_on_source_names(ctx: BuildContext) -> None:
    assert digest(ctx, "a.txt") != digest(ctx, "b.txt")
    (ctx.root / "b.txt").write_text("a")
    assert digest(ctx, "a.txt") != digest(ctx, "b.txt")
    assert digest(ctx, "a.txt", "b.txt") != digest(ctx, "b.txt", "a.txt")


def test_file_digest_is_memoised(ctx: BuildContext) -> None:
    digest(ctx, "app")
    cached, computed = len(ctx.digests), ctx.computed
    digest(ctx, "app")
    assert len(ctx.digests) == cached > 0 and ctx.computed == computed == 2


def test_digest_memo_survives_a_restart(ctx: BuildContext, tmp_path: Path) -> None:
    first = digest(ctx, "app")
    save_digests(tmp_path / "memo/digests.json", ctx.digests)
    again = BuildContext(ctx.root, ctx.matcher, load_digests(tmp_path / "memo/digests.json"))
    assert again.digests == ctx.digests and digest(again, "app") == first
    (tmp_path / "memo/digests.json").write_text("[broken")
    assert load_digests(tmp_path / "memo/digests.json") == {}
    assert load_digests(tmp_path / "absent.json") == {}


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="not a directory"):
        BuildContext.from_directory(tmp_path / "missing")


def make_tar(members: dict[str, bytes], mode: str = "w") -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_stream_context(tmp_path: Path, mode: str) -> None:
    stream = make_tar({"Dockerfile": b"FROM x\n", "src/a": b"a", ".dockerignore": b"src/b\n", "src/b": b"b"}, mode)
    ctx, text = from_stream(stream, tmp_path)
    assert text is None and resolved(ctx, "src/*") == ["src/a"]


def test_stdin_dockerfile_without_context(tmp_path: Path) -> None:
    ctx, text = from_stream(io.BytesIO(b"FROM busybox\nRUN true\n"), tmp_path)
    assert text == "FROM busybox\nRUN true\n" and ctx.root == tmp_path.resolve()


def test_tar_members_cannot_escape(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BuildError, match="cannot read the build context archive"):
        from_stream(make_tar({"../evil": b"x"}), dest)
    assert not (tmp_path / "evil").exists()
    from_stream(make_tar({"/abs/evil": b"x"}), dest)
    assert (dest / "abs/evil").read_bytes() == b"x"


def test_tar_symlink_cannot_lead_out(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("etc")
        link.type, link.linkname = tarfile.SYMTYPE, "/tmp"
        archive.addfile(link)
        info = tarfile.TarInfo("etc/evil")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    buffer.seek(0)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BuildError, match="cannot read the build context archive"):
        from_stream(buffer, dest)
    assert not Path("/tmp/evil").exists()


def test_copy_exclude_patterns(ctx: BuildContext) -> None:
    full = digest(ctx, "app")
    sources = ctx.resolve("app")
    assert [rel for rel, _ in ctx.entries(sources[0], ["util.py"])] == ["", "main.py"]
    excluded = ctx.content_hash(sources, ["util.py"])
    assert excluded != full
    (ctx.root / "app/util.py").write_text("changed")
    assert ctx.content_hash(sources, ["util.py"]) == excluded
    top = ctx.resolve("*.txt")
    assert ctx.content_hash(top, ["b*"]) == ctx.content_hash([s for s in top if s.name != "b.txt"])


def test_wildcard_matches_are_followed_and_checked(ctx: BuildContext) -> None:
    os.symlink("app", ctx.root / "z_link")
    os.symlink("../outside.txt", ctx.root / "z_out")
    assert [(s.path, s.name, s.is_dir) for s in ctx.resolve("z_l*")] == [("app", "z_link", True)]
    with pytest.raises(BuildError, match="outside the build context"):
        ctx.resolve("z_*")


def test_parents_keep_the_source_path(ctx: BuildContext) -> None:
    assert [s.name for s in ctx.resolve("app/*.py", parents=True)] == ["app/main.py", "app/util.py"]
    assert [s.name for s in ctx.resolve("app/main.py")] == ["main.py"]


def test_rootfs_sources_resolve_links_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin/busybox").write_text("bb")
    os.symlink("/bin/busybox", root / "bin/sh")
    os.symlink("../../../bin", root / "bin/up")
    image = BuildContext.from_rootfs(root)
    assert [s.path for s in image.resolve("/bin/sh")] == ["bin/busybox"]
    assert [s.path for s in image.resolve("/bin/up/busybox")] == ["bin/busybox"]
    assert image.resolve("/bin/sh")[0].name == "sh"


def test_directory_mode_is_part_of_the_hash(ctx: BuildContext) -> None:
    first = digest(ctx, "app")
    (ctx.root / "app").chmod(0o700)
    assert digest(ctx, "app") != first


def test_excluded_directory_with_reincluded_child(tmp_path: Path) -> None:
    for name in ("docs/keep.md", "docs/drop.md", "other/x"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / ".dockerignore").write_text("docs\n!docs/keep.md\nother\n")
    ctx = BuildContext.from_directory(tmp_path)
    source = ctx.resolve("docs")[0]
    assert [rel for rel, _ in ctx.entries(source)] == ["", "keep.md"]
    with pytest.raises(BuildError, match="not found"):
        ctx.resolve("other")


def test_vanished_file_is_a_build_error(ctx: BuildContext) -> None:
    sources = ctx.resolve("a.txt")
    (ctx.root / "a.txt").unlink()
    with pytest.raises(BuildError, match="a.txt"):
        ctx.content_hash(sources)
