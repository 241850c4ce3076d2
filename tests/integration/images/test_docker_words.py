"""Image commands' lines as docker 28 prints them (compared with docker 28.2 against a private
dockerd): a missing image is ``No such image: NAME:latest`` in the daemon's wording, and a pull
announces a layer the store already has as ``Already exists`` only."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]

MISSING = "Error response from daemon: No such image: nope:latest"


@pytest.mark.parametrize("args", [("image", "rm", "nope"), ("image", "history", "nope"), ("image", "tag", "nope", "x"),
                                  ("image", "save", "-o", "/dev/null", "nope"), ("image", "ls", "-f", "since=nope")])
def test_a_missing_image_is_named_with_its_default_tag(composer, state_root: Path, args: tuple[str, ...]) -> None:
    failed = composer(*args)
    assert (failed.returncode, failed.stderr) == (1, MISSING + "\n")


def test_inspect_of_a_missing_image_keeps_the_name_given(composer, state_root: Path) -> None:
    failed = composer("image", "inspect", "nope", "nope:2")
    assert failed.returncode == 1 and failed.stdout == "[]\n"
    assert failed.stderr == f"{MISSING}\nError response from daemon: No such image: nope:2\n"


def test_run_with_pull_never_names_the_default_tag(composer, state_root: Path) -> None:
    failed = composer("container", "run", "--pull", "never", "nope")
    assert failed.returncode == 125 and "No such image: nope:latest" in failed.stderr


def test_push_and_pull_all_tags_and_a_layer_the_store_has_announced_as_already_exists(composer, busybox_image, registry, tmp_path: Path,
                                                            docker_config) -> None:
    repository = f"{registry.host}/words-{uuid.uuid4().hex[:8]}"
    base, derived = f"{repository}:v1", f"{repository}:v2"
    created = composer("container", "create", "busybox", "true")
    assert created.returncode == 0, created.stderr
    cid = created.stdout.strip()
    try:
        for step in (("container", "commit", "-c", "ENV X=1", cid, derived), ("image", "tag", "busybox", base)):
            assert composer(*step).returncode == 0, step
    finally:
        composer("container", "rm", "-f", cid)
    pushed = composer("image", "push", "--all-tags", repository)  # both tags, the repository line once
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.count("The push refers to repository") == 1
    assert [line.split(":")[0] for line in pushed.stdout.splitlines() if ": digest: sha256:" in line] == ["v1", "v2"]
    assert "tag can't be used with --all-tags/-a" in composer("image", "push", "-a", base).stderr
    fresh = {"COMPOSER_ROOT": str(tmp_path / "fresh")}
    (tmp_path / "fresh").mkdir()
    first = composer("image", "pull", base, env=fresh)
    assert first.returncode == 0 and "Pulling fs layer" in first.stdout, first.stderr
    second = composer("image", "pull", derived, env=fresh)
    assert second.returncode == 0, second.stderr
    layer_lines = [line for line in second.stdout.splitlines() if line.endswith(": Already exists")]
    assert layer_lines and "Pulling fs layer" not in second.stdout and "Pull complete" not in second.stdout
    assert "Status: Downloaded newer image for" in second.stdout
    every = {"COMPOSER_ROOT": str(tmp_path / "every")}
    (tmp_path / "every").mkdir()
    pulled = composer("image", "pull", "--all-tags", repository, env=every)
    assert pulled.returncode == 0, pulled.stderr
    lines = pulled.stdout.splitlines()
    path = repository.split("/", 1)[1]
    assert lines[0] == f"v1: Pulling from {path}" and f"v2: Pulling from {path}" in lines
    assert [line.startswith("Digest: sha256:") for line in lines].count(True) == 2
    assert lines[-2:] == [f"Status: Downloaded newer image for {repository}", repository]
    listed = composer("image", "ls", "--format", "{{.Tag}}", repository, env=every).stdout.split()
    assert sorted(listed) == ["v1", "v2"]
    again = composer("image", "pull", "-a", "-q", repository, env=every)
    assert (again.returncode, again.stdout) == (0, repository + "\n")
    tagged = composer("image", "pull", "-a", base, env=every)
    assert tagged.returncode == 1 and "tag can't be used with --all-tags/-a" in tagged.stderr


def test_disable_content_trust_is_taken(composer, state_root: Path) -> None:
    """docker's ``--disable-content-trust`` (true by default): accepted on pull and push."""
    pushed = composer("image", "push", "--disable-content-trust", "nope")
    assert pushed.returncode == 1 and "An image does not exist locally with the tag: nope" in pushed.stderr
    pulled = composer("image", "pull", "--disable-content-trust", "-q", "127.0.0.1:1/nope")  # the fast path
    assert pulled.returncode == 1 and "127.0.0.1:1 is unreachable" in pulled.stderr


def test_platform_of_a_local_image_must_be_its_own(composer, busybox_image) -> None:
    """``--platform`` on inspect, history, save and rm: the image's platform, else dockerd's NotFound."""
    own = composer("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "busybox").stdout.strip()
    assert composer("image", "inspect", "--platform", own, "-f", "{{.Os}}", "busybox").stdout == "linux\n"
    assert composer("image", "history", "--platform", own, "-q", "busybox").returncode == 0
    other = "linux/s390x" if own != "linux/s390x" else "linux/amd64"
    wrong = (f"Error response from daemon: image with reference busybox:latest was found but does not match the "
             f"specified platform: wanted {other}, actual: {own}\n")
    for args in (("image", "inspect"), ("image", "history"), ("image", "save", "-o", "/dev/null"), ("image", "rm")):
        failed = composer(*args, "--platform", other, "busybox")
        assert failed.returncode == 1 and failed.stderr == wrong, (args, failed.stderr)
    assert composer("image", "inspect", "busybox").returncode == 0  # rm refused: still there
