"""``container commit`` on real containers: the new image runs with the container's changes
(added files, deletions, links kept as links), docker's config changes, history and errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root

SCRIPT = ("echo hi > /hello; rm /bin/ls; mkdir -p /opq/x; ln -s /etc/shadow /lnk; touch /ready; "
          "trap 'exit 0' TERM; while :; do sleep 0.1; done")


def _wait_for(path_glob: str, root: Path) -> None:
    deadline = time.monotonic() + 30
    while not list(root.glob(path_glob)):
        assert time.monotonic() < deadline, f"{path_glob} never appeared"
        time.sleep(0.05)


def test_commit_a_running_container(run, state_root: Path) -> None:
    assert run("-d", "--name", "c1", "--network", "none", "-e", "FOO=1", "busybox", "sh", "-c", SCRIPT).returncode == 0
    try:
        _wait_for("containers/*/upper/ready", state_root)
        result = cli(state_root, "container", "commit", "-a", "me", "-m", "msg", "-c", 'CMD ["cat", "/hello"]',
                     "-c", "ENV A=1", "-c", "EXPOSE 80", "c1", "snap:1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("sha256:") and len(result.stdout.strip()) == 71
        (state,) = json.loads(cli(state_root, "container", "inspect", "c1").stdout)
        assert state["State"]["Status"] == "running"  # paused while committed, thawed after
        assert run("--rm", "--network", "none", "snap:1").stdout == "hi\n"
        check = run("--rm", "--network", "none", "snap:1", "sh", "-c", "test -e /bin/ls || echo gone; readlink /lnk; ls /opq")
        assert check.stdout == "gone\n/etc/shadow\nx\n", check.stderr
        (image,) = json.loads(cli(state_root, "image", "inspect", "snap:1").stdout)
        assert (image["Author"], image["Comment"], image["Config"]["Cmd"]) == ("me", "msg", ["cat", "/hello"])
        assert "A=1" in image["Config"]["Env"] and "FOO=1" in image["Config"]["Env"]
        assert image["Config"]["ExposedPorts"] == {"80/tcp": {}} and len(image["RootFS"]["Layers"]) == 2
        assert image["Container"] == state["Id"]
        history = cli(state_root, "image", "history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "snap:1")
        assert history.stdout.splitlines()[0] == f"sh -c {SCRIPT}|msg"
    finally:
        cli(state_root, "container", "rm", "-f", "c1")


def test_commit_without_changes_and_errors(run, state_root: Path) -> None:
    assert run("--name", "c2", "--network", "none", "busybox", "true").returncode == 0
    try:
        plain = cli(state_root, "container", "commit", "-p=false", "c2")
        assert plain.returncode == 0, plain.stderr
        (image,) = json.loads(cli(state_root, "image", "inspect", plain.stdout.strip()).stdout)
        assert image["RepoTags"] == [] and len(image["RootFS"]["Layers"]) == 1  # an empty layer is not stored
        bad = cli(state_root, "container", "commit", "-c", "RUN rm -rf /", "c2")
        assert (bad.returncode, bad.stderr) == (1, "Error response from daemon: run is not a valid change command\n")
        missing = cli(state_root, "container", "commit", "nope")
        assert (missing.returncode, missing.stderr) == (1, "Error response from daemon: No such container: nope\n")
        many = cli(state_root, "container", "commit", "c2", "a", "b")
        assert many.returncode == 1 and "requires at least 1 and at most 2 arguments" in many.stderr
        upper = cli(state_root, "container", "commit", "c2", "BAD")
        assert upper.returncode == 1 and "must be lowercase" in upper.stderr
        assert cli(state_root, "container", "export", "-o", str(state_root / "c2.tar"), "c2").returncode == 0
        assert (state_root / "c2.tar").stat().st_mode & 0o777 == 0o600 and not list(state_root.glob(".c2.tar.*"))
        into_dir = cli(state_root, "container", "export", "-o", str(state_root), "c2")
        assert into_dir.returncode == 1 and "cannot write to a directory" in into_dir.stderr  # docker CLI 28
        nothing = cli(state_root, "container", "export")
        assert nothing.returncode == 1 and "'composer container export' requires 1 argument" in nothing.stderr
        gone = cli(state_root, "container", "export", "nope")
        assert (gone.returncode, gone.stderr) == (1, "Error response from daemon: No such container: nope\n")
    finally:
        cli(state_root, "container", "rm", "-f", "c2")


def test_commit_records_its_parent_and_dockers_media_types(run, state_root: Path) -> None:
    """As dockerd 20.10: Parent is the source image (its chain named in history), Config.Image as
    given, and the image is a Docker schema 2 manifest (what a push sends); the parent stays while
    a child needs it, hidden from ``image ls`` without ``-a``, and goes with its last child."""
    from composer.engine.images.store import ImageStore

    busybox = cli(state_root, "image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
    try:
        assert run("--name", "p1", "--network", "none", "busybox", "sh", "-c", "echo 1 > /one").returncode == 0
        first = cli(state_root, "container", "commit", "p1", "par:1").stdout.strip()
        assert run("--name", "p2", "--network", "none", "par:1", "sh", "-c", "echo 2 > /two").returncode == 0
        second = cli(state_root, "container", "commit", "p2", "par:2").stdout.strip()
        shown = cli(state_root, "image", "inspect", "-f", "{{.Parent}} {{.Config.Image}} {{.ContainerConfig.Image}}",
                    "par:2").stdout
        assert shown == f"{first} par:1 par:1\n"
        assert cli(state_root, "image", "inspect", "-f", "{{.Parent}} {{.Config.Image}}", "par:1").stdout == \
            f"{busybox} busybox\n"
        ids = cli(state_root, "image", "history", "--no-trunc", "-q", "par:2").stdout.split()
        assert ids == [second, first, busybox]
        store = ImageStore()
        manifest = json.loads(store.blobs.read(store.read_db()["images"][second]["manifest"]))
        assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
        assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar"}
        cli(state_root, "container", "rm", "p1", "p2")
        # a parent stays while a child names it: untagged only; by id: dockerd's conflict, even forced
        assert cli(state_root, "image", "rm", "par:1").stdout == "Untagged: par:1\n"
        refused = cli(state_root, "image", "rm", "-f", first)
        assert refused.returncode == 1 and (f"conflict: unable to delete {first[7:19]} (cannot be forced) - image has "
                                            "dependent child images") in refused.stderr
        cli(state_root, "image", "prune", "-f")
        assert cli(state_root, "image", "inspect", "-f", "{{.Id}}", first).stdout == f"{first}\n"
        assert cli(state_root, "image", "ls", "-q").stdout.split().count(first[7:19]) == 0  # (-a lists it)
        assert first[7:19] in cli(state_root, "image", "ls", "-aq").stdout.split()
        removed = cli(state_root, "image", "rm", "par:2").stdout.splitlines()  # its untagged parent goes too
        assert removed[:2] == ["Untagged: par:2", f"Deleted: {second}"] and f"Deleted: {first}" in removed
        assert f"Deleted: {busybox}" not in removed
    finally:
        cli(state_root, "container", "rm", "-f", "p1", "p2")


def test_container_port_words(run, state_root: Path) -> None:
    """``container port``'s answers as docker 28's CLI words them (a stopped container publishes nothing)."""
    assert run("--name", "p1", "--network", "none", "busybox", "true").returncode == 0
    try:
        cases = {("p1",): (0, ""), ("p1", "81"): (1, "Error: No public port '81' published for p1\n"),
                 ("p1", "abc"): (1, 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax\n'),
                 ("p1", "70000/udp"): (1, 'Error: invalid port (70000): strconv.ParseUint: parsing "70000": '
                                          "value out of range\n"),
                 ("nope", "abc"): (1, "Error response from daemon: No such container: nope\n")}
        for args, (code, stderr) in cases.items():
            result = cli(state_root, "container", "port", *args)
            assert (result.returncode, result.stderr, result.stdout) == (code, stderr, ""), args
        usage = cli(state_root, "container", "port", "p1", "80", "81")
        assert usage.returncode == 1 and "requires at least 1 and at most 2 arguments" in usage.stderr
    finally:
        cli(state_root, "container", "rm", "-f", "p1")


def test_commit_of_a_private_user_namespace_has_the_containers_ids(run, state_root: Path) -> None:
    """``--userns private``: the upper dir holds mapped host ids; the committed layer the container's."""
    assert run("--name", "u1", "--network", "none", "--userns", "private", "busybox", "sh", "-c",
               "echo x > /made; chown 5:6 /made").returncode == 0
    try:
        made = next((state_root / "containers").glob("*/upper/made"))
        assert made.stat().st_uid > 5  # a host id of the namespace's block
        result = cli(state_root, "container", "commit", "u1", "mapped:1")
        assert result.returncode == 0, result.stderr
        assert run("--rm", "--network", "none", "mapped:1", "stat", "-c", "%u:%g", "/made").stdout == "5:6\n"
    finally:
        cli(state_root, "container", "rm", "-f", "u1")
