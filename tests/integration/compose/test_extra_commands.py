"""Compose's ``attach``, ``commit``, ``export``, ``volumes`` and ``version``, with the lines, errors and
exit codes Docker Compose 2.40.3 gives (checked against it and a docker 20.10 daemon)."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile

import pytest

pytestmark = [pytest.mark.root]

FILE = """
services:
  web:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "echo hi > /x; {loop}"]
    volumes: [data:/data, /anon]
  db:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "{loop}"]
volumes:
  data:
"""


def test_commit_and_export(project, tmp_path) -> None:
    project.write(FILE)
    project("up", "-d")
    name = f"{project.name}-web-1"
    done = project("--progress", "plain", "commit", "-m", "hello", "-c", "ENV X=1", "web", "snap:1")
    lines = done.stderr.splitlines()
    assert lines[0] == f" {name} Commit {name} Committing" and done.stdout == ""
    assert lines[1].startswith(f" {name} Commit {name} Committed as sha256:")
    (image,) = json.loads(project("image", "inspect", "snap:1").stdout)
    assert image["Id"] == lines[1].rsplit(" ", 1)[1] and image["Comment"] == "hello" and "X=1" in image["Config"]["Env"]
    as_json = project("--progress", "json", "commit", "-p=false", "web").stderr.splitlines()
    assert json.loads(as_json[0]) == {"id": name, "text": f"Commit {name}", "status": "Committing"}
    archive = tmp_path / "web.tar"
    exported = project("--progress", "plain", "export", "web", "-o", str(archive))
    assert exported.stderr == f" {name} export {name} to {archive} Exporting\n"
    assert archive.stat().st_mode & 0o777 == 0o600  # docker's atomic writer's mode
    with tarfile.open(archive) as tar:
        assert tar.extractfile("x").read() == b"hi\n"
    dry = project("--dry-run", "--progress", "plain", "commit", "web", "dry:1")
    assert dry.stderr.splitlines()[1] == f" {name} Commit {name} Committed"
    assert project("image", "inspect", "dry:1", ok=False).returncode == 1  # nothing made
    project("--dry-run", "export", "web", "-o", str(tmp_path / "dry.tar"))
    assert not (tmp_path / "dry.tar").exists()
    piped = subprocess.run([sys.executable, "-m", "composer", "export", "web"], cwd=project.directory,
                           capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout[:512].rstrip(b"\0")  # a tar on a redirected stdout


ERRORS = [
    (["commit", "nope"], 'service "nope" is not running'),
    (["commit", "web", "--index", "2"], 'service "web" is not running container #2'),
    (["commit"], "accepts between 1 and 2 arg(s), received 0"),
    (["commit", "web", "a", "b"], "accepts between 1 and 2 arg(s), received 3"),
    (["commit", "-c", "RUN x", "web"], "\nError response from daemon: run is not a valid change command\n"),  # compose's
    (["commit", "-c", "ENV", "web"], "\nError response from daemon: ENV requires at least one argument\n"),
    (["export", "nope"], 'service "nope" is not running'),
    (["export"], "requires at least 1 arg(s), only received 0"),
    (["export", "web", "-o", "/nonexistent/x.tar"],
     'failed to export container: invalid output path: directory "/nonexistent" does not exist'),
    (["attach", "nope"], 'service "nope" is not running'),
    (["volumes", "nope"], "no such service: nope"),
]


def test_errors(project) -> None:
    project.write(FILE)
    project("up", "-d", "web")
    for args, message in ERRORS:
        result = project(*args, ok=False)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)


def test_volumes(project) -> None:
    project.write(FILE)
    project("up", "-d")
    volume = f"{project.name}_data"
    assert project("volumes").stdout == f"DRIVER    VOLUME NAME\nlocal     {volume}\n"
    assert project("volumes", "-q").stdout == f"{volume}\n"
    assert project("volumes", "web").stdout.splitlines()[1:] == [f"local     {volume}"]
    assert project("volumes", "db").stdout == "DRIVER    VOLUME NAME\n"  # mounts no project volume
    row = json.loads(project("volumes", "--format", "json").stdout)
    assert row["Name"] == volume and row["Driver"] == "local" and f"com.docker.compose.project={project.name}" in row["Labels"]
    assert project("volumes", "--format", "{{.Name}} {{.Driver}}").stdout == f"{volume} local\n"
    assert project("volumes", "--format", "table {{.Name}}").stdout == f"VOLUME NAME\n{volume}\n"


def test_attach_follows_until_the_container_exits(project) -> None:
    project.write("""
        services:
          job:
            image: busybox
            network_mode: none
            command: ["sh", "-c", "while [ ! -f /go ]; do echo tick; sleep 0.1; done; echo out; echo err >&2; exit 3"]
    """)
    project("up", "-d")
    attached = project.popen("attach", "job", stdin=subprocess.DEVNULL)
    try:
        assert attached.stdout.readline() == "tick\n"  # following the container's output now
        project("exec", "job", "touch", "/go")
        out, err = attached.communicate(timeout=60)
        assert attached.returncode == 3 and out.splitlines()[-1] == "out" and "err" in err
    finally:
        if attached.poll() is None:
            attached.kill()
            attached.wait()


def test_version(project) -> None:
    from composer import __version__

    assert project("version").stdout == f"composer version v{__version__}\n"
    assert project("version", "--short").stdout == f"{__version__}\n"
    assert project("version", "--format", "json").stdout == json.dumps({"version": f"v{__version__}"},
                                                                      separators=(",", ":")) + "\n"


WHO = "until [ -s /who ]; do sleep 0.05; done; cat /who"  # (once the replica has written it)


def test_index_picks_the_replica(project, tmp_path) -> None:
    """commit_test/export_test WithReplicas: ``--index=N`` acts on replica N (its own files)."""
    project.write("""
        services:
          rep:
            image: busybox
            network_mode: none
            deploy: {replicas: 2}
            command: ["sh", "-c", "hostname > /who; {loop}"]
    """)
    project("up", "-d")
    second = project("exec", "--index", "2", "rep", "sh", "-c", WHO).stdout
    project("commit", "--index=2", "-m", "sample commit", "rep", "rep:2")
    shown = project("container", "run", "--rm", "--network", "none", "rep:2", "cat", "/who")
    assert shown.stdout == second
    archive = tmp_path / "r2.tar"
    project("export", "-o", str(archive), "--index=2", "rep")
    with tarfile.open(archive) as tar:
        assert tar.extractfile("who").read().decode() == second
    assert second != project("exec", "--index", "1", "rep", "sh", "-c", WHO).stdout
