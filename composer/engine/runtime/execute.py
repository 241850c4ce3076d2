"""``exec``: a new process inside a running container.

A forked, single-threaded child joins the container's cgroup and namespaces (setns through
``libc``), then forks once more so that the process is inside the PID namespace too; that
grandchild applies the container's security settings (bounding set, no_new_privs, seccomp, user)
and execs. The intermediate child waits for it and exits with its status, so the caller waits
for one ordinary child (``spawn`` returns its pid) and gets the exit code through.
"""

from __future__ import annotations

import os
import signal

from composer.engine.runtime import capabilities, init, libc, trampoline
from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.record import Record
from composer.engine.runtime.state import ContainerDir
from composer.errors import ContainerStateError

NAMESPACES = ("ipc", "uts", "net", "pid", "cgroup", "mnt")  # mnt last: it changes our root


class ExecRequest(Record):
    """What to run and how (``docker exec``'s options)."""

    argv: list[str]
    env: list[str] = []
    user: str = ""
    workdir: str = ""
    privileged: bool = False


def _namespace_fds(container_id: str, pid: int) -> list[int]:
    """Open the namespaces of ``pid`` that differ from ours (before any setns). PID 1 gone
    meanwhile (a stop or restart under way: its state still said running) is the container
    not running, as docker says it."""
    fds: list[int] = []
    try:
        for name in NAMESPACES:
            theirs = f"/proc/{pid}/ns/{name}"
            if os.stat(theirs).st_ino != os.stat(f"/proc/self/ns/{name}").st_ino:
                fds.append(os.open(theirs, os.O_RDONLY | os.O_CLOEXEC))
    except FileNotFoundError:
        for fd in fds:
            os.close(fd)
        raise ContainerStateError(f"Container {container_id} is not running") from None
    return fds


def _exec_config(config: ContainerConfig, request: ExecRequest) -> ContainerConfig:
    """The container's config with the exec's process settings."""
    merged = ContainerConfig.from_dict(config.to_dict())
    merged.args = list(request.argv)
    env = dict(item.partition("=")[::2] for item in config.env)
    env.update(item.partition("=")[::2] for item in request.env)
    merged.env = [f"{k}={v}" for k, v in env.items()]
    merged.user = request.user or config.user
    merged.cwd = request.workdir or config.cwd
    merged.security.privileged = config.security.privileged or request.privileged
    return merged


def spawn(container_id: str, pid: int, request: ExecRequest, fds: tuple[int, int, int] | None = None,
          console_fd: int = -1, window_size: bytes = b"") -> int:
    """Start ``request`` in the container whose PID 1 is ``pid``; returns the pid to wait for.

    ``fds`` become the process's stdin/stdout/stderr (default: ours). With ``console_fd`` (a unix
    socket) the process gets a pty of the container's devpts instead, whose master is sent there.
    """
    cdir = ContainerDir(container_id)
    config = _exec_config(ContainerConfig.from_dict(cdir.read_config()), request)
    mask = capabilities.effective_mask(config.security.cap_add, config.security.cap_drop,
                                       config.security.privileged)
    from composer.engine.runtime.cgroups import manager_for
    from composer.engine.runtime.linux import seccomp_program

    plan = init.LaunchPlan(config=config, cdir=cdir, clone_flags=0, mounts=[], cap_mask=mask,
                           seccomp_bpf=seccomp_program(config, mask), console_fd=console_fd,
                           tty=console_fd >= 0, window_size=window_size)
    cgroup = manager_for(container_id)
    if console_fd >= 0:
        from composer.engine.runtime import tty  # noqa: F401 - needed after setns(mnt), where it cannot be found
    namespaces = _namespace_fds(container_id, pid)
    trampoline.memfd()  # made once, inherited by every exec
    child = os.fork()
    if child == 0:
        _child(plan, cgroup, namespaces, fds)
    for fd in namespaces:
        os.close(fd)
    return child


def _child(plan: init.LaunchPlan, cgroup, namespaces: list[int], fds) -> None:
    """The intermediate child: join, fork the process, pass its exit status on. Never returns."""
    code = 126
    try:
        init.reset_signals()
        if fds is not None:
            for target, fd in enumerate(fds):
                if fd != target:
                    os.dup2(fd, target)
        joins = cgroup.self_join_files()  # single-threaded: "0" into tasks skips an RCU grace period
        if joins:
            init.join_cgroup(joins)
        else:
            cgroup.join(0)
        for fd in namespaces:
            libc.setns(fd, 0)
        if plan.console_fd >= 0:
            os.dup2(plan.console_fd, 3, inheritable=False)
            plan.console_fd = 3
        init.close_inherited_fds(plan.console_fd, trampoline.memfd())  # the caller's pipes must not stay open
        error_r, plan.error_fd = os.pipe2(os.O_CLOEXEC)
        grandchild = os.fork()
        if grandchild == 0:
            _process(plan)
        os.close(plan.error_fd)
        code = _exit_code(grandchild, error_r)
    except BaseException as error:  # noqa: BLE001 - reported, never raised past the fork
        os.write(2, f"exec failed: {error}\n".encode(errors="replace"))
    os._exit(code)


def _exit_code(pid: int, error_r: int) -> int:
    """Wait for the process; its exit code, or the failure the exec trampoline reported (on
    stderr, as docker's runtime does once the process has started)."""
    report = b""
    while chunk := os.read(error_r, 64):  # EOF: the program is running
        report += chunk
    code = wait_exit(pid)
    failed = trampoline.failure(report)
    if failed:
        code, message = failed
        os.write(2, f"{message}\n".encode(errors="replace"))
    return code


def _process(plan: init.LaunchPlan) -> None:
    """Inside every namespace: drop privileges and exec. Never returns."""
    try:
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
        if plan.console_fd >= 0:
            from composer.engine.runtime.tty import take_terminal  # imported before setns: see spawn

            take_terminal(plan.console_fd, new_session=True, window_size=plan.window_size)
        path, env, ids = init._prepare_process(plan)
        init._drop_privileges(plan, ids)
        init.close_inherited_fds(plan.error_fd, trampoline.memfd())
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        trampoline.execve(path, plan.config.args, env, plan.error_fd)
    except init.ExecFailure as failure:  # on stdout, as docker's exec start error (moby: its hijacked stream),
        # in runc's and containerd's words around it
        os.write(1, f"OCI runtime exec failed: exec failed: unable to start container process: {failure}: unknown\n"
                 .encode(errors="replace"))
        os._exit(failure.code)
    except BaseException as error:  # noqa: BLE001
        os.write(1, f"OCI runtime exec failed: {error}\n".encode(errors="replace"))
        os._exit(126)


def wait_exit(pid: int) -> int:
    """Wait for a spawned exec; its exit code (128+N for a signal)."""
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return 128 - code if code < 0 else code
