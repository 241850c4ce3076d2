"""Docker CLI parity of the container, volume and system commands: output, stderr and exit codes
as docker 28's CLI with its dockerd gave them for the same scenario (docs/parity.md)."""

from __future__ import annotations

import json
import tarfile

import pytest

pytestmark = pytest.mark.root

EMPTY_PS = "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
PS_JSON_KEYS = {"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks",
                "Platform", "Ports", "RunningFor", "Size", "State", "Status"}


def _id(cli, name: str) -> str:
    return cli("container", "inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()


@pytest.fixture
def two(cli):
    """``up`` (running, label tier=front) and ``done`` (exited 3)."""
    cli("container", "run", "-d", "--name", "up", "-l", "tier=front", "busybox", "sleep", "60", check=True)
    assert cli("container", "run", "--name", "done", "busybox", "sh", "-c", "exit 3").returncode == 3
    return cli


def test_several_containers_one_unknown(two):
    cli = two
    assert (cli("container", "stop", "nope").stderr, cli("container", "stop", "nope").returncode) == \
        ("Error response from daemon: No such container: nope\n", 1)
    stop = cli("container", "stop", "done", "nope")
    assert (stop.stdout, stop.stderr, stop.returncode) == \
        ("done\n", "Error response from daemon: No such container: nope\n", 1)
    start = cli("container", "start", "nope", "done")
    assert start.returncode == 1 and start.stdout == "done\n"
    assert start.stderr == ("Error response from daemon: No such container: nope\n"
                            "Error: failed to start containers: nope\n")
    cli("container", "wait", "done", check=True)
    forced = cli("container", "rm", "-f", "nope")
    assert (forced.returncode, forced.stderr) == (0, "Error response from daemon: No such container: nope\n")


def test_state_errors_in_dockerd_words(two):
    cli = two
    done, up = _id(cli, "done"), _id(cli, "up")
    kill = cli("container", "kill", "done")
    assert (kill.returncode, kill.stderr) == (
        1, f"Error response from daemon: Cannot kill container: done: Container {done} is not running\n")
    assert cli("container", "kill", "nope").stderr == \
        "Error response from daemon: Cannot kill container: nope: No such container: nope\n"
    assert cli("container", "kill", "-s", "FOO", "up").stderr == "Error response from daemon: Invalid signal: FOO\n"
    assert cli("container", "pause", "done").stderr == f"Error response from daemon: Container {done} is not running\n"
    assert cli("container", "unpause", "up").stderr == f"Error response from daemon: Container {up} is not paused\n"
    assert cli("container", "pause", "up", check=True).stdout == "up\n"
    assert cli("container", "pause", "up").stderr == f"Error response from daemon: Container {up} is already paused\n"
    assert cli("container", "unpause", "up", check=True).stdout == "up\n"
    assert cli("container", "top", "done").stderr == f"Error response from daemon: Container {done} is not running\n"
    top = cli("container", "top", "up", check=True).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert top[0].startswith("UID" + " " * 17 + "PID") and top[1].endswith("sleep 60")  # 20-wide cells
    rename = cli("container", "rename", "nope", "other")
    assert (rename.returncode, rename.stderr) == (1, "Error response from daemon: No such container: nope\n"
                                                     "Error: failed to rename container named nope\n")
    assert cli("container", "rename", "up", "x").stderr.startswith(
        "Error response from daemon: Error when allocating new name: Invalid container name (/x), ")
    missing = cli("container", "inspect", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1, "[]\n", "Error response from daemon: No such container: nope\n")


def test_ps_formats_and_filters(two):
    cli = two
    assert cli("container", "ls", "--filter", "name=nothing", check=True).stdout == EMPTY_PS
    names = lambda *args: cli("container", "ls", *args, "--format", "{{.Names}}", check=True).stdout.split()  # noqa: E731
    assert names() == ["up"] and names("-a") == ["done", "up"] and names("-n", "1") == ["done"]
    assert names("-l") == ["done"] and names("-a", "--filter", "exited=3") == ["done"]
    assert names("-a", "--filter", "label=tier=front") == ["up"] and names("-a", "--filter", "ancestor=busybox") == \
        ["done", "up"]
    assert names("-a", "--filter", "status=exited") == ["done"] and names("-a", "--filter", "before=done") == ["up"]
    row = json.loads(cli("container", "ls", "--format", "json", check=True).stdout)
    assert set(row) == PS_JSON_KEYS and row["Image"] == "busybox" and row["Command"] == '"sleep 60"'
    assert row["Labels"] == "tier=front" and row["Platform"] is None
    table = cli("container", "ls", "--format", 'table {{.Names}}\t{{.Label "tier"}}', check=True).stdout
    assert table == "NAMES     tier\nup        front\n"
    sized = cli("container", "ls", "-s", "--format", "{{.Size}}", check=True).stdout
    assert sized.startswith("0B (virtual ") or "(virtual" in sized
    bad = cli("container", "ls", "--format", "{{.Foo}}")
    assert bad.returncode == 1 and "can't evaluate field Foo" in bad.stderr
    assert cli("container", "ls", "--format", "{{.Names").returncode == 1
    assert cli("container", "ls", "-a", "--filter", "foo=bar").returncode == 1
    assert cli("container", "ls", "-a", "--filter", "foo").returncode == 125
    inspect = cli("container", "inspect", "-f", "{{.Name}} {{.State.Status}} {{.State.ExitCode}}", "done", check=True)
    assert inspect.stdout == "/done exited 3\n"
    labels = cli("container", "inspect", "-f", '{{index .Config.Labels "tier"}} {{json .Config.Labels}}', "up")
    assert labels.stdout == 'front {"tier":"front"}\n'


def test_logs_and_prune_prompt(cli):
    cli("container", "run", "-d", "--name", "talk", "busybox", "sh", "-c", "echo one; echo two", check=True)
    cli("container", "wait", "talk", check=True)
    assert cli("container", "logs", "--tail", "foo", "talk", check=True).stdout == "one\ntwo\n"  # docker: all
    assert cli("container", "logs", "--tail", "1", "talk", check=True).stdout == "two\n"
    bad = cli("container", "logs", "--since", "bogus", "talk")
    assert bad.returncode == 1 and 'failed to parse value as time or duration: "bogus"' in bad.stderr
    declined = cli("container", "prune")  # stdin is empty: no
    assert declined.stdout == "WARNING! This will remove all stopped containers.\n" \
                              "Are you sure you want to continue? [y/N] "
    assert cli("container", "ls", "-aq", check=True).stdout.strip()
    pruned = cli("container", "prune", "-f", check=True).stdout
    assert pruned.startswith("Deleted Containers:\n") and pruned.endswith("\nTotal reclaimed space: 0B\n")


def test_volume_parity(cli):
    assert cli("volume", "create", "v1", check=True).stdout == "v1\n"
    cli("volume", "create", "--label", "k=v", "v2", check=True)
    bad = cli("volume", "create", "bad name")
    assert bad.returncode == 1 and bad.stderr.startswith(
        'Error response from daemon: create bad name: "bad name" includes invalid characters for a local volume name')
    assert cli("volume", "ls", check=True).stdout == "DRIVER    VOLUME NAME\nlocal     v1\nlocal     v2\n"
    rows = [json.loads(line) for line in cli("volume", "ls", "--format", "json", check=True).stdout.splitlines()]
    assert set(rows[1]) == {"Availability", "Driver", "Group", "Labels", "Links", "Mountpoint", "Name", "Scope",
                            "Size", "Status"} and rows[1]["Labels"] == "k=v"
    assert cli("volume", "ls", "-q", "--filter", "label=k", check=True).stdout == "v2\n"
    [v1] = json.loads(cli("volume", "inspect", "v1", check=True).stdout)
    assert (v1["Labels"], v1["Options"], v1["Scope"]) == (None, None, "local") and v1["CreatedAt"].endswith("Z")
    assert "." not in v1["CreatedAt"]
    missing = cli("volume", "inspect", "nope")
    assert (missing.stdout, missing.stderr) == ("[]\n", "Error response from daemon: get nope: no such volume\n")
    cli("container", "run", "-d", "--name", "user", "-v", "v1:/data", "-v", "/tmp:/host:ro", "busybox", "sleep", "60",
        check=True)
    mounts = {m["Destination"]: m for m in json.loads(cli("container", "inspect", "-f", "{{json .Mounts}}", "user").stdout)}
    assert (mounts["/data"]["Source"], mounts["/data"]["Mode"], mounts["/data"]["Name"]) == (v1["Mountpoint"], "z", "v1")
    assert (mounts["/host"]["Type"], mounts["/host"]["Mode"], mounts["/host"]["RW"]) == ("bind", "ro", False)
    assert cli("volume", "ls", "-q", "--filter", "dangling=true", check=True).stdout == "v2\n"
    in_use = cli("volume", "rm", "v1")
    assert in_use.returncode == 1 and in_use.stderr == \
        f"Error response from daemon: remove v1: volume is in use - [{_id(cli, 'user')}]\n"
    forced = cli("volume", "rm", "-f", "nope")
    assert (forced.returncode, forced.stdout) == (0, "nope\n")
    several = cli("volume", "rm", "v2", "nope")
    assert (several.returncode, several.stdout, several.stderr) == (
        1, "v2\n", "Error response from daemon: get nope: no such volume\n")


def test_system_and_files(cli, tmp_path):
    cli("container", "run", "--name", "writer", "busybox", "sh", "-c", "echo x > /newfile; echo y >> /etc/passwd",
        check=True)
    assert cli("container", "diff", "writer", check=True).stdout == "C /etc\nC /etc/passwd\nA /newfile\n"
    cli("container", "export", "-o", str(tmp_path / "fs.tar"), "writer", check=True)
    with tarfile.open(tmp_path / "fs.tar") as tar:
        names = set(tar.getnames())
    assert {"newfile", "etc/passwd", "bin"} <= names
    df = cli("system", "df", check=True).stdout.splitlines()
    assert df[0] == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    assert [line.split()[0] for line in df[1:]] == ["Images", "Containers", "Local", "Build"]
    kinds = [json.loads(line)["Type"] for line in cli("system", "df", "--format", "json", check=True).stdout.splitlines()]
    assert kinds == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert cli("system", "info", "--format", "{{.Containers}} {{.OSType}}", check=True).stdout == "1 linux\n"
    assert cli("version", "--format", "{{.Server.Version}}", check=True).stdout.strip()
