"""``ADD <git repository> <dest>``: a repository cloned with the ``git`` binary into a temporary dir.

Sources look like BuildKit's: ``https://host/org/repo.git#ref:subdir``, ``git://host/repo.git``,
``ssh://git@host/repo.git``, ``git@host:org/repo.git#v1.2``. The ref (branch, tag or commit,
default the remote's HEAD) is resolved to a commit first with ``git ls-remote``, so the step's
cache key is the commit (a moved branch is a miss, an unchanged one a hit without cloning).
The checkout's ``.git`` is dropped unless ``--keep-git-dir=true``. ``git@``/``ssh://`` clones
use the build's ``default`` SSH agent when ``--ssh default`` was given.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from composer.errors import BuildError

_COMMIT = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class GitSource:
    """A repository, the ref to check out (empty: the remote's HEAD) and a subdirectory."""

    url: str
    ref: str = ""
    subdir: str = ""


def parse_git_source(text: str) -> GitSource:
    """``URL[#REF[:SUBDIR]]`` as a GitSource."""
    url, _, fragment = text.partition("#")
    ref, _, subdir = fragment.partition(":")
    if not url:
        raise BuildError(f"invalid git source {text!r}", hint="write URL.git[#ref[:subdir]]")
    return GitSource(url, ref, subdir.strip("/"))


def _git(args: list[str], env: Mapping[str, str], cwd: str | None = None) -> str:
    """Run ``git``; its stdout, or a BuildError with its stderr."""
    import subprocess

    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, env=dict(env), cwd=cwd,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise BuildError("ADD of a git repository needs the git binary", hint="apt-get install git") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"git {args[0]} took longer than {TIMEOUT} s") from None
    if done.returncode != 0:
        raise BuildError(f"git {args[0]} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def git_env(ssh_socket: str | None = None) -> dict[str, str]:
    """The environment of the git commands: no prompts, no user or system config, the agent if any."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_TERMINAL_PROMPT": "0",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": "/nonexistent",
           "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"}
    if ssh_socket:
        env["SSH_AUTH_SOCK"] = ssh_socket
    return env


def resolve_commit(source: GitSource, env: Mapping[str, str]) -> str:
    """The commit ``source.ref`` names on the remote (a full commit id is taken as it is)."""
    if _COMMIT.match(source.ref):
        return source.ref
    wanted = source.ref or "HEAD"
    lines = _git(["ls-remote", "--", source.url, wanted, f"{wanted}^{{}}"], env).splitlines()
    refs = dict(reversed(line.split("\t", 1)) for line in lines if "\t" in line)
    for name in (f"refs/tags/{wanted}^{{}}", f"refs/tags/{wanted}", f"refs/heads/{wanted}", wanted):
        if name in refs:
            return refs[name]
    raise BuildError(f"git: {source.url} has no branch or tag {wanted!r}",
                     hint="name an existing branch, tag or full commit id after #")


def checkout(source: GitSource, commit: str, dest: Path, env: Mapping[str, str], *, keep_git_dir: bool) -> Path:
    """Clone ``source`` at ``commit`` into the new directory ``dest``; the directory ADD copies."""
    _git(["init", "-q", str(dest)], env)
    where = str(dest)
    _git(["remote", "add", "origin", source.url], env, where)
    try:
        _git(["fetch", "-q", "--depth=1", "origin", commit], env, where)
    except BuildError:  # servers that refuse to serve a commit by id: fetch everything
        _git(["fetch", "-q", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"], env, where)
    _git(["-c", "advice.detachedHead=false", "checkout", "-q", commit], env, where)
    if (dest / ".gitmodules").exists():
        _git(["submodule", "update", "-q", "--init", "--recursive", "--depth=1"], env, where)
    if not keep_git_dir:
        shutil.rmtree(dest / ".git")
    root = dest / source.subdir if source.subdir else dest
    if not root.resolve().is_relative_to(dest.resolve()) or not root.is_dir():
        raise BuildError(f"git: {source.url} has no directory {source.subdir!r} at {commit[:12]}")
    return root
