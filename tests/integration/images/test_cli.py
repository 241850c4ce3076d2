"""The image commands end to end, through the CLI, against the real registry and skopeo."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.integration.images.warmcheck import warm_pull_modules

pytestmark = [pytest.mark.root]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_ls_inspect_tag_history_rm(composer, state_root: Path, busybox_tar: Path) -> None:
    with open(busybox_tar, "rb") as stdin:
        image_id = ok(subprocess.run([*_cli(), "image", "import", "-c", 'CMD ["sh"]', "-c", "ENV A=1", "-", "bb:1"],
                                     stdin=stdin, capture_output=True, text=True)).strip()
    assert image_id.startswith("sha256:")
    lines = ok(composer("image", "ls")).splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].split()[:3] == ["bb", "1", image_id[7:19]]
    ok(composer("image", "tag", "bb:1", "localhost:5000/team/bb:dev"))
    (document,) = json.loads(ok(composer("image", "inspect", "bb:1")))
    assert document["Id"] == image_id and document["Config"]["Cmd"] == ["sh"]
    assert document["Config"]["Env"] == ["A=1"]
    assert sorted(document["RepoTags"]) == ["bb:1", "localhost:5000/team/bb:dev"]
    assert document["RootFS"]["Type"] == "layers"
    assert ok(composer("image", "inspect", "-f", "{{.Config.Cmd}}", image_id[7:19])).strip() == "[sh]"
    assert "Imported from -" in ok(composer("image", "history", "bb:1"))  # docker import's comment
    (chain,) = [f"sha256:{path.name}" for path in (state_root / "images/snapshots").iterdir()]
    removed = ok(composer("image", "rm", "bb:1", "localhost:5000/team/bb:dev"))
    assert removed.splitlines() == ["Untagged: bb:1", "Untagged: localhost:5000/team/bb:dev",
                                    f"Deleted: {image_id}", f"Deleted: {chain}"]  # docker's lines, the layer too
    assert ok(composer("image", "ls", "-q")) == ""
    assert not any((state_root / "images/snapshots").iterdir())


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "composer"]


def test_save_load_roundtrip_with_skopeo(composer, busybox_image, tmp_path: Path) -> None:
    archive = tmp_path / "busybox.tar"
    ok(composer("image", "save", "-o", str(archive), "busybox"))
    info = json.loads(ok(subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"],
                                        capture_output=True, text=True)))
    assert info["Layers"] and info["Os"] == "linux"
    ok(subprocess.run(["skopeo", "inspect", f"oci-archive:{archive}"], capture_output=True, text=True))
    other = tmp_path / "other-root"
    other.mkdir()
    loaded = ok(composer("image", "load", "-i", str(archive), env={"COMPOSER_ROOT": str(other)}))
    assert loaded.strip() == "Loaded image: busybox:latest"
    (document,) = json.loads(ok(composer("image", "inspect", "busybox", env={"COMPOSER_ROOT": str(other)})))
    assert document["Id"] == busybox_image.id
    oci = tmp_path / "oci.tar"
    ok(subprocess.run(["skopeo", "copy", f"docker-archive:{archive}", f"oci-archive:{oci}:example.com/x/y:z"],
                      capture_output=True, text=True))
    assert "Loaded image: example.com/x/y:z" in ok(composer("image", "load", "-i", str(oci)))


def test_load_refuses_a_crafted_archive(composer, state_root: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../../escaped")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    result = subprocess.run([*_cli(), "image", "load"], input=buffer.getvalue(), capture_output=True)
    assert result.returncode == 1 and b"not a valid image archive" in result.stderr
    assert b"Traceback" not in result.stderr
    assert not (tmp_path.parent / "escaped").exists()


def test_push_and_pull(composer, busybox_image, registry, tmp_path: Path, docker_config) -> None:
    name = f"{registry.host}/cli-{uuid.uuid4().hex[:8]}:v1"
    ok(composer("image", "tag", "busybox", name))
    pushed = ok(composer("image", "push", name))
    assert "v1: digest: sha256:" in pushed
    other = {"COMPOSER_ROOT": str(tmp_path / "fresh")}
    (tmp_path / "fresh").mkdir()
    pulled = ok(composer("image", "pull", name, env=other))
    assert "Status: Downloaded newer image for" in pulled and "Pull complete" in pulled
    assert pulled.strip().endswith(name)
    again = ok(composer("image", "pull", name, env=other))
    assert "Status: Image is up to date" in again
    assert again.startswith(f"v1: Pulling from {name.split('/', 1)[1].rsplit(':', 1)[0]}\n")
    assert warm_pull_modules(name, other) == "httpx: False, typer: False, typing: False"
    (document,) = json.loads(ok(composer("image", "inspect", name, env=other)))
    assert document["Id"] == busybox_image.id and document["RepoDigests"]


def test_login_logout(composer, auth_registry, docker_config: Path, busybox_image) -> None:
    result = subprocess.run([*_cli(), "login", "-u", auth_registry.user, "--password-stdin", auth_registry.host],
                            input="wrong\n", capture_output=True, text=True)
    assert result.returncode == 1 and "wrong user name or password" in result.stderr
    result = subprocess.run([*_cli(), "login", "-u", auth_registry.user, "--password-stdin", auth_registry.host],
                            input=auth_registry.password + "\n", capture_output=True, text=True)
    assert ok(result).strip() == "Login Succeeded"
    assert "WARNING! Your credentials are stored unencrypted in" in result.stderr  # no helper: docker warns
    assert auth_registry.host in json.loads((docker_config / "config.json").read_text())["auths"]
    name = f"{auth_registry.host}/private:v1"
    ok(composer("image", "tag", "busybox", name))
    ok(composer("image", "push", "-q", name))
    assert "Removing login credentials" in ok(composer("logout", auth_registry.host))
    again = ok(composer("logout", auth_registry.host))  # docker's line, logged in or not
    assert again == f"Removing login credentials for {auth_registry.host}\n"
    failed = composer("image", "pull", name)
    assert failed.returncode == 1 and "composer login" in failed.stderr


def test_unreachable_registry_is_a_clear_error(composer, state_root: Path) -> None:
    from tests.fixtures.registry import free_port

    result = composer("image", "pull", f"127.0.0.1:{free_port()}/nothing:v1")
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_rm_refuses_an_image_a_container_uses(composer, busybox_image) -> None:
    container_id = ok(composer("container", "create", "busybox", "true")).strip()
    try:
        refused = composer("image", "rm", "busybox")
        assert refused.returncode == 1
        assert f'unable to remove repository reference "busybox" (must force) - container {container_id[:12]}' \
            in refused.stderr
        ok(composer("image", "prune", "-a", "-f"))
        assert busybox_image.id[7:19] in ok(composer("image", "ls", "-q"))
    finally:
        ok(composer("container", "rm", "-f", container_id))
    assert f"Deleted: {busybox_image.id}" in ok(composer("image", "rm", "busybox"))


def test_login_pull_logout_through_a_credential_helper(composer, auth_registry, docker_config: Path, busybox_image,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.images.credhelper import install_helper

    secrets = install_helper(tmp_path / "bin", "testvault", monkeypatch)
    (docker_config / "config.json").write_text(json.dumps({"credHelpers": {auth_registry.host: "testvault"}}))
    result = subprocess.run([*_cli(), "login", "-u", auth_registry.user, "--password-stdin", auth_registry.host],
                            input=auth_registry.password + "\n", capture_output=True, text=True)
    assert ok(result).strip() == "Login Succeeded"
    assert auth_registry.password not in (docker_config / "config.json").read_text()
    assert json.loads(secrets.read_text())[auth_registry.host]["Secret"] == auth_registry.password
    name = f"{auth_registry.host}/helped-{uuid.uuid4().hex[:8]}:v1"
    ok(composer("image", "tag", "busybox", name))
    ok(composer("image", "push", "-q", name))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert ok(composer("image", "pull", "-q", name, env={"COMPOSER_ROOT": str(fresh)})).strip() == name
    assert "Removing login credentials" in ok(composer("logout", auth_registry.host))
    assert json.loads(secrets.read_text()) == {}


def test_rm_force_deletes_an_image_a_stopped_container_uses(composer, busybox_image, state_root: Path) -> None:
    """docker's `rmi -f`: a stopped user's image goes (the container keeps its snapshots); a running one refuses."""
    stopped = ok(composer("container", "create", "busybox", "sh", "-c", "cat /etc/motd-x 2>/dev/null; echo ran")).strip()
    running = ok(composer("container", "run", "-d", "busybox", "sleep", "60")).strip()
    try:
        refused = composer("image", "rm", "-f", busybox_image.id[7:19])
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert (f"conflict: unable to delete {busybox_image.id[7:19]} (cannot be forced) - image is being used "
                f"by running container {running[:12]}") in refused.stderr
        untagged = ok(composer("image", "rm", "-f", "busybox"))  # by name: untagged, kept for the running one
        assert untagged.splitlines() == ["Untagged: busybox:latest"]
        ok(composer("container", "rm", "-f", running))
        deleted = ok(composer("image", "rm", "-f", busybox_image.id[7:19]))
        assert deleted.splitlines()[-1] == f"Deleted: {busybox_image.id}"
        assert busybox_image.id[7:19] not in ok(composer("image", "ls", "-aq"))
        assert any((state_root / "images/snapshots").iterdir())  # the stopped container still needs them
        ok(composer("container", "start", stopped))
        assert ok(composer("container", "wait", stopped)).strip() == "0"
        assert "ran" in ok(composer("container", "logs", stopped))
    finally:
        composer("container", "rm", "-f", running)
        ok(composer("container", "rm", "-f", stopped))
    pruned = ok(composer("image", "prune", "-a", "-f")).splitlines()
    (total,) = pruned  # no image left to list; gc frees the snapshots, docker counts no image's layer
    assert total == "Total reclaimed space: 0B"
    assert not any((state_root / "images/snapshots").iterdir())  # the last user gone, gc frees them
