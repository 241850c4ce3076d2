""".dockerignore reading, Docker's pattern matching and the pruning context walker."""

import os
from pathlib import Path

import pytest

from composer.engine.build.dockerignore import (Matcher, compile_pattern, go_clean, ignore_file, load,
                                                read_patterns, walk)
from composer.errors import BuildError


def test_read_patterns_cleans_like_docker() -> None:
    text = "\ufeff# comment\n  \n /abs/path \n!  /keep//me/ \nsub/../x\n./y\n #not a comment\n/\n"
    assert read_patterns(text) == ["abs/path", "!keep/me", "x", "y", "#not a comment", "/"]


def test_go_clean() -> None:
    assert go_clean("//a//b/./c/..") == "/a/b" and go_clean("") == "." and go_clean("a/") == "a"


# pattern, path, exact match, match counting parent directories
CASES = [
    ("**", "file", True, True), ("**/", "dir/file", True, True), ("**/**", "dir/file", True, True),
    ("dir/**", "dir/dir2/file", True, True), ("**/dir", "dir", True, True),
    ("**/dir", "dir/file", False, True), ("**/dir2/*", "dir/dir2/file", True, True),
    ("**/dir2/*", "dir/dir2/file/", False, True), ("**file", "dir/dir/file", True, True),
    ("**/file*.txt", "dir/dir/file.txt", True, True), ("**/**/*.txt2", "dir/dir/file.txt", False, False),
    ("**/*.txt", "file.txt", True, True), ("a**/*.txt", "a/dir/dir/file.txt", True, True),
    ("a/*.txt", "a/dir/file.txt", False, False), ("a/*.txt**", "a/file.txt", True, True),
    ("a[b-d]e", "ace", True, True), ("a[b-d]e", "aae", False, False), ("a[^b-d]e", "aze", True, True),
    (".*", ".foo", True, True), (".*", "foo", False, False), ("abc.def", "abcZdef", False, False),
    ("abc?def", "abcZdef", True, True), ("abc?def", "abcdef", False, False),
    ("**/foo/bar", "dir/dir2/foo/bar", True, True), ("abc/**", "abc", False, False),
    ("**/.foo", "bar.foo", False, False), ("a(b)c/def", "a(b)c/def", True, True),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True, True), ("a\\*b", "a*b", True, True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True, True),
    ("a*/b", "abc/b", True, True), ("a*/b", "a/c/b", False, False), ("a?b", "a/b", False, False),
    ("docs", "docs/sub/README.md", False, True), ("*", "a/b/c", False, True),
]


@pytest.mark.parametrize("pattern, path, exact, with_parents", CASES)
def test_pattern_matching(pattern: str, path: str, exact: bool, with_parents: bool) -> None:
    assert compile_pattern(pattern).match(path) is exact
    assert Matcher([pattern]).excluded(path) is with_parents


@pytest.mark.parametrize("patterns, path, excluded", [
    (["*.go"], "fileutils.go", True),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["docs", "!docs/README.md"], "docs/other.md", True),
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/x-1.whl", False),
    (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
    (["*.md", "!README*.md", "README-secret.md"], "README-public.md", False),
    (["*"], ".", False),
])
def test_last_match_wins(patterns: list[str], path: str, excluded: bool) -> None:
    assert Matcher(patterns).excluded(path) is excluded


@pytest.mark.parametrize("pattern", ["!", "[", "a[", "[^bc", "[]a]", "[-]", "[x-]", "[a-b-c]", "a\\"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(BuildError):
        Matcher([pattern])


def test_good_class_patterns() -> None:
    assert Matcher(["[\\]a]"]).excluded("]") and Matcher(["[x\\-]"]).excluded("-")


def tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def names(root: Path, patterns: list[str]) -> list[str]:
    return [rel for rel, _info in walk(root, Matcher(patterns))]


def test_walk_prunes_and_reincludes(tmp_path: Path) -> None:
    tree(tmp_path, ["a.txt", "docs/keep.md", "docs/drop.md", "docs/deep/keep.md", "node_modules/x/y.js",
                    "src/m.py"])
    assert names(tmp_path, ["docs", "!docs/keep.md", "node_modules"]) == [
        "a.txt", "docs", "docs/keep.md", "src", "src/m.py"]


def test_walk_yields_parents_of_reincluded_once(tmp_path: Path) -> None:
    tree(tmp_path, ["docs/deep/keep.md", "docs/keep.md", "docs/drop.md", "src/m.py"])
    assert names(tmp_path, ["docs", "!**/keep.md"]) == [
        "docs", "docs/deep", "docs/deep/keep.md", "docs/keep.md", "src", "src/m.py"]


def test_walk_does_not_descend_into_prunable_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, ["node_modules/x.js", "keep/me", "docs/a/b"])
    visited: list[str] = []
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        visited.append(os.path.relpath(path, tmp_path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = names(tmp_path, ["node_modules", "docs", "!keep/*", "!docs/a/*"])
    assert found == ["docs", "docs/a", "docs/a/b", "keep", "keep/me"]
    assert "node_modules" not in visited and "docs/a" in visited


def test_walk_from_a_subdirectory(tmp_path: Path) -> None:
    tree(tmp_path, ["app/a.py", "app/b.pyc", "other"])
    assert [rel for rel, _ in walk(tmp_path, Matcher(["**/*.pyc"]), "app")] == ["app/a.py"]


def test_dockerfile_specific_ignore_wins(tmp_path: Path) -> None:
    tree(tmp_path, [".dockerignore", "build/api.Dockerfile", "build/api.Dockerfile.dockerignore"])
    (tmp_path / ".dockerignore").write_text("*.md\n")
    (tmp_path / "build/api.Dockerfile.dockerignore").write_text("secret\n!keep\n")
    beside = tmp_path / "build/api.Dockerfile.dockerignore"
    assert ignore_file(tmp_path, tmp_path / "build/api.Dockerfile") == beside
    assert ignore_file(tmp_path, tmp_path / "Dockerfile") == tmp_path / ".dockerignore"
    matcher = load(tmp_path, tmp_path / "build/api.Dockerfile")
    assert matcher.excluded("secret") and not matcher.excluded("x.md")
    assert load(tmp_path / "build").patterns == ()


def test_bad_pattern_in_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n[bad\n")
    with pytest.raises(BuildError) as info:
        load(tmp_path)
    assert ".dockerignore" in str(info.value) and "pattern 2" in str(info.value)
