"""docker's CLI conventions in composer's rendering (no kernel: empty state root, pure helpers)."""

from __future__ import annotations

import pytest

from composer.cli.render import daemon_text, each_reference
from composer.errors import ContainerNotFound, ContainerStateError, VolumeError


def test_daemon_wording():
    assert daemon_text(ContainerNotFound("No such container: x")) == \
        "Error response from daemon: No such container: x"
    conflict = ContainerStateError('Conflict. The container name "/a" is already in use by container "1"',
                                   hint="remove (or rename) that container to be able to reuse that name")
    assert daemon_text(conflict) == ('Error response from daemon: Conflict. The container name "/a" is already in '
                                     'use by container "1". You have to remove (or rename) that container to be '
                                     'able to reuse that name.')
    running = ContainerStateError('cannot remove container "/a": container is running',
                                  hint="stop the container before removing or force remove")
    assert daemon_text(running).endswith("container is running: stop the container before removing or force remove")


def test_each_reference_goes_on_and_reports_at_the_end(capsys):
    def action(name: str) -> str:
        if name.startswith("no"):
            raise VolumeError(f"get {name}: no such volume")
        return name

    assert each_reference(["a", "nope", "b"], action, "failed to start containers: {}") == 1
    out, err = capsys.readouterr()
    assert out == "a\nb\n"
    assert err == "Error response from daemon: get nope: no such volume\nError: failed to start containers: nope\n"
    assert each_reference(["nope"], action, harmless=lambda error: True) == 0  # rm -f of a missing one


@pytest.mark.parametrize(("argv", "code", "text"), [
    (["container", "inspect"], 1, "'composer container inspect' requires at least 1 argument"),
    (["container", "ls", "--bogus"], 125, "unknown flag: --bogus"),
    (["container", "ls", "-n", "abc"], 125, 'invalid argument "abc" for "-n, --last" flag'),
    (["container", "ls", "x"], 1, "'composer container ls' accepts no arguments"),
    (["volume", "ls", "--bogus"], 125, "unknown flag: --bogus"),
    (["volume", "rm"], 1, "'composer volume rm' requires at least 1 argument"),
    (["container", "stop", "--bogus", "x"], 125, "unknown flag: --bogus"),
])
def test_command_line_errors_exit_as_docker(composer, state_root, argv, code, text):
    result = composer(*argv)
    assert result.returncode == code and text in result.stderr and "Traceback" not in result.stderr


def test_empty_lists_as_docker(composer, state_root):
    assert composer("container", "ls").stdout == \
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    assert composer("volume", "ls").stdout == "DRIVER    VOLUME NAME\n"
    missing = composer("volume", "inspect", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1, "[]\n", "Error response from daemon: get nope: no such volume\n")
    declined = composer("volume", "prune", input="n\n")
    assert declined.stdout == ("WARNING! This will remove anonymous local volumes not used by at least one "
                               "container.\nAre you sure you want to continue? [y/N] ")


def test_a_nameless_volume_is_anonymous(composer, state_root):
    name = composer("volume", "create").stdout.strip()
    assert len(name) == 64
    pruned = composer("volume", "prune", "-f").stdout
    assert pruned == f"Deleted Volumes:\n{name}\n\nTotal reclaimed space: 0B\n"


def test_run_with_a_bad_name_exits_125(composer, state_root):
    result = composer("container", "run", "--name", "a", "busybox", "true")  # docker: one letter is too short
    assert result.returncode == 125 and "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" in result.stderr


def test_df_images_rows_measure_layers_as_image_ls(monkeypatch):
    """system df's Images SIZE counts each layer once, in the sizes image ls adds up (the files'
    bytes, ``disk``; the tar's length only for a layer recorded before that), and an image a
    container was made from is active."""
    from types import SimpleNamespace

    import composer.cli.system_fast as system
    import composer.cli.volumes as volumes
    import composer.engine.runtime.containers as containers
    from composer.engine.images.store import ImageStore
    from composer.engine.volumes import VolumeStore

    db = {"refs": {}, "layers": {"sha256:a": 100, "sha256:b": 200, "sha256:old": 7},
          "disk": {"sha256:a": 1000, "sha256:b": 2000},
          "images": {"sha256:one": {"chain": ["sha256:a"]}, "sha256:two": {"chain": ["sha256:a", "sha256:b"]},
                     "sha256:three": {"chain": ["sha256:old"]}}}
    monkeypatch.setattr(ImageStore, "read_db", lambda self: db)
    monkeypatch.setattr(containers, "list_containers", lambda all=True: [
        SimpleNamespace(id="c1", image_id="sha256:two", state="exited")])
    monkeypatch.setattr(VolumeStore, "list", lambda self: [])
    monkeypatch.setattr(volumes, "_in_use", lambda: set())
    monkeypatch.setattr(system, "_du", lambda path: 0)
    images = system.df_rows()[0]
    assert (images["TotalCount"], images["Active"]) == ("3", "1")
    assert images["Size"] == "3.007kB"  # 1000 + 2000 + 7, a shared layer once
    assert images["Reclaimable"] == "1.007kB (25%)"  # one (1000) and three (7) of 4007


def test_stats_of_a_missing_container_is_dockers_error(composer, state_root):
    ran = composer("container", "stats", "--no-stream", "nope")
    assert (ran.returncode, ran.stdout, ran.stderr) == (1, "", "Error response from daemon: No such container: nope\n")
