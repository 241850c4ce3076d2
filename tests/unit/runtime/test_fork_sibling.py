"""libc.fork_sibling: the child of a (short-lived) launcher is its parent's child, as the
supervisor's launcher needs for PID 1."""

from __future__ import annotations

import os

from composer.engine.runtime import libc


def test_the_sibling_is_our_child_and_outlives_the_launcher():
    read_fd, write_fd = os.pipe()
    launcher = os.fork()
    if launcher == 0:
        try:
            sibling = libc.fork_sibling()
            if sibling == 0:
                os.write(write_fd, b"%d\n" % os.getppid())
                os._exit(7)
            os.write(write_fd, b"%d\n" % sibling)
        finally:
            os._exit(0)
    os.close(write_fd)
    assert os.waitpid(launcher, 0)[1] == 0
    with os.fdopen(read_fd, "rb") as reader:
        lines = sorted(int(line) for line in reader.read().split())
    sibling = next(pid for pid in lines if pid != os.getpid())
    assert os.getpid() in lines  # the sibling's parent is the test process, not the launcher
    pid, status = os.waitpid(sibling, 0)  # so we reap it
    assert pid == sibling and os.waitstatus_to_exitcode(status) == 7
