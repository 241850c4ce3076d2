"""ADD git sources: parsing ``URL#ref:subdir`` and resolving refs against a local repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from composer.engine.build.gitsource import GitSource, git_env, parse_git_source, resolve_commit
from composer.engine.build.instructions import add_source_kind
from composer.errors import BuildError


@pytest.mark.parametrize(("text", "expected"), [
    ("https://example.invalid/org/app.git", GitSource("https://example.invalid/org/app.git")),
    ("git@example.invalid:org/app.git#v1.2", GitSource("git@example.invalid:org/app.git", "v1.2")),
    ("git://h/app.git#main:docs/", GitSource("git://h/app.git", "main", "docs")),
    ("ssh://git@h/app.git#:sub", GitSource("ssh://git@h/app.git", "", "sub")),
])
def test_parse_git_source(text: str, expected: GitSource) -> None:
    assert add_source_kind(text) == "git"
    assert parse_git_source(text) == expected


def test_resolve_commit_of_branches_tags_and_ids(tmp_path: Path) -> None:
    env = {**git_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    git("commit", "-q", "--allow-empty", "-m", "one")
    git("tag", "-a", "-m", "annotated", "v1")
    head = git("rev-parse", "HEAD")
    url = f"file://{tmp_path}"
    assert resolve_commit(GitSource(url), env) == head
    assert resolve_commit(GitSource(url, "main"), env) == head
    assert resolve_commit(GitSource(url, "v1"), env) == head  # the annotated tag peeled to its commit
    assert resolve_commit(GitSource(url, "a" * 40), env) == "a" * 40
    with pytest.raises(BuildError, match="no branch or tag 'nope'"):
        resolve_commit(GitSource(url, "nope"), env)
