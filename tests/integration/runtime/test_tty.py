"""-t: the container's stdio is a pty of its own devpts; -i -t relays input."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root


def test_tty_inside_container(run):
    result = run("--rm", "-t", "busybox", "sh", "-c", "tty; echo $TERM; test -c /dev/console && echo console")
    assert result.stdout.split()[:3] == ["/dev/pts/0", "xterm", "console"], result.stdout + result.stderr


def test_interactive_tty_and_exit_code(run):
    result = run("--rm", "-i", "-t", "busybox", "sh", input="echo typed-$((1+1)); exit 5\n")
    assert "typed-2" in result.stdout and result.returncode == 5


def test_without_tty_stdin_is_devnull(run):
    result = run("--rm", "busybox", "sh", "-c", "cat; tty; echo end", input="ignored\n")
    assert result.stdout == "not a tty\nend\n"


def test_privileged_tty_uses_its_own_devpts(run):
    result = run("--rm", "--privileged", "-t", "busybox", "sh", "-c", "tty; ls /dev/pts")
    words = result.stdout.split()
    assert words[0] == "/dev/pts/0" and "ptmx" in words, result.stdout + result.stderr


def test_window_size_comes_from_the_callers_terminal(image, state_root):
    """``run -t`` on a terminal: the container's pty has the terminal's rows and columns."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()  # we keep the slave open: no hangup (EIO) can drop output unread
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        process = subprocess.Popen([sys.executable, "-m", "composer", "container", "run", "--rm", "-t", "--network",
                                    "none", "busybox", "stty", "size"], stdin=slave, stdout=slave, stderr=slave,
                                   env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
        output = b""
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        while b"33 101" not in output and select.select([master], [], [], 10)[0]:  # (the pty passes data on
            output += os.read(master, 4096)  # asynchronously: wait for it; only a failure waits long)
        assert process.returncode == 0, output
        assert b"33 101" in output, output
    finally:
        os.close(master)
        os.close(slave)
