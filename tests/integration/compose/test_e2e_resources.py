"""Resources as compose's e2e suite states it: ``up --all-resources`` creates unused networks and
volumes, a missing external network fails only the services using it, ``pull
--ignore-pull-failures``, an image given by bare ID, a published port range shared by replicas,
and a switched volume recreating the service while binds never do."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.network.conftest import free_prefix24

pytestmark = [pytest.mark.root]

LOOPING = 'command: ["sh", "-c", "{loop}"]'


def states(project) -> dict[str, str]:
    return {r["Name"]: r["State"] for r in project.ps("-a")}


def test_all_resources_creates_unused_networks_and_volumes(project):
    project.write(f"""
        services:
          web: {{image: busybox, {LOOPING}}}
        networks:
          spare: {{}}
        volumes:
          spare: {{}}
        """)
    project("up", "-d")
    assert "proj_spare" not in project("network", "ls").stdout
    project("up", "-d", "--all-resources")
    assert "proj_spare" in project("network", "ls").stdout
    assert "proj_spare" in project("volume", "ls").stdout


def test_a_missing_external_network_fails_only_its_users(project):
    project.write(f"""
        services:
          ok: {{image: busybox, {LOOPING}}}
          broken: {{image: busybox, {LOOPING}, networks: [missing]}}
        networks:
          missing: {{external: true}}
        """)
    project("up", "-d", "ok")
    assert states(project) == {"proj-ok-1": "running"}
    result = project("up", "-d", ok=False)
    assert result.returncode == 1 and "network missing not found" in result.stderr
    assert states(project)["proj-ok-1"] == "running"


def test_pull_ignore_pull_failures(project):
    project.write("""
        services:
          ghost: {image: "127.0.0.1:9/ghost:1"}
        """)
    assert project("pull", ok=False).returncode == 1
    assert project("pull", "--ignore-pull-failures").returncode == 0


def test_image_given_by_bare_id(project, busybox_image):
    for image in (busybox_image.id, busybox_image.id.removeprefix("sha256:")[:12]):
        project.write(f"""
            services:
              web: {{image: "{image}", {LOOPING}}}
            """)
        project("up", "-d")
        assert states(project) == {"proj-web-1": "running"}
        assert "Recreate" not in project("--progress", "plain", "up", "-d").stderr


def test_a_port_range_is_shared_by_the_replicas(project):
    ports = _free_range(3)
    project.write(f"""
        services:
          web:
            image: busybox
            {LOOPING}
            ports: ["{ports[0]}-{ports[-1]}:80"]
        """)
    project("up", "-d", "--scale", "web=3")
    published = sorted(p["PublishedPort"] for r in project.ps() for p in r["Publishers"])
    assert published == ports


def test_switching_a_volume_recreates_but_a_bind_never_does(project, tmp_path):
    for name in ("vol-one", "vol-two"):
        project("volume", "create", name)
    (tmp_path / "site").mkdir()
    project.write(f"""
        services:
          web:
            image: busybox
            {LOOPING}
            volumes: ["${{EXTERNAL_VOLUME}}:/data", "{tmp_path / 'site'}:/site"]
        volumes:
          vol-one: {{external: true}}
          vol-two: {{external: true}}
        """)
    # the variable for every command that does not set it (the teardown's `down` too: an empty
    # one makes the file invalid, and that `down` then left the container running)
    (project.directory / ".env").write_text("EXTERNAL_VOLUME=vol-two\n")
    try:
        for name in ("vol-one", "vol-two"):
            result = _run(project, ["--progress", "plain", "up", "-d"], EXTERNAL_VOLUME=name)
            mounts = json.loads(project("container", "inspect", "proj-web-1").stdout)[0]["Mounts"]
            assert name in [m.get("Name") for m in mounts]
        again = _run(project, ["--progress", "plain", "up", "-d"], EXTERNAL_VOLUME="vol-two")
        assert "Recreate" in result.stderr and "Recreate" not in again.stderr
    finally:
        project("down", "-t", "1", ok=False)
        for name in ("vol-one", "vol-two"):
            project("volume", "rm", name, ok=False)


def _run(project, args: list[str], stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    import os

    result = subprocess.run([sys.executable, "-m", "composer", *args], cwd=project.directory, text=True, input=stdin,
                            capture_output=True, timeout=120, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result


def _free_range(count: int) -> list[int]:
    """``count`` consecutive free TCP ports on the host."""
    import socket

    for start in range(31000, 32000, count):
        try:
            sockets = []
            for port in range(start, start + count):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("0.0.0.0", port))
            return list(range(start, start + count))
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    pytest.skip("no free port range")


def test_a_changed_volume_definition_is_recreated_with_yes(project):
    """compose's TestUpRecreateVolumes: up asks whether to recreate the volume; without a terminal
    it prints the question and reads one line: none or "n" keeps the volume (exit 0), "y" recreates
    it, and -y does without asking. Its containers are removed first and made again on the empty volume."""
    project.write("""
        services:
          app:
            image: busybox
            command: ["sh", "-c", "ls /data; touch /data/old; {loop}"]
            volumes: [data:/data]
        volumes:
          data:
            labels: {foo: "${VOL_LABEL:-bar}"}
        """)
    project("up", "-d")

    def label() -> str:
        return json.loads(project("volume", "inspect", "proj_data").stdout)[0]["Labels"]["foo"]

    question = 'Volume "proj_data" exists but doesn\'t match configuration in compose file. Recreate (data will be lost)?'
    declined = _run(project, ["up", "-d"], stdin="", VOL_LABEL="zot")
    assert question in declined.stdout and "volume proj_data kept" in declined.stderr and label() == "bar"
    assert question in _run(project, ["up", "-d"], stdin="n\n", VOL_LABEL="zot").stdout and label() == "bar"
    _run(project, ["up", "-d"], stdin="y\n", VOL_LABEL="zot")
    assert label() == "zot"
    assert project("logs", "--no-log-prefix", "app").stdout == ""  # the new container saw an empty volume
    assert "doesn't match" not in _run(project, ["up", "-d"], stdin="", VOL_LABEL="zot").stdout
    recreated = _run(project, ["up", "-d", "-y"], stdin="", VOL_LABEL="baz")
    assert "doesn't match" not in recreated.stdout and label() == "baz"


def test_a_missing_env_file_fails_only_the_commands_of_its_service(project):
    """compose's TestUnusedMissingEnvFile: ps, logs, exec, scale and down work; what creates the
    service with the missing file fails, naming it."""
    project.write(f"""
        services:
          ok: {{image: busybox, {LOOPING}}}
          broken: {{image: busybox, {LOOPING}, env_file: /doesnotexist/.env}}
          relative: {{image: busybox, env_file: ./e.env}}
        """)
    (project.directory / "e.env").write_text("FOO=BAR\n")
    assert "FOO=BAR" in project("run", "--rm", "relative", "env").stdout  # compose's TestRunEnvFile
    project("up", "-d", "ok")
    project("ps")
    project("logs")
    assert project("exec", "-T", "ok", "echo", "hello").stdout == "hello\n"
    project("scale", "ok=2")
    for command in (("up", "-d"), ("up", "-d", "broken"), ("run", "--rm", "broken", "true"), ("scale", "broken=1")):
        failed = project(*command, ok=False)
        assert failed.returncode == 1 and "env file /doesnotexist/.env not found" in failed.stderr, command
    assert states(project) == {"proj-ok-1": "running", "proj-ok-2": "running"}
    project("down", "-t", "1")
    assert states(project) == {}


NETWORKED = """
    services:
      web: {image: busybox, LOOPING, networks: [front]}
      db: {image: busybox, LOOPING, networks: [back]}
    networks:
      front:
        ipam: {config: [{subnet: SUBNET.0/24}]}
      back: {}
    """


def network(project, name: str) -> dict:
    return json.loads(project("network", "inspect", name).stdout)[0]


def test_a_changed_network_is_recreated_with_the_containers_on_it(project):
    """compose's TestNetworkConfigChanged: the network's config-hash label changed, so its
    containers are stopped, the network made again and the same containers started again on it
    (reconnected, not recreated); an unchanged network and its containers are left alone."""
    first, second = free_prefix24(), free_prefix24()
    while second == first:
        second = free_prefix24()
    project.write(NETWORKED.replace("LOOPING", LOOPING).replace("SUBNET", first))
    project("up", "-d")
    ids = {r["Name"]: r["ID"] for r in project.ps()}
    front, back = network(project, "proj_front"), network(project, "proj_back")
    assert front["Labels"]["com.docker.compose.config-hash"]
    project("up", "-d")
    assert {r["Name"]: r["ID"] for r in project.ps()} == ids
    project.write(NETWORKED.replace("LOOPING", LOOPING).replace("SUBNET", second))
    project("up", "-d")
    assert {r["Name"]: (r["ID"], r["State"]) for r in project.ps()} == {n: (i, "running") for n, i in ids.items()}
    assert network(project, "proj_back")["Id"] == back["Id"]
    renewed = network(project, "proj_front")
    assert renewed["Id"] != front["Id"] and renewed["IPAM"]["Config"][0]["Subnet"] == f"{second}.0/24"
    assert f"inet {second}." in project("exec", "-T", "web", "ip", "-4", "-o", "addr").stdout
    assert project("up", "-d").returncode == 0 and network(project, "proj_front")["Id"] == renewed["Id"]


def test_a_volume_subpath_mounts_a_directory_of_the_volume(project):
    """``volumes: - {type: volume, volume: {subpath: ...}}``: the service sees only that directory."""
    project.write("""
        services:
          writer:
            image: busybox
            command: ["sh", "-c", "mkdir -p /all/sub && echo inside > /all/sub/file && echo top > /all/top"]
            volumes: ["data:/all"]
          reader:
            image: busybox
            command: ["sh", "-c", "ls /part; cat /part/file"]
            depends_on: {writer: {condition: service_completed_successfully}}
            volumes:
              - {type: volume, source: data, target: /part, volume: {subpath: sub}}
        volumes:
          data: {}
        """)
    project("up", "-d", "--wait", "writer")
    result = project("run", "--rm", "-T", "reader")
    assert result.stdout.split() == ["file", "inside"], result.stdout
