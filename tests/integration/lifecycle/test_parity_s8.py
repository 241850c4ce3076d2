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
        none_id = json.loads(cli("network", "inspect", "none", check=True).stdout)[0]["Id"]
        assert done["NetworkSettings"]["Networks"]["none"]["NetworkID"] == none_id
        assert names(f"network={none_id[:12]}") == ["done"]
        cli("container", "stop", "-t", "0", "web", check=True)
        stopped = json.loads(cli("container", "inspect", "web", check=True).stdout)[0]["NetworkSettings"]["Networks"]
        net_id = json.loads(cli("network", "inspect", "s8net", check=True).stdout)[0]["Id"]
        assert (stopped["s8net"]["NetworkID"], stopped["s8net"]["Aliases"]) == (net_id, [web["Id"][:12]])
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


def test_words_and_shapes_of_the_other_listings(cli):
    listed = cli("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.IPv4}}", check=True).stdout
    assert listed.endswith("host host false\nnone null false\n")  # docker's pre-defined networks
    none = json.loads(cli("network", "inspect", "none", check=True).stdout)[0]
    assert (none["Driver"], none["IPAM"]["Config"], none["Containers"]) == ("null", [], {})
    cli("network", "create", "s8dup", check=True)
    try:
        again = cli("network", "create", "s8dup")
        assert (again.returncode, again.stderr) == (
            1, "Error response from daemon: network with name s8dup already exists\n")
    finally:
        cli("network", "rm", "s8dup")
    gone = cli("network", "rm", "nope")
    assert gone.stderr == "Error response from daemon: network nope not found\nexit status 1\n"
    bad = cli("network", "ls", "--filter", "foo")
    assert (bad.returncode, bad.stderr) == (125, 'invalid argument "foo" for "-f, --filter" flag: bad format of '
                                            "filter (expected name=value)\n\nUsage:  composer network ls [OPTIONS]\n\n"
                                            "Run 'composer network ls --help' for more information\n")
    assert cli("volume", "ls", "--filter", "dangling=x").stderr == \
        "Error response from daemon: Invalid filter 'dangling=[x]'\n"
    assert cli("image", "ls", "--filter", "dangling=x").stderr == \
        "Error response from daemon: Invalid filter 'dangling=[x]'\n"
    forced = cli("image", "rm", "-f", "nope")
    assert (forced.returncode, forced.stderr) == (0, "Error response from daemon: No such image: nope:latest\n")
    cli("container", "run", "--name", "first", "--network", "none", "busybox", "echo", "out", check=True)
    cli("container", "create", "--name", "second", "--network", "none", "busybox", check=True)
    assert cli("container", "logs", "--details", "first", check=True).stdout == " out\n"
    assert cli("container", "stats", "--no-stream", "-a", "--format", "{{.Name}}", check=True).stdout == \
        "second\nfirst\n"  # newest first, as ps
    conflict = cli("container", "create", "--name", "first", "busybox")
    assert conflict.returncode == 1 and conflict.stderr.startswith(
        'Error response from daemon: Conflict. The container name "/first" is already in use by container "')
    assert conflict.stderr.endswith('". You have to remove (or rename) that container to be able to reuse that name.\n')
    assert cli("network", "connect", "nope", "first").stderr == "Error response from daemon: network nope not found\n"
    ran = cli("container", "run", "--name", "first", "busybox", "true")
    assert ran.returncode == 125 and ran.stderr.startswith(
        'composer: Error response from daemon: Conflict. The container name "/first" is already in use by container "')
    assert ran.stderr.endswith("reuse that name.\n\nRun 'composer container run --help' for more information\n")
    taken = cli("container", "rename", "second", "first")
    assert taken.stderr.startswith("Error response from daemon: Error when allocating new name: Conflict. The "
                                   'container name "/first" is already in use by container ')
    assert taken.stderr.endswith(". You have to remove (or rename) that container to be able to reuse that name.\n"
                                 "Error: failed to rename container named second\n")


def test_top_of_a_paused_container(cli):
    cli("container", "run", "-d", "--name", "still", "--network", "none", "busybox", "sleep", "60", check=True)
    cli("container", "pause", "still", check=True)
    top = cli("container", "top", "still", check=True).stdout.splitlines()
    assert top[0].split()[:2] == ["UID", "PID"] and top[1].endswith("sleep 60")
    cli("container", "unpause", "still", check=True)


def test_inspect_templates_as_docker(cli):
    port = _free_port()
    cli("container", "run", "-d", "--name", "tpl", "-p", f"127.0.0.1:{port}:80", "--expose", "90", "busybox",
        "sleep", "60", check=True)
    shown = cli("container", "inspect", "-f", "{{.HostConfig.PortBindings}} {{.NetworkSettings.Ports}} "
                "{{.Config.Entrypoint}} {{.HostConfig.CapAdd}} {{.Config.Volumes}}", "tpl", check=True).stdout
    assert shown == (f"map[80/tcp:[{{127.0.0.1 {port}}}]] map[80/tcp:[{{127.0.0.1 {port}}}] 90/tcp:[]] [] [] map[]\n")
    missing = cli("container", "inspect", "-f", "{{.Config.Foo}}", "tpl")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1, "\n", 'template parsing error: template: :1:9: executing "" at <.Config.Foo>: '
                 'map has no entry for key "Foo"\n')
    assert cli("container", "inspect", "-f", "{{.State.Health.Status}}", "tpl").stderr.endswith(
        'map has no entry for key "Health"\n')
    unclosed = cli("container", "inspect", "-f", "{{.Id", "tpl")
    assert (unclosed.returncode, unclosed.stderr) == (64, "template parsing error: template: :1: unclosed action\n")
    assert cli("container", "inspect", "-f", "{{.Id}}", "nope").stdout == "\n"  # docker's Flush of nothing
    listed = cli("container", "ls", "--format", "{{.Foo}}")
    assert (listed.returncode, listed.stderr) == (
        1, 'failed to execute template: template: :1:2: executing "" at <.Foo>: '
           "can't evaluate field Foo in type *formatter.ContainerContext\n")
    cli("volume", "create", "tplvol", check=True)
    assert cli("volume", "ls", "--format", "{{.Foo}}").stderr.endswith("in type *formatter.volumeContext\n")
    cli("volume", "rm", "tplvol", check=True)
    assert cli("volume", "inspect", "-f", "{{.Foo}}", "nope").stdout == "\n"


def test_inspect_json_keeps_dockerds_characters(cli):
    cli("container", "create", "--name", "amp", "--network", "none", "-l", "k=a<b&c", "busybox", "sh", "-c",
        "true && echo é", check=True)
    shown = cli("container", "inspect", "amp", check=True).stdout
    assert '"true && echo é"' in shown and '"k": "a<b&c"' in shown  # dockerd's JSON: SetEscapeHTML(false)
    assert "\\u0026\\u0026" in cli("container", "ls", "-a", "--format", "json", check=True).stdout  # the CLI's rows
    cli("volume", "create", "--label", "k=a<b", "ampvol", check=True)
    assert '"k": "a\\u003cb"' in cli("volume", "inspect", "ampvol", check=True).stdout  # the CLI's own encoding
    cli("volume", "rm", "ampvol", check=True)
