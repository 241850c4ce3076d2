"""Session 8's side-by-side sweep (docker CLI 28, dockerd 20.10; docs/parity.md): ``container ls``
and ``container inspect`` of real containers as docker showed the same scenario."""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = pytest.mark.root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ps_and_inspect_as_docker(cli):
    port = _free_port()
    cli("network", "create", "s8net", check=True)
    cli("container", "run", "-d", "--name", "web", "--network", "s8net", "-p", f"127.0.0.1:{port}:80",
        "--expose", "90", "-v", "s8vol:/data", "busybox", "sleep", "60", check=True)
    assert cli("container", "run", "--name", "done", "--network", "none", "busybox", "true").returncode == 0
    try:
        rows = {row["Names"]: row for row in map(json.loads, cli("container", "ls", "-a", "--format", "json",
                                                                 check=True).stdout.splitlines())}
        assert rows["web"]["Ports"] == f"90/tcp, 127.0.0.1:{port}->80/tcp"
        assert f'"Ports":"90/tcp, 127.0.0.1:{port}-\\u003e80/tcp"' in cli(
            "container", "ls", "--format", "json", check=True).stdout
        assert rows["done"]["Networks"] == "none" and rows["done"]["Size"] == "0B"
        assert json.loads(cli("container", "ls", "-l", "--format", "{{json .}}", check=True).stdout)["Size"] \
            .startswith("0B (virtual ")

        def names(*items: str) -> list[str]:
            argv = [arg for item in items for arg in ("--filter", item)]
            return cli("container", "ls", "-a", *argv, "--format", "{{.Names}}", check=True).stdout.split()

        assert names(f"publish={port}") == ["web"] and names("publish=80") == []
        assert names("expose=90") == ["web"] and names("network=none") == ["done"] and names("id=") == []
        assert names("volume=/data") == ["web"]
        refused = cli("container", "ls", "--filter", "health=foo")
        assert (refused.returncode, refused.stderr) == (
            1, "Error response from daemon: Unrecognised filter value for health: foo\n")
        assert cli("container", "ls", "--filter", "before=nope").stderr == \
            "Error response from daemon: no such container nope\n"

        web, done = json.loads(cli("container", "inspect", "web", "done", check=True).stdout)
        assert web["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}],
                                                   "90/tcp": None}
        assert web["NetworkSettings"]["Networks"]["s8net"]["Aliases"] == [web["Id"][:12]]
        assert web["ResolvConfPath"].endswith(f"/{web['Id']}/resolv.conf") and web["Config"]["WorkingDir"] == ""
        assert list(done["NetworkSettings"]["Networks"]) == ["none"] and "NetworkDisabled" not in done["Config"]
    finally:
        cli("container", "rm", "-f", "web", "done")
        cli("network", "rm", "s8net")
        cli("volume", "rm", "s8vol")


def test_inspect_of_create_as_docker(cli):
    cli("container", "create", "--name", "rich", "--network", "none", "-e", "A=1", "--entrypoint", "/bin/sh",
        "--init", "--cap-add", "net_admin", "--tmpfs", "/run:size=1m", "-i", "busybox", "-c", "sleep 1", check=True)
    rich = json.loads(cli("container", "inspect", "rich", check=True).stdout)[0]
    assert (rich["Path"], rich["Args"]) == ("/bin/sh", ["-c", "sleep 1"])
    config, host = rich["Config"], rich["HostConfig"]
    assert (config["Entrypoint"], config["Cmd"], config["Image"]) == (["/bin/sh"], ["-c", "sleep 1"], "busybox")
    assert config["Env"][0] == "A=1" and config["Env"][1].startswith("PATH=")
    assert (config["AttachStdin"], config["AttachStdout"], config["StdinOnce"]) == (True, True, True)
    assert host["Binds"] is None and host["Tmpfs"] == {"/run": "size=1m"} and host["CapAdd"] == ["CAP_NET_ADMIN"]
    assert rich["Mounts"] == [] and rich["ResolvConfPath"] == ""
    detached = cli("container", "run", "-d", "--network", "none", "busybox", "true", check=True).stdout.strip()
    assert json.loads(cli("container", "inspect", detached, check=True).stdout)[0]["Config"]["AttachStdout"] is False
