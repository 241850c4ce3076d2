"""The launcher's hold of a prepared start (``prepared.hold``): PREPARED to the caller, then GO
returns; anything else, the caller's end or the supervisor's death is Abandoned."""

from __future__ import annotations

import os
import socket

import pytest

from composer.engine.runtime.prepared import ABANDON, GO, PREPARED, Abandoned, hold


@pytest.fixture
def ends():
    """(caller's socket, launcher's socket, alive pipe's read end, its write end)."""
    caller, launcher = socket.socketpair()
    alive_r, alive_w = os.pipe()
    yield caller, launcher, alive_r, alive_w
    for sock in (caller, launcher):
        sock.close()
    for fd in (alive_r, alive_w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_go_returns_after_prepared(ends):
    caller, launcher, alive_r, _ = ends
    caller.sendall(GO)
    hold(launcher.fileno(), alive_r)
    assert caller.recv(16) == PREPARED


@pytest.mark.parametrize("word", [ABANDON, b"x"])
def test_any_other_word_abandons(ends, word):
    caller, launcher, alive_r, _ = ends
    caller.sendall(word)
    with pytest.raises(Abandoned, match="abandoned by the caller"):
        hold(launcher.fileno(), alive_r)


def test_the_callers_end_abandons(ends):
    caller, launcher, alive_r, _ = ends
    caller.shutdown(socket.SHUT_WR)
    with pytest.raises(Abandoned, match="the caller is gone"):
        hold(launcher.fileno(), alive_r)


def test_the_supervisors_death_abandons(ends):
    _, launcher, alive_r, alive_w = ends
    os.close(alive_w)  # its only holder is gone
    with pytest.raises(Abandoned, match="the supervisor died"):
        hold(launcher.fileno(), alive_r)


def test_a_supervisor_that_died_is_a_refused_start_not_a_reset():
    """The caller wrote GO, the supervisor died without reading it: the reset is its end."""
    import socket

    from composer.engine.runtime.zygote import read_answer
    from composer.errors import ContainerRuntimeError

    caller, supervisor = socket.socketpair()
    caller.sendall(b"1")
    supervisor.close()  # unread data: the caller's next read is a reset
    with pytest.raises(ContainerRuntimeError, match="supervisor exited"):
        read_answer(caller)
    caller.close()
