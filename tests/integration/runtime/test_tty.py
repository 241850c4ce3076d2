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
