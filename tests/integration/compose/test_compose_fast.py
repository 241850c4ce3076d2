"""The typer-free paths of ``exec``, ``run``, ``ps``, ``logs``, ``port``, ``top`` and ``images``
(``composer.cli.compose_fast``): each flag and global option gives what the typer command gives
(output, errors, exit code), without importing typer; what they do not know goes to typer."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.integration.compose.conftest import LOOP

pytestmark = [pytest.mark.root]

COMPOSE = f"""
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo replica $$HOSTNAME; {LOOP}"]
    scale: 2
    ports: ["127.0.0.1::80", "127.0.0.1::81/udp"]
  once:
    image: busybox
    command: ["echo", "once done"]
"""

# Runs composer's entry point in-process, by its fast paths ("fast") or with them emptied
# ("typer"), then tells on stderr whether typer was imported.
ROUTE = """
import sys
from composer.cli import main as M
route, argv = sys.argv[1], sys.argv[2:]
if route == "typer":
    M.FAST_PATHS.clear(); M.FAST_WITH_GLOBALS.clear()
try:
    M.main(argv)
except SystemExit as end:
    code = end.code
sys.stdout.flush()
sys.stderr.write("TYPER=%s" % ("typer" in sys.modules))
sys.exit(code)
"""

FAST = [
    ("exec", "-T", "-e", "X=1", "-e", "Y", "-u", "nobody", "-w", "/tmp", "web", "sh", "-c", "echo $X; id -u; pwd"),
    ("exec", "-T", "--index", "2", "web", "hostname"),
    ("exec", "-T", "--index=1", "--privileged", "web", "sh", "-c", "exit 3"),
    ("exec", "-d", "web", "true"), ("exec", "-Tw", "/", "web", "pwd"), ("exec", "-it", "--no-tty", "web", "true"),
    ("exec", "--interactive", "--tty", "-T", "web", "true"),
    ("exec", "--detach", "--no-TTY", "--user=0", "--workdir=/", "--env=A=B", "web", "true"),
    ("exec", "-T", "nosuch", "true"),
    ("exec", "-T", "--index", "5", "web", "true"),
    ("exec", "-T", "web", "sh", "-c", "echo $0 $1", "--help", "-x"),
    ("-p", "proj", "-f", "compose.yaml", "exec", "-T", "web", "echo", "hi"),
    ("--project-directory", ".", "--ansi", "never", "--progress", "plain", "exec", "-T", "web", "echo", "hi"),
    ("--file=compose.yaml", "--project-name=proj", "--dry-run", "--parallel", "2", "ps", "--services"),
    ("--profile", "x", "ps", "-q"),
    ("ps",), ("ps", "-a", "--format", "json"), ("ps", "-aq"), ("ps", "--services", "-a"),
    ("ps", "--status", "exited", "-a"), ("ps", "--filter", "status=running", "--format", "{{.Name}}"),
    ("ps", "web", "--no-trunc"), ("ps", "--orphans=false"), ("ps", "--orphans=maybe"),
    ("ps", "--filter", "name=x"), ("ps", "nosuch"),
    ("logs", "once"), ("logs", "-f", "once"), ("logs", "--follow", "--no-color", "once"),
    ("logs", "-t", "-n", "1", "web"), ("logs", "--tail=all", "--no-log-prefix", "--index", "2", "web"),
    ("logs", "--since", "1h", "--until", "2030-01-01T00:00:00Z", "once"), ("logs", "nosuch"),
    ("port", "web", "80"), ("port", "--protocol", "udp", "web", "81"), ("port", "--index", "2", "web", "80"),
    ("port", "web", "x"), ("port", "web", "82"),
    ("images",), ("images", "-q"), ("images", "--format", "json", "web"), ("-p", "proj", "images", "web"),
]
TYPER = [  # handed to typer: help, unknown flags, missing arguments, what click refuses
    ("exec", "--help"), ("exec", "--bogus", "web", "true"),
    ("exec", "--index", "x", "web", "true"), ("ps", "-h"), ("logs", "--index", "x"),
    ("images", "--bogus"), ("--bogus", "ps"), ("-p", "proj", "ps", "--format"),
]


def _run(project, route: str, argv: tuple[str, ...]) -> tuple[int, str, str, bool]:
    result = subprocess.run([sys.executable, "-c", ROUTE, route, *argv], cwd=project.directory,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    stderr, _, typer = result.stderr.rpartition("TYPER=")
    return result.returncode, _stable(result.stdout), _stable(stderr), typer == "True"


def _stable(text: str) -> str:
    """Output without what changes between two runs (ages, durations, column widths, new ids)."""
    text = re.sub(r"\b[0-9a-f]{64}\b|-run-[0-9a-f]{12}\b", "ID", text)  # (run -d's container, a one-off's name)
    return re.sub(r" +", " ", re.sub(r"\d+ (second|minute)s? ago|Up( About)? (a|an|\d+) \w+", "AGE", text))


def test_fast_paths_answer_as_typer_without_importing_it(project):
    project.write(COMPOSE)
    project("up", "-d")
    project("wait", "once")
    _assert_same_answers(project, FAST, TYPER)


def _assert_same_answers(project, fast_lines: list, typer_lines: list) -> None:
    """Each command line answered the same by both routes, typer imported only for ``typer_lines``."""
    mismatches = []
    for argv in fast_lines + typer_lines:
        fast, typer = _run(project, "fast", argv), _run(project, "typer", argv)
        assert typer[3], argv
        if fast[:3] != typer[:3] or fast[3] != (argv in typer_lines):
            mismatches.append((argv, fast, typer))
    assert not mismatches, "\n".join(map(repr, mismatches))


RUN = [
    ("run", "--rm", "-T", "-e", "X=1", "-e", "Y", "-u", "nobody", "-w", "/tmp", "once", "sh", "-c", "echo $X; id -u; pwd"),
    ("run", "--rm", "once", "sh", "-c", "echo out; echo err >&2; exit 3"), ("run", "--rm", "-Tu0", "once", "id", "-u"),
    ("run", "--rm", "--entrypoint", "echo", "once", "a", "--help", "-x"), ("run", "--rm", "--entrypoint=", "once"),
    ("run", "--rm", "--no-deps", "-l", "a=b", "--label=c=d", "--name", "fixed", "once", "true"),
    ("run", "-d", "--rm", "once", "true"), ("run", "--detach", "--rm", "--service-ports", "once", "true"),
    ("run", "--rm", "--env-from-file", "vars.env", "-e", "B=2", "once", "sh", "-c", "echo $A $B"),
    ("-p", "proj", "run", "--rm", "-v", ".:/src:ro", "--volume=named:/data", "once", "ls", "/src"),
    ("--project-directory", ".", "--ansi", "never", "run", "--rm", "-i", "--no-TTY", "once", "echo", "hi"),
    ("run", "--rm", "--quiet-pull", "-q", "--use-aliases", "--remove-orphans", "--quiet-build", "once", "echo", "q"),
    ("run", "--rm", "--cap-add", "NET_ADMIN", "--cap-drop=CHOWN", "--pull", "never", "once", "true"),
    ("run", "--rm", "--pull", "sometimes", "once", "true"), ("run", "--rm", "-P", "-p", "8080:80", "once", "true"),
    ("run", "--rm", "-l", "nolabel", "once", "true"), ("run", "--rm", "nosuch", "true"),
    ("run", "--dry-run", "once", "true"), ("--dry-run", "run", "once", "true"), ("run", "-t", "once", "true"),
    ("run",), ("run", "--rm"),
]
RUN_TYPER = [("run", "--help"), ("run", "--bogus", "once"), ("run", "--rm", "--", "once", "true"), ("run", "--name")]


def test_run_answers_as_typer_without_importing_it(project):
    """``compose run``'s fast path: each flag gives what the typer command gives (output, errors,
    exit code: the one-off's own), with no one-off left behind by ``--rm``."""
    project.write(COMPOSE)
    (project.directory / "vars.env").write_text("A=1\nB=1\n")
    assert _run(project, "fast", ("run", "--rm", "once", "true"))[0] == 0  # (the project's network made first)
    _assert_same_answers(project, RUN, RUN_TYPER)
    assert _run(project, "fast", ("run", "--rm", "once", "sh", "-c", "exit 7"))[0] == 7
    assert _run(project, "fast", ("run", "--rm", "-i=false", "once", "echo", "hi"))[:2] == (0, "hi\n")  # pflag's
    assert _run(project, "fast", ("run", "--rm=maybe", "once"))[:3] == (  # forms, which click refuses
        1, "", 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n')
    left = _run(project, "fast", ("container", "ls", "-a", "--format", "{{.Names}}"))[1].split()
    assert left == []  # (-d --rm: removed by their supervisors)


def test_top_lists_the_processes_without_typer(project):
    project.write(COMPOSE)
    project("up", "-d", "web")
    code, out, err, typer = _run(project, "fast", ("top", "web"))
    assert (code, typer) == (0, False), err
    lines = out.splitlines()
    assert lines[0].split() == ["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert {line.split()[0] for line in lines[1:]} == {"web"}
    assert {line.split()[1] for line in lines[1:]} == {"1", "2"}  # both replicas' processes
    assert _run(project, "fast", ("-p", "proj", "top", "nosuch"))[:2] == (0, "")


def test_up_and_down_after_global_options_stay_off_typer(project):
    """``composer -f F -p P up -d`` / ``down``: the fast paths with the global options (what the
    project is), no typer; a settled ``up -d`` of one project name is not another's."""
    project.write(COMPOSE)
    for name in ("gone", "kept"):
        code, _, err, typer = _run(project, "fast", ("-f", "compose.yaml", "-p", name, "up", "-d", "web"))
        assert (code, typer) == (0, False), err
    code, out, err, typer = _run(project, "fast", ("-p", "kept", "up", "-d", "web"))  # settled: nothing to do
    assert (code, typer) == (0, False) and "Running" in err, err
    code, _, err, typer = _run(project, "fast", ("--project-name", "gone", "down", "-t", "0"))
    assert (code, typer) == (0, False), err
    assert "proj-gone" not in err and "gone-web-1" in err
    assert _run(project, "fast", ("-p", "gone", "ps", "-q"))[1] == ""
    assert len(_run(project, "fast", ("-p", "kept", "ps", "-q"))[1].split()) == 2
    assert _run(project, "fast", ("-p", "kept", "down", "-t", "0"))[0] == 0
