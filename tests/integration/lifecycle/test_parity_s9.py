"""Session 9's side-by-side checks (docker CLI 28, dockerd 20.10; docs/parity.md "Session 9"):
the errors of ``run``/``create``/``start`` in docker's shape and exit codes, ``kill -s``'s
signal checks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root

RUN_HELP = "\n\nRun 'composer container run --help' for more information\n"


def test_run_errors_take_dockers_shape_and_exit_codes(cli):
    """``docker: Error response from daemon: ...``, a blank line, where the help is: 125, and
    127/126 for a program the image lacks or cannot run; the CLI's own refusals without the
    daemon's words; nothing is left behind."""
    for argv, code, text in (
            (["busybox", "nosuchcmd"], 127, 'Error response from daemon: exec: "nosuchcmd": executable file not found in $PATH'),
            (["busybox", "/etc"], 126, 'Error response from daemon: exec: "/etc": permission denied'),
            (["--pull", "never", "nosuchimage"], 125, "Error response from daemon: No such image: nosuchimage:latest"),
            (["-w", "rel", "busybox", "true"], 125,
             "Error response from daemon: the working directory 'rel' is invalid, it needs to be an absolute path"),
            (["-m", "1k", "busybox", "true"], 125, "Error response from daemon: Minimum memory limit allowed is 6MB"),
            (["--memory-reservation", "1k", "busybox", "true"], 125,
             "Error response from daemon: Minimum memory reservation allowed is 6MB"),
            (["-u", "nosuch", "busybox", "true"], 125,
             "Error response from daemon: unable to find user nosuch: no matching entries in passwd file\n"),
            (["Bad:x"], 125, "invalid reference format: repository name (library/Bad) must be lowercase\n"),
            (["-p", "99999:80", "busybox", "true"], 125, "invalid port range '99999' in '99999:80'")):
        for detach in ([], ["-d"]):
            result = cli("container", "run", "--rm", "--network", "none", *detach, *argv)
            assert result.returncode == code, (argv, result.stderr)
            assert result.stderr.startswith(f"composer: {text}") and result.stderr.endswith(RUN_HELP), result.stderr
    assert cli("container", "ls", "-aq", check=True).stdout == ""
    missing = cli("container", "run")
    assert (missing.returncode, missing.stderr.splitlines()[0]) == (
        1, "composer: 'composer container run' requires at least 1 argument")
    bad_attach = cli("container", "run", "-a", "foo", "busybox")
    assert bad_attach.returncode == 125 and "\n\nUsage:  composer container run [OPTIONS]" in bad_attach.stderr


def test_create_and_start_errors_as_docker(cli):
    """``create``: the daemon's refusals as ``Error response from daemon: ...`` (exit 1), the
    CLI's (a bad ``-p``, ``-a``) with ``composer:`` and the help line (125); ``start -a`` of a
    program that cannot run exits 1 as ``docker start -a``."""
    for argv, text in ((["--name", "a b", "busybox"],
                        "Invalid container name (a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
                       (["--pull", "never", "nosuch"], "No such image: nosuch:latest"),
                       (["-w", "rel", "busybox"], "the working directory 'rel' is invalid, it needs to be an absolute path"),
                       (["-m", "1k", "busybox"], "Minimum memory limit allowed is 6MB")):
        result = cli("container", "create", *argv)
        assert (result.returncode, result.stderr) == (1, f"Error response from daemon: {text}\n"), argv
    bad_port = cli("container", "create", "-p", "1.2.3:80:80", "busybox")
    assert bad_port.returncode == 125 and bad_port.stderr.startswith("composer: invalid host address '1.2.3'")
    assert bad_port.stderr.endswith("\n\nRun 'composer container create --help' for more information\n")
    assert cli("container", "create", "-a", "foo", "busybox").returncode == 125
    bad_name = cli("container", "create", "Bad:x")
    assert (bad_name.returncode, bad_name.stderr) == (
        1, "invalid reference format: repository name (library/Bad) must be lowercase\n")
    assert cli("container", "ls", "-aq", check=True).stdout == ""
    cli("container", "create", "--name", "s9cx", "--network", "none", "busybox", "nosuchcmd", check=True)
    try:
        for argv in (["s9cx"], ["-a", "s9cx"]):
            result = cli("container", "start", *argv)
            assert result.returncode == 1 and result.stderr.startswith(
                'Error response from daemon: exec: "nosuchcmd": executable file not found in $PATH\n'), result.stderr
        several = cli("container", "start", "-a", "s9cx", "other")
        assert (several.returncode, several.stderr) == (1, "you cannot start and attach multiple containers at once\n")
    finally:
        cli("container", "rm", "-f", "s9cx")


def test_kill_signal_checks_as_dockerd(cli):
    """``Invalid signal: X`` for 0 or a name Linux lacks, before the container is looked up;
    a number Linux has not: ``The linux daemon does not support signal N`` once it is found."""
    cli("container", "run", "-d", "--name", "s9k", "--network", "none", "busybox", "sleep", "60", check=True)
    try:
        for signal in ("0", "sigfoo", "RTMAX-15", "_DFL"):
            for name in ("s9k", "nope"):
                result = cli("container", "kill", "-s", signal, name)
                assert (result.returncode, result.stderr) == (
                    1, f"Error response from daemon: Invalid signal: {signal}\n"), (signal, name)
        for signal, shown in (("65", "65"), ("32", "32"), ("-1", "18446744073709551615")):
            result = cli("container", "kill", "-s", signal, "s9k")
            assert (result.returncode, result.stderr) == (
                1, f"Error response from daemon: Cannot kill container: s9k: The linux daemon does not support "
                   f"signal {shown}\n")
        assert cli("container", "inspect", "-f", "{{.State.Running}}", "s9k", check=True).stdout == "true\n"
        assert cli("container", "kill", "-s", "RTMIN+3", "s9k", check=True).stdout == "s9k\n"
    finally:
        cli("container", "rm", "-f", "s9k")


def test_health_status_events_of_a_container_of_no_project_are_replayed(cli):
    """``events --since --filter event=health_status`` (a script waiting for healthy) shows the
    changes of a ``container run`` container's health, as dockerd's: only changes, while running."""
    import time

    since = str(int(time.time()))
    cli("container", "run", "-d", "--name", "s9h", "--network", "none", "--health-cmd", "test -f /tmp/ok",
        "--health-interval", "200ms", "--health-retries", "1", "busybox", "sh", "-c",
        "sleep 0.5; touch /tmp/ok; sleep 1; rm /tmp/ok; sleep 60", check=True)
    try:
        deadline = time.monotonic() + 20
        wanted = ["health_status: unhealthy", "health_status: healthy", "health_status: unhealthy"]
        while True:
            shown = cli("system", "events", "--since", since, "--until", str(int(time.time()) + 1), "--filter",
                        "event=health_status", "--filter", "container=s9h", "--format", "{{.Action}}",
                        check=True).stdout.split("\n")[:-1]
            if shown == wanted or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert shown == wanted
    finally:
        cli("container", "rm", "-f", "s9h")


def test_attach_events_of_start_a_and_attach(cli):
    """dockerd's ``attach`` event: ``start -a`` before the start, ``attach`` when it attaches."""
    import subprocess
    import time

    since = str(time.time())
    cli("container", "create", "--name", "s9a", "--network", "none", "busybox", "echo", "hi", check=True)
    assert cli("container", "start", "-a", "s9a", check=True).stdout == "hi\n"
    cli("container", "run", "-d", "--name", "s9b", "--network", "none", "busybox", "sleep", "60", check=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            cli("container", "attach", "s9b", timeout=3)
        shown = cli("system", "events", "--since", since, "--until", str(time.time()), "--filter", "type=container",
                    "--format", "{{.Action}} {{.Actor.Attributes.name}}", check=True).stdout.splitlines()
        assert shown == ["create s9a", "attach s9a", "start s9a", "die s9a", "create s9b", "start s9b", "attach s9b"]
    finally:
        cli("container", "rm", "-f", "s9a", "s9b")


def test_compose_run_records_the_attach_event(cli, tmp_path):
    """compose ``run`` (attached): create, attach, start, as dockerd's events show it."""
    import time

    (tmp_path / "compose.yaml").write_text("services:\n  one:\n    image: busybox\n    network_mode: none\n")
    since = str(time.time())
    done = cli("-f", str(tmp_path / "compose.yaml"), "-p", "s9run", "run", "--name", "s9r", "one", "echo", "hi",
               check=True)
    assert done.stdout == "hi\n"
    try:
        shown = cli("system", "events", "--since", since, "--until", str(time.time()), "--filter", "container=s9r",
                    "--format", "{{.Action}}", check=True).stdout.splitlines()
        assert shown[:3] == ["create", "attach", "start"], shown
    finally:
        cli("-f", str(tmp_path / "compose.yaml"), "-p", "s9run", "down")


@pytest.mark.parametrize("running", [True, False])
def test_cp_destinations_and_owners_as_docker(cli, tmp_path, running):
    """docker's archive.CopyTo rules both ways (a directory's contents with ``/.``, ``dir/`` that
    must exist for a file, a directory onto a file refused, the host's missing directory), the
    CLI's refusals in its words; the host's owners kept without ``-a``, the container's user
    with it (docker/cli#6870), in a running and in a stopped container."""
    import io
    import os
    import subprocess
    import sys
    import tarfile

    argv = ["-d", "busybox", "sh", "-c", "mkdir -p /d/sub; echo a > /d/f; echo b > /d/sub/g; sleep 60"] if running \
        else ["busybox", "sh", "-c", "mkdir -p /d/sub; echo a > /d/f; echo b > /d/sub/g"]
    cli("container", "run", "--name", "s9cp", "--network", "none", "-u", "0:0", *argv, check=True)
    source = tmp_path / "src"
    (source / "dir" / "sub").mkdir(parents=True)
    (source / "dir" / "sub" / "z").write_text("z\n")
    (source / "file").write_text("x\n")
    for path in (source / "dir", source / "dir" / "sub", source / "dir" / "sub" / "z", source / "file"):
        os.chown(path, 1234, 5678)
    out = tmp_path / "out"
    (out / "exist").mkdir(parents=True)
    (out / "afile").write_text("")
    try:
        for args, stderr in (([f"s9cp:/d/f", f"{out}/nodir/Z"], f'invalid output path: directory "{out}/nodir" does not exist\n'),
                             (["s9cp:/d", f"{out}/afile"], "cannot copy directory\n"),
                             (["s9cp:/d/f", f"{out}/afile/"], f"stat {out}/afile/: not a directory\n"),
                             (["s9cp:/d/f", f"{out}/Y/"], "no such directory\n"),
                             ([str(source / "file"), "s9cp:/nodir/x"],
                              "Error response from daemon: Could not find the file /nodir in container s9cp\n"),
                             ([str(source / "dir"), "s9cp:/etc/passwd"], "cannot copy directory\n"),
                             ([str(source / "file"), "s9cp:/newdir/"], "no such directory\n"),
                             ([str(source / "file"), "s9cp:/etc/passwd/"], "no such directory\n")):
            refused = cli("container", "cp", *args)
            assert (refused.returncode, refused.stderr) == (1, stderr), args
        for args in (["s9cp:/d/", f"{out}/newdir/"], ["s9cp:/d/.", str(out / "exist")], ["s9cp:/d/.", str(out / "new2")]):
            cli("container", "cp", *args, check=True)
        for name in ("newdir", "exist", "new2"):
            assert sorted(str(p.relative_to(out / name)) for p in (out / name).rglob("*")) == ["f", "sub", "sub/g"]
        assert not (out / "f").exists() and not (out / "d").exists()
        cli("container", "cp", str(source / "dir"), "s9cp:/tmp/", check=True)
        cli("container", "cp", "-a", str(source / "file"), "s9cp:/tmp/fa", check=True)
        stream = subprocess.run([sys.executable, "-m", "composer", "container", "cp", "s9cp:/tmp", "-"],
                                capture_output=True, timeout=60, check=True).stdout  # (the test's COMPOSER_ROOT)
        owners = {member.name: (member.uid, member.gid) for member in tarfile.open(fileobj=io.BytesIO(stream))}
        assert owners["tmp/dir"] == owners["tmp/dir/sub/z"] == (1234, 5678) and owners["tmp/fa"] == (0, 0)
    finally:
        cli("container", "rm", "-f", "s9cp")


def test_sweep_words_as_docker(cli, tmp_path):
    """The CLI's own lines alone (``logs --until``, ``export -o``, ``image tag``), dockerd's for a
    volume driver composer lacks."""
    cli("container", "create", "--name", "s9w", "--network", "none", "busybox", check=True)
    try:
        for argv, stderr in (
                (["container", "logs", "--until", "bogus", "s9w"],
                 'invalid value for "until": failed to parse value as time or duration: "bogus"'),
                (["container", "export", "s9w", "-o", f"{tmp_path}/nodir/x.tar"],
                 f"failed to export container: invalid output path: stat {tmp_path}/nodir: no such file or directory"),
                (["container", "export", "-o", f"{tmp_path}/", "s9w"], "failed to export container: cannot write to a directory"),
                (["image", "tag", "busybox", "Bad:x"], 'Error parsing reference: "Bad:x" is not a valid repository/tag: '
                 "invalid reference format: repository name (library/Bad) must be lowercase"),
                (["volume", "create", "-d", "foo", "s9v"],
                 'Error response from daemon: create s9v: error looking up volume plugin foo: plugin "foo" not found')):
            result = cli(*argv)
            assert (result.returncode, result.stderr) == (1, stderr + "\n"), argv
    finally:
        cli("container", "rm", "s9w")


def test_network_connect_and_disconnect_as_dockerd(cli):
    """``network connect``'s refusal of a none/host container and ``IPAMConfig`` of ``--ip``;
    ``disconnect`` of a container not connected (its id, with or without ``-f``), ``-f`` of an
    endpoint that is not there."""
    cli("network", "create", "--subnet", "10.231.9.0/24", "s9n", check=True)
    cli("network", "create", "s9m", check=True)
    try:
        cli("container", "run", "-d", "--name", "s9none", "--network", "none", "busybox", "sleep", "60", check=True)
        cli("container", "run", "-d", "--name", "s9on", "--network", "s9n", "--ip", "10.231.9.80", "busybox", "sleep",
            "60", check=True)
        refused = cli("network", "connect", "s9n", "s9none")
        assert refused.stderr == ("Error response from daemon: container cannot be connected to multiple networks "
                                  "with one of the networks in private (none) mode\n")
        unchosen = ("Error response from daemon: user specified IP address is supported only when connecting to "
                    "networks with user configured subnets\n")
        assert cli("network", "connect", "--ip", "172.31.9.5", "s9m", "s9on").stderr == unchosen  # (no --subnet)
        assert cli("container", "run", "--rm", "--network", "s9m", "--ip", "172.31.9.5", "busybox",
                   "true").stderr.startswith("composer: " + unchosen)
        cli("network", "connect", "--alias", "q", "s9m", "s9on", check=True)
        shown = cli("container", "inspect", "-f", "{{json .NetworkSettings.Networks.s9n.IPAMConfig}} "
                    "{{json .NetworkSettings.Networks.s9m.IPAMConfig}}", "s9on", check=True).stdout
        assert shown == '{"IPv4Address":"10.231.9.80"} null\n'
        full = cli("container", "inspect", "-f", "{{.Id}}", "s9on", check=True).stdout.strip()
        cli("network", "disconnect", "s9m", "s9on", check=True)
        for flags in ([], ["-f"]):
            result = cli("network", "disconnect", *flags, "s9m", "s9on")
            assert (result.returncode, result.stderr) == (
                1, f"Error response from daemon: container {full} is not connected to the network s9m\n")
        assert cli("network", "disconnect", "-f", "s9m", "nope").stderr == \
            "Error response from daemon: endpoint nope not found\n"
        assert cli("network", "disconnect", "s9m", "nope").stderr == "Error response from daemon: No such container: nope\n"
    finally:
        cli("container", "rm", "-f", "s9none", "s9on")
        cli("network", "rm", "s9n", "s9m")


def test_exec_events_as_dockerd(cli):
    """``exec_create: CMD``, ``exec_start: CMD`` and ``exec_die`` (its ``exitCode``) of an exec,
    with the container's labels, ``execID``, ``image`` and ``name``; ``from`` in the message."""
    import json
    import time

    cli("container", "run", "-d", "--name", "s9x", "-l", "k=v", "--network", "none", "busybox", "sleep", "60",
        check=True)
    try:
        since = str(time.time())
        assert cli("container", "exec", "s9x", "sh", "-c", "exit 3").returncode == 3
        shown = [json.loads(line) for line in cli("system", "events", "--since", since, "--until", str(time.time()),
                                                  "--filter", "container=s9x", "--format", "json",
                                                  check=True).stdout.splitlines()]
        assert [event["Action"] for event in shown] == ["exec_create: sh -c exit 3", "exec_start: sh -c exit 3",
                                                        "exec_die"]
        assert len({event["Actor"]["Attributes"]["execID"] for event in shown}) == 1
        assert shown[2]["Actor"]["Attributes"]["exitCode"] == "3" and shown[2]["from"] == "busybox"
        assert {key: shown[0]["Actor"]["Attributes"][key] for key in ("k", "image", "name")} == \
            {"k": "v", "image": "busybox", "name": "s9x"}
    finally:
        cli("container", "rm", "-f", "s9x")


def test_attach_passes_signals_on(cli, state_root):
    """docker attach's ``--sig-proxy`` (default): the signal the CLI gets goes to the container,
    the CLI ends with it (its exit code); ``--sig-proxy=false`` leaves the container running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    for flags, code in (([], 7), (["--sig-proxy=false"], -signal.SIGTERM)):
        cli("container", "run", "-d", "--name", "s9sp", "--network", "none", "busybox", "sh", "-c", script, check=True)
        try:
            attached = subprocess.Popen([sys.executable, "-m", "composer", "container", "attach", *flags, "s9sp"],
                                        stdout=subprocess.PIPE, text=True, env=env)
            time.sleep(1.5)  # (attached: following the container's output)
            attached.send_signal(signal.SIGTERM)
            assert attached.wait(timeout=20) == code
            state = cli("container", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "s9sp", check=True)
            assert state.stdout == ("exited 7\n" if code == 7 else "running 0\n")
        finally:
            cli("container", "rm", "-f", "s9sp")
