"""``-t``: a pseudo-terminal for the container, relayed by the foreground CLI.

The container gets the pty's slave side as stdin/stdout/stderr and controlling terminal; the CLI
copies the master side to its stdout (and, with ``-i``, its stdin to the master), keeps the window
size in step (SIGWINCH) and puts its own terminal into raw mode meanwhile.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import socket
import struct
import termios

TIOCGWINSZ = termios.TIOCGWINSZ
TIOCSWINSZ = termios.TIOCSWINSZ


def copy_window_size(source_fd: int, target_fd: int) -> None:
    """Give ``target_fd``'s terminal the window size of ``source_fd``'s (ignored if not a tty)."""
    try:
        size = fcntl.ioctl(source_fd, TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(target_fd, TIOCSWINSZ, size)
    except OSError:
        pass


def prepare_tty(run, logged: bool = False) -> None:
    """Arrange a pty for a ForegroundRun: its init sends the master over a socket (``run.relay``).
    ``logged``: its output is also kept in its log (one stream, stdout: docker's tty log)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    run.console_fd = theirs.detach()
    run.window_size = window_size(0)  # set on the pty by the init: ``stty size`` sees it at once

    def receive_and_relay(pid: int) -> None:
        os.close(run.console_fd)
        with ours:
            _, fds, _, _ = socket.recv_fds(ours, 16, 1)
        if fds:
            copy_window_size(0, fds[0])
            log = _open_log(run) if logged else None
            try:
                relay(fds[0], run.config.stdin, log)
            finally:
                if log is not None:
                    log.close()

    run.relay = receive_and_relay


def _open_log(run):
    """The container's log writer (its LogPath recorded), or None (``--log-driver none``)."""
    from composer.engine.runtime.logs import log_path, open_log

    log = open_log(run.config, run.cdir.path)
    if log is not None:
        run.cdir.write_state(LogPath=log_path(run.cdir.path, run.config.id))
    return log


def take_terminal(console_fd: int, new_session: bool = False, window_size: bytes = b"") -> str:
    """Open a pty of our devpts (``/dev/ptmx`` of the mount namespace we are in), make its slave
    our stdio and controlling terminal, send the master over ``console_fd``; the slave's path.
    ``window_size`` (the caller's terminal) is set before the program runs: the caller's copy of
    it after receiving the master would race with the program's first look."""
    if new_session:
        os.setsid()
    master, slave = os.openpty()
    if window_size:
        fcntl.ioctl(master, TIOCSWINSZ, window_size)
    name = os.ttyname(slave)
    for target in (0, 1, 2):
        os.dup2(slave, target)
    os.close(slave)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    with socket.socket(fileno=console_fd) as channel:
        socket.send_fds(channel, [b"m"], [master])
    os.close(master)
    return name


def open_console(console_fd: int, window_size: bytes = b"") -> None:
    """In the container (after pivot_root): a pty of its own devpts (pts/ptmx) as our terminal,
    also bind-mounted on /dev/console; the master goes to the parent."""
    from composer.engine.runtime import libc

    name = take_terminal(console_fd, window_size=window_size)
    os.close(os.open("/dev/console", os.O_CREAT | os.O_WRONLY, 0o600))
    libc.mount(name, "/dev/console", None, libc.MS_BIND)


def relay(master: int, interactive: bool, log=None) -> None:
    """Copy between our stdio and the pty master until the container closes its side (and
    what the container writes to ``log``, a LogWriter, too)."""
    saved = _raw_mode(0) if interactive and os.isatty(0) else None
    previous = signal.signal(signal.SIGWINCH, lambda *_: copy_window_size(0, master))
    sources = [master, 0] if interactive else [master]
    try:
        while True:
            readable, _, _ = select.select(sources, [], [])
            if master in readable:
                try:
                    data = os.read(master, 65536)
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    data = b""
                if not data:
                    return
                os.write(1, data)
                if log is not None:
                    log.feed("stdout", data)
            if 0 in readable:
                data = os.read(0, 65536)
                if not data:
                    sources.remove(0)
                    data = b"\x04"  # EOF on our stdin: send the terminal's EOF character
                os.write(master, data)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.close(master)


def _raw_mode(fd: int) -> list:
    """Put ``fd``'s terminal in raw mode; returns the settings to restore."""
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSADRAIN)  # never TCSAFLUSH: keep what was typed ahead
    return saved


def window_size(fd: int) -> bytes:
    """``fd``'s terminal size (a struct winsize), b"" if it is no terminal."""
    return _winsize(fd) or b""


def _winsize(fd: int) -> bytes | None:
    try:
        return fcntl.ioctl(fd, TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    except OSError:
        return None


def attach_relay(connection, interactive: bool, tty: bool, detach_keys: bytes) -> int | None:
    """The client of a supervisor's attach socket: our stdio <-> the container.

    Returns the container's exit code (-1 if the supervisor hung up without one), or None once
    the ``detach_keys`` were typed (the container keeps running). With ``interactive`` our stdin
    goes to the container (raw mode on a terminal); with ``tty`` the window size follows ours.
    """
    from composer.engine.runtime import attach

    def resize(*_: object) -> None:
        size = _winsize(0)
        if size is not None:
            connection.sendall(attach.frame(attach.RESIZE, size))

    saved = _raw_mode(0) if interactive and tty and os.isatty(0) else None
    previous = signal.signal(signal.SIGWINCH, resize) if tty else None
    try:
        if tty:
            resize()
        return _attach_loop(connection, interactive, attach.DetachScanner(detach_keys))
    finally:
        if previous is not None:
            signal.signal(signal.SIGWINCH, previous)
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _attach_loop(connection, interactive: bool, scanner) -> int | None:
    from composer.engine.runtime import attach

    reader = attach.FrameReader()
    sock = connection.fileno()
    sources = [sock, 0] if interactive else [sock]
    while True:
        try:
            readable, _, _ = select.select(sources, [], [])
        except InterruptedError:
            continue
        if sock in readable:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:  # it hung up with our input unread: the end as well
                data = b""
            if not data:
                return -1
            for kind, payload in reader.feed(data):
                if kind == attach.EXIT:  # the last frame: the supervisor hangs up next
                    return attach.EXIT_CODE.unpack(payload)[0]
                _write_all(2 if kind == attach.STDERR else 1, payload)
        if 0 in readable:
            data = os.read(0, 65536)
            detached = False
            if not data:
                sources = [sock]
                message = attach.frame(attach.CLOSE_STDIN)
            else:
                data, detached = scanner.feed(data)
                message = attach.frame(attach.STDIN, data) if data else b""
            if message and not _send(connection, message):
                sources = [sock]  # it ended meanwhile: its last frames are still to be read
            if detached:
                return None


def _send(connection, message: bytes) -> bool:
    try:
        connection.sendall(message)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
