"""TTY and stdin of detached containers, through real pseudo-terminals: run -dit + attach with the
detach keys, start -ai, exec -it, run -di with piped stdin; wait on a created container."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.root


class Terminal:
    """``composer ARGS`` on the slave side of a fresh pty; the test types on the master side."""

    def __init__(self, state_root, *args: str, rows: int = 24, columns: int = 80) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = dict(os.environ, COMPOSER_ROOT=str(state_root))
        self.process = subprocess.Popen([sys.executable, "-m", "composer", *args], stdin=slave, stdout=slave,
                                        stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.seen = b""

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def expect(self, needle: bytes, timeout: float = 20) -> None:
        """Read until ``needle`` has appeared (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} not seen in {self.seen!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # EIO: the command exited
                    assert needle in self.seen, f"{needle!r} not seen in {self.seen!r}"

    def exit_code(self, timeout: float = 20) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


@pytest.fixture
def terminals(state_root):
    made: list[Terminal] = []

    def start(*args: str, **size: int) -> Terminal:
        made.append(Terminal(state_root, *args, **size))
        return made[-1]

    yield start
    for terminal in made:
        terminal.close()


def _status(cli, container_id: str) -> str:
    return cli("container", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container_id,
               check=True).stdout.strip()


def test_run_dit_attach_type_detach_and_exit(cli, terminals):
    container_id = cli("container", "run", "-dit", "busybox", "sh", check=True).stdout.strip()
    session = terminals("container", "attach", container_id)
    session.type(b"echo hi$((40+2))\n")
    session.expect(b"hi42")
    session.type(b"\x10\x11")  # ctrl-p ctrl-q
    assert session.exit_code() == 0
    assert _status(cli, container_id) == "running 0"
    again = terminals("container", "attach", container_id)
    again.type(b"echo back$((1+1))\n")
    again.expect(b"back2")
    again.type(b"exit 3\n")
    assert again.exit_code() == 3
    assert _status(cli, container_id) == "exited 3"
    assert b"back2" in cli("container", "logs", container_id).stdout.encode()  # a tty's output is logged


def test_custom_detach_keys(cli, terminals):
    container_id = cli("container", "run", "-dit", "busybox", "sh", check=True).stdout.strip()
    session = terminals("container", "attach", "--detach-keys", "ctrl-x,a", container_id)
    session.type(b"\x10echo ok$((2*3))\n")  # a lone ctrl-p is typed through
    session.expect(b"ok6")
    session.type(b"\x18a")
    assert session.exit_code() == 0
    assert _status(cli, container_id) == "running 0"
    refused = cli("container", "attach", "--detach-keys", "ctrl-", container_id)
    assert refused.returncode == 1
    assert "invalid detach keys" in refused.stderr


def test_start_ai_relays_a_shell(cli, terminals):
    container_id = cli("container", "create", "-it", "busybox", "sh", check=True).stdout.strip()
    session = terminals("container", "start", "-ai", container_id)
    session.type(b"echo started$((3+4))\n")
    session.expect(b"started7")
    session.type(b"exit 5\n")
    assert session.exit_code() == 5


def test_exec_it_gets_a_terminal_of_the_container(cli, terminals):
    container_id = cli("container", "run", "-d", "busybox", "sleep", "1000", check=True).stdout.strip()
    session = terminals("container", "exec", "-it", container_id, "sh", rows=33, columns=101)
    session.type(b"tty; stty size; echo done$((5+5))\n")
    session.expect(b"done10")
    assert b"/dev/pts/0" in session.seen
    assert b"33 101" in session.seen
    session.type(b"exit 4\n")
    assert session.exit_code() == 4
    assert _status(cli, container_id) == "running 0"


def test_run_di_takes_piped_stdin_through_attach(cli, state_root):
    container_id = cli("container", "run", "-di", "busybox", "sh", "-c", "cat; exit 6",
                       check=True).stdout.strip()
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    attached = subprocess.run([sys.executable, "-m", "composer", "container", "attach", container_id],
                              input="line one\nline two\n", capture_output=True, text=True, env=env, timeout=60)
    assert attached.stdout == "line one\nline two\n"
    assert attached.returncode == 6


def test_wait_on_a_created_container_returns_at_once_as_dockers(cli, state_root):
    """docker's ``wait`` (condition not-running) on a never-started container prints its exit
    code (0) at once; a missing one among several is reported and the others still waited (exit 1)."""
    container_id = cli("container", "create", "busybox", "sh", "-c", "exit 4", check=True).stdout.strip()
    result = cli("container", "wait", container_id, "no-such-container")
    assert result.stdout.split() == ["0"]
    assert "No such container: no-such-container" in result.stderr
    assert result.returncode == 1
    cli("container", "start", container_id, check=True)
    assert cli("container", "wait", container_id, check=True).stdout.strip() == "4"
    cli("container", "rm", container_id, check=True)
    gone = cli("container", "wait", container_id)
    assert gone.returncode == 1 and "No such container" in gone.stderr


def test_attach_to_a_stopped_container_fails(cli):
    container_id = cli("container", "create", "-it", "busybox", "sh", check=True).stdout.strip()
    result = cli("container", "attach", container_id)
    assert result.returncode != 0
    assert "start it first" in result.stderr


def test_foreground_run_it_detaches_with_ctrl_p_ctrl_q(cli, terminals):
    session = terminals("container", "run", "-it", "--name", "fg", "busybox", "sh")
    session.type(b"echo fg$((1+2))\n")
    session.expect(b"fg3")
    session.type(b"\x10\x11")  # ctrl-p ctrl-q: the CLI leaves, the container runs on
    assert session.exit_code() == 0
    assert _status(cli, "fg") == "running 0"
    again = terminals("container", "attach", "fg")
    again.type(b"echo again$((2+2))\n")
    again.expect(b"again4")
    again.type(b"exit 9\n")
    assert again.exit_code() == 9
    assert _status(cli, "fg") == "exited 9"


def test_foreground_run_it_custom_keys_and_exit_code_with_rm(cli, terminals, state_root):
    session = terminals("container", "run", "-it", "--rm", "--detach-keys", "ctrl-x,b", "busybox", "sh")
    session.type(b"\x10\x11echo still$((3+3))\n")  # the default keys are typed through
    session.expect(b"still6")
    session.type(b"exit 7\n")
    assert session.exit_code() == 7
    deadline = time.monotonic() + 20  # --rm: the supervisor removes it once it ended
    while list((state_root / "containers").glob("*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list((state_root / "containers").glob("*"))
    shown = cli("system", "events", "--since", "10m", "--until", "0s", "-f", "type=container", "--format",
                "{{.Action}}", check=True)
    assert shown.stdout.split() == ["create", "attach", "start", "die", "destroy"]  # dockerd's attach of run -it


def test_foreground_run_it_of_a_command_that_ends_at_once(cli, state_root):
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    result = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-it", "--rm", "busybox", "sh",
                             "-c", "echo quick; exit 3"], stdin=subprocess.DEVNULL, capture_output=True,
                            env=env, timeout=60)
    assert b"quick" in result.stdout and result.returncode == 3
    refused = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-it", "--detach-keys", "ctrl-",
                              "busybox", "true"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode != 0 and "invalid detach keys" in refused.stderr
    assert not list((state_root / "containers").glob("*"))  # refused before anything was made
