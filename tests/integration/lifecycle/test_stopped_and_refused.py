"""Docker CLI lifecycle gaps (session 6, life2): cp with a stopped container, ExposedPorts, a
refused start, links to a stopped container, --sig-proxy=false, a tty's log; each as docker does."""

from __future__ import annotations

import glob
import os

import pytest

pytestmark = pytest.mark.root


def _overlay_mounts_of(state_root) -> list[str]:
    with open("/proc/self/mountinfo") as mounts:
        return [line for line in mounts if str(state_root) in line]


def test_cp_into_and_out_of_a_stopped_container_and_its_volume(cli, state_root, tmp_path):
    cli("volume", "create", "cpvol", check=True)
    cli("container", "run", "--name", "gone", "-v", "cpvol:/data", "busybox", "sh", "-c",
        "echo inside > /made && echo vol > /data/v && ln -s /tmp /hostlink", check=True)
    cli("container", "cp", "gone:/made", str(tmp_path / "made"), check=True)
    assert (tmp_path / "made").read_text() == "inside\n"
    cli("container", "cp", "gone:/data/v", str(tmp_path / "v"), check=True)  # the volume, as docker
    assert (tmp_path / "v").read_text() == "vol\n"
    (tmp_path / "host").write_text("from host\n")
    cli("container", "cp", str(tmp_path / "host"), "gone:/etc/", check=True)
    cli("container", "cp", str(tmp_path / "host"), "gone:/data/", check=True)
    unique = tmp_path.name + "-cp-escape"  # through an absolute link: the container's /tmp, never the host's
    (tmp_path / unique).write_text("x\n")
    cli("container", "cp", str(tmp_path / unique), "gone:/hostlink/", check=True)
    assert not os.path.exists(f"/tmp/{unique}")
    cli("container", "cp", f"gone:/tmp/{unique}", str(tmp_path / "escaped"), check=True)
    missing = cli("container", "cp", "gone:/nowhere", str(tmp_path))
    assert missing.returncode == 1 and "Could not find the file /nowhere in container gone" in missing.stderr
    assert not _overlay_mounts_of(state_root)  # nothing stays mounted, also after the failure
    cli("container", "start", "gone", check=True)
    cli("container", "wait", "gone", check=True)
    # (the container's sh re-ran and rewrote /made; what cp wrote is still there)
    shown = cli("container", "run", "--rm", "-v", "cpvol:/data", "busybox", "cat", "/data/host", check=True)
    assert shown.stdout == "from host\n"
    cli("container", "create", "--name", "fresh", "busybox", "true", check=True)
    cli("container", "cp", str(tmp_path / "host"), "fresh:/", check=True)
    cli("container", "cp", "fresh:/host", str(tmp_path / "back"), check=True)
    assert (tmp_path / "back").read_text() == "from host\n"
    assert not _overlay_mounts_of(state_root)
    cli("container", "rm", "-f", "gone", "fresh", check=True)
    cli("volume", "rm", "cpvol", check=True)
    assert not glob.glob(str(state_root / "containers" / "*"))



def test_cp_with_a_stopped_container_runs_none_of_its_programs(cli, state_root, tmp_path):
    """A crafted image's tar or sh would run as root on the host, merely chrooted: the copy of a
    stopped container is composer's own code; the container's programs never run outside it."""
    witness = tmp_path / "witness"
    trap = f"#!/bin/sh\necho ran > /ran; echo ran > {witness}\nexit 0\n"
    cli("container", "run", "--name", "crafted", "busybox", "sh", "-c",
        f"rm /bin/tar /bin/sh.real 2>/dev/null; printf '{trap}' > /bin/tar && chmod 755 /bin/tar && "
        "echo kept > /data.txt", check=True)
    (tmp_path / "in").write_text("in\n")
    cli("container", "cp", "crafted:/data.txt", str(tmp_path / "out"), check=True)
    cli("container", "cp", str(tmp_path / "in"), "crafted:/", check=True)
    assert (tmp_path / "out").read_text() == "kept\n"
    assert not witness.exists()
    assert cli("container", "cp", "crafted:/ran", str(tmp_path)).returncode == 1  # its tar never ran
    cli("container", "cp", "crafted:/in", str(tmp_path / "back"), check=True)
    assert (tmp_path / "back").read_text() == "in\n"
    assert not _overlay_mounts_of(state_root)
    cli("container", "rm", "crafted", check=True)

def test_exposed_ports_merge_the_image_expose_and_p(cli, tmp_path):
    import json

    cli("container", "create", "--name", "base", "busybox", "true", check=True)
    cli("container", "export", "-o", str(tmp_path / "fs.tar"), "base", check=True)
    cli("image", "import", "-c", "EXPOSE 9000", str(tmp_path / "fs.tar"), "exposing:1", check=True)
    cli("container", "create", "--name", "ports", "--expose", "7000-7001/udp", "-p", "127.0.0.1:18080:80",
        "exposing:1", "true", check=True)
    config = json.loads(cli("container", "inspect", "ports", check=True).stdout)[0]["Config"]
    assert config["ExposedPorts"] == {"7000/udp": {}, "7001/udp": {}, "80/tcp": {}, "9000/tcp": {}}
    cli("container", "create", "--name", "bare", "busybox", "true", check=True)
    assert "ExposedPorts" not in json.loads(cli("container", "inspect", "bare", check=True).stdout)[0]["Config"]
    cli("container", "rm", "base", "ports", "bare", check=True)
    cli("image", "rm", "exposing:1", check=True)


def test_a_refused_start_leaves_the_container_created_as_docker(cli, state_root):
    import json

    cli("network", "create", "--subnet", "10.241.7.0/24", "refusing", check=True)
    try:
        for flags in ((), ("-d",)):
            name = "refused" + "".join(flags)
            run = cli("container", "run", *flags, "--name", name, "--network", "refusing", "--ip", "10.99.0.5",
                      "busybox", "true")
            assert run.returncode == 125 and "10.99.0.5" in run.stderr
            state = json.loads(cli("container", "inspect", name, check=True).stdout)[0]["State"]
            assert (state["Status"], state["ExitCode"], state["Pid"]) == ("created", 128, 0)
            assert "10.99.0.5" in state["Error"]
            assert run.stdout.strip() == (state and json.loads(cli("container", "inspect", name).stdout)[0]["Id"]
                                          if flags else "")  # -d: the id, printed before the start
        assert "Created" in cli("container", "ps", "-a", "--filter", "name=refused", check=True).stdout
        gone = cli("container", "run", "--rm", "--name", "gone", "--network", "refusing", "--ip", "10.99.0.5",
                   "busybox", "true")
        assert gone.returncode == 125
        assert cli("container", "inspect", "gone").returncode == 1  # --rm: nothing left
        cli("container", "rm", "refused", "refused-d", check=True)
    finally:
        cli("container", "rm", "-f", "refused", "refused-d")
        cli("network", "rm", "refusing")


def test_a_link_to_a_stopped_container_refuses_the_start(cli):
    import json

    cli("container", "run", "--name", "linked", "busybox", "true", check=True)
    run = cli("container", "run", "--name", "linker", "--link", "linked:al", "busybox", "true")
    assert run.returncode == 125
    assert "Cannot link to a non running container: /linked AS /linker/al" in run.stderr
    assert json.loads(cli("container", "inspect", "linker", check=True).stdout)[0]["State"]["Status"] == "created"
    cli("container", "create", "--name", "later", "--link", "linked:al", "busybox", "true", check=True)
    start = cli("container", "start", "later")
    assert start.returncode == 1 and "Cannot link to a non running container: /linked AS /later/al" in start.stderr
    cli("container", "rm", "linked", check=True)  # (a running one under that name now)
    cli("container", "run", "-d", "--name", "linked", "busybox", "sleep", "30", check=True)
    cli("container", "start", "later", check=True)
    cli("container", "rm", "-f", "linked", "linker", "later", check=True)


def test_sig_proxy_false_passes_no_signal_on(cli, state_root):
    import json
    import os
    import signal
    import subprocess
    import sys

    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    trap = 'trap "echo got-term; exit 9" TERM; echo up; while true; do sleep 0.1; done'
    child = subprocess.Popen([sys.executable, "-m", "composer", "container", "run", "--sig-proxy=false", "--name", "sp",
                              "busybox", "sh", "-c", trap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline() == b"up\n"  # (shown as logs -f shows it)
        child.send_signal(signal.SIGTERM)  # our own child, by its pid
        assert child.wait(timeout=30) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    state = json.loads(cli("container", "inspect", "sp", check=True).stdout)[0]["State"]
    assert state["Running"] and "got-term" not in cli("container", "logs", "sp").stdout  # it runs on
    cli("container", "stop", "sp", check=True)
    assert "got-term" in cli("container", "logs", "sp").stdout
    quick = cli("container", "run", "--sig-proxy=false", "--rm", "--name", "quick", "busybox", "sh", "-c",
                "echo out; echo err >&2; exit 3")
    assert (quick.returncode, quick.stdout, quick.stderr) == (3, "out\n", "err\n")
    assert cli("container", "inspect", "quick").returncode == 1  # --rm: gone
    fed = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-i", "--rm", "--sig-proxy=false",
                          "busybox", "sh", "-c", "cat; exit 4"], input=b"typed\n", capture_output=True, env=env,
                         timeout=60)
    assert (fed.returncode, fed.stdout) == (4, b"typed\n")  # -i: attached, stdin passed on
    cli("container", "rm", "sp", check=True)


def test_a_foreground_tty_run_is_logged_as_one_stream(cli, state_root):
    import json

    run = cli("container", "run", "-t", "--name", "tty", "busybox", "sh", "-c", "echo out; echo err >&2; printf end")
    assert run.returncode == 0 and run.stdout == "out\nerr\nend"  # (text mode: \r\n read as \n)
    assert cli("container", "logs", "tty", check=True).stdout == "out\nerr\nend"
    log = json.loads(cli("container", "inspect", "tty", check=True).stdout)[0]["LogPath"]
    records = [json.loads(line) for line in open(log)]
    assert "".join(record["log"] for record in records) == "out\r\nerr\r\nend"
    assert {record["stream"] for record in records} == {"stdout"}  # a terminal has one stream
    cli("container", "rm", "tty", check=True)
