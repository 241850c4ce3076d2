"""docker 25+'s bind recursion: a read-only bind is read-only all the way down (its submounts
too) unless ``bind-recursive=writable``; ``disabled`` binds the directory without its submounts;
Compose's ``bind: {recursive, create_host_path: false, selinux}`` likewise."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.engine.runtime import libc
from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root

NO_NET = ("--rm", "--network", "none")
PROBE = "cat /m/sub/mark; touch /m/top 2>/dev/null && echo top-rw || echo top-ro; " \
        "touch /m/sub/x 2>/dev/null && echo sub-rw || echo sub-ro"


@pytest.fixture
def nested(tmp_path: Path):
    """A host directory with a tmpfs mounted on its ``sub`` (holding ``mark``); unmounted after."""
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    libc.mount("tmpfs", str(source / "sub"), "tmpfs", 0, "size=64k")
    try:
        (source / "sub" / "mark").write_text("sub\n")
        yield source
    finally:
        libc.umount(str(source / "sub"), libc.MNT_DETACH)


def _probe(run, *mount: str) -> list[str]:
    result = run(*NO_NET, *mount, "busybox", "sh", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize("flags, seen", [
    (("-v", "{src}:/m:ro"), ["sub", "top-ro", "sub-ro"]),  # enabled (the default): recursively read-only
    (("--mount", "type=bind,src={src},dst=/m,readonly,bind-recursive=writable"), ["sub", "top-ro", "sub-rw"]),
    (("--mount", "type=bind,src={src},dst=/m,readonly,bind-recursive=readonly,bind-propagation=rprivate"),
     ["sub", "top-ro", "sub-ro"]),
    (("--mount", "type=bind,src={src},dst=/m,bind-recursive=disabled"), ["top-rw", "sub-rw"]),  # no submount
    (("-v", "{src}:/m"), ["sub", "top-rw", "sub-rw"]),
])
def test_bind_recursion(run, nested, flags, seen):
    assert _probe(run, flags[0], flags[1].format(src=nested)) == seen


def test_bind_recursive_refused_as_docker(run, nested):
    for options, words in [("bind-recursive=writable", "'bind-recursive=writable' requires 'readonly'"),
                           ("readonly,bind-recursive=readonly", "requires 'bind-propagation=rprivate'"),
                           ("bind-recursive=Enabled", "invalid value for bind-recursive: Enabled")]:
        result = run(*NO_NET, "--mount", f"type=bind,src={nested},dst=/m,{options}", "busybox", "true")
        assert result.returncode == 125 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_compose_bind_options(image, state_root: Path, nested: Path, tmp_path: Path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "compose.yaml").write_text(f"""
services:
  a:
    image: busybox
    network_mode: none
    volumes:
      - {{type: bind, source: {nested}, target: /m, read_only: true, bind: {{recursive: writable, selinux: z}}}}
      - {{type: bind, source: {nested}, target: /r, read_only: true}}
      - {{type: bind, source: {nested}, target: /d, bind: {{recursive: disabled}}}}
""")
    probe = f"{PROBE}; test -e /d/sub/mark || echo d-bare; touch /r/sub/y 2>/dev/null || echo r-ro"
    ran = cli(state_root, "--project-directory", str(project), "run", "--rm", "a", "sh", "-c", probe)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["sub", "top-ro", "sub-rw", "d-bare", "r-ro"]
    for bind in ("{create_host_path: false}", "{propagation: rprivate}"):  # Compose 2.40: a bind: section
        refused = _compose_run(state_root, project, tmp_path / "nothere", f", bind: {bind}")  # creates nothing
        assert refused.returncode != 0 and "bind source path does not exist" in refused.stderr, refused.stderr
        assert not (tmp_path / "nothere").exists() and "Traceback" not in refused.stderr
    for bind in ("", ", bind: {create_host_path: true}"):  # no bind: section, or create_host_path: created
        made = _compose_run(state_root, project, tmp_path / f"made{len(bind)}", bind)
        assert made.returncode == 0 and (tmp_path / f"made{len(bind)}").is_dir(), made.stderr


def _compose_run(state_root: Path, project: Path, source: Path, bind: str):
    (project / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    network_mode: none\n    volumes:\n"
        f"      - {{type: bind, source: {source}, target: /m{bind}}}\n")
    return cli(state_root, "--project-directory", str(project), "run", "--rm", "a", "true")
