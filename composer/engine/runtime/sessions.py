"""Sessions in a running container: ``exec`` (a new process, with a pty for ``-t``) and ``attach``
(our stdio relayed to a ``-t``/``-i`` container's supervisor), and ``run -it`` built on them."""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.containers import current_state, require_live, run, running_pid
from composer.engine.runtime.state import ContainerDir
from composer.engine.runtime.watch import wait_until
from composer.errors import UsageError


def exec_in(container_id: str, argv: list[str], *, tty: bool = False, stdin: bool = False, env=(),
            user: str = "", workdir: str = "", detach: bool = False, privileged: bool = False) -> int:
    """Run ``argv`` inside the running container; its exit code (0 at once with ``detach``)."""
    from composer.engine.runtime.execute import ExecRequest, spawn, wait_exit

    if not argv:
        raise UsageError("exec needs a command")
    pid = running_pid(container_id)
    request = ExecRequest(argv=list(argv), env=list(env), user=user, workdir=workdir, privileged=privileged)
    died = _exec_events(container_id, argv)
    if tty and not detach:
        return died(_exec_with_terminal(container_id, pid, request, stdin))
    fds = None
    null = -1
    if detach or not stdin:
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        fds = (null, null, null) if detach else (null, 1, 2)
    try:
        child = spawn(container_id, pid, request, fds)
    finally:
        if null >= 0:
            os.close(null)
    return 0 if detach else died(wait_exit(child))  # (-d: no exec_die, nobody waits for it)


def _exec_events(container_id: str, argv: list[str]):
    """dockerd's ``exec_create`` and ``exec_start`` of an exec of ``argv`` (recorded now); the
    function recording its ``exec_die`` and returning the exit code it is given."""
    from composer.engine.object_events import exec_event

    config, exec_id = ContainerDir(container_id).read_config(), os.urandom(32).hex()
    command = f"{argv[0]} {' '.join(argv[1:])}"  # dockerd's: the program, a space, its arguments
    for action in ("exec_create", "exec_start"):
        exec_event(f"{action}: {command}", container_id, config, exec_id)

    def died(code: int) -> int:
        exec_event("exec_die", container_id, config, exec_id, exitCode=str(code))
        return code
    return died


def _exec_with_terminal(container_id: str, pid: int, request, stdin: bool) -> int:
    """``exec -t``: the process on a pty of the container, relayed to our stdio; its exit code."""
    import socket

    from composer.engine.runtime.execute import spawn, wait_exit
    from composer.engine.runtime.tty import copy_window_size, relay, window_size

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    try:
        child = spawn(container_id, pid, request, (null, 1, 2), console_fd=theirs.fileno(),  # 1, 2: its errors
                      window_size=window_size(0))
    finally:
        theirs.close()
        os.close(null)
    try:
        with ours:
            _, fds, _, _ = socket.recv_fds(ours, 16, 1)
        if fds:
            copy_window_size(0, fds[0])
            relay(fds[0], stdin)
    finally:
        code = wait_exit(child)
    return code


def attach(container_id: str, *, stdin: bool = True, detach_keys: str = "", connection=None) -> int | None:
    """Relay our stdio to a running ``-t``/``-i`` container until it ends (its exit code) or
    the detach keys are typed (None; the container keeps running). ``connection``: ``start``'s."""
    from composer.engine.runtime.attach import DEFAULT_DETACH_KEYS, connect, parse_detach_keys
    from composer.engine.runtime.tty import attach_relay

    keys = parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)
    cdir = ContainerDir(container_id)
    config = ContainerConfig.from_dict(cdir.read_config())
    if connection is None:
        require_live(container_id)
        connection = connect(cdir.path)
    with connection:
        code = attach_relay(connection, stdin and config.stdin, config.tty, keys)
    if code is None or code >= 0:
        return code
    return current_state(cdir).get("ExitCode", 0)  # a supervisor that died


def run_attached(config: ContainerConfig, detach_keys: str = "") -> int:
    """Foreground ``run -it``: the container under a supervisor, our terminal attached to it;
    its exit code, or 0 once the detach keys leave it running (docker's behaviour)."""
    from composer.engine.runtime.attach import DEFAULT_DETACH_KEYS, parse_detach_keys

    parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)  # bad keys are refused before anything is made
    connection = run(config, attach=True)
    code = attach(config.id, detach_keys=detach_keys, connection=connection)
    if code is None:
        return 0
    if config.auto_remove:  # as docker run --rm: return once its supervisor has removed it
        path = ContainerDir(config.id).path
        wait_until(path, lambda: not os.path.isdir(path), timeout=30)
    return code
