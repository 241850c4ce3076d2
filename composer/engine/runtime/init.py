"""The processes between fork and exec: the namespace creator and the container's PID 1.

``enter_namespaces`` runs in a freshly forked, single-threaded child of the runtime: it joins
the cgroup, unshares the namespaces, forks the container's init (PID 1 of the new PID namespace),
reports that pid on a pipe and exits. ``container_main`` (the grandchild) builds the root
filesystem, applies the security settings and execs the entrypoint. Failures travel to the
parent as ``<exit code> <message>`` on a close-on-exec pipe; EOF without data means exec worked.
The final exec goes through ``trampoline`` (never our own binary), which reports a failed execve
of the program on the same pipe (``trampoline.failure``).
Nothing here imports modules: everything is imported by the parent before it forks.
"""

from __future__ import annotations

import _signal as signal  # the C module: signal.py's enum classes cost a millisecond at start-up
import os

from composer.engine.runtime import libc, rootfs, trampoline
from composer.engine.runtime.config import ContainerConfig, Mount
from composer.engine.runtime.paths import secure_join
from composer.engine.runtime.record import Record
from composer.engine.runtime.state import ContainerDir
from composer.engine.runtime.userdb import resolve_groups, resolve_user
from composer.errors import ContainerRuntimeError

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RLIMITS = {"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7,
           "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14,
           "rttime": 15}  # Linux's RLIMIT_* numbers


RESET_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1,
                 signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT, signal.SIGCHLD)


def reset_signals() -> None:
    """In a freshly forked child: the parent's handlers and its signal wakeup fd are not ours (a
    signal written to a wakeup fd the child closed prints a Python warning into its output)."""
    signal.set_wakeup_fd(-1)
    for number in RESET_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


class ExecFailure(Exception):
    """The entrypoint cannot be executed (126 not executable, 127 not found)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class LaunchPlan(Record):
    """Everything the children need, computed by the parent before fork."""

    config: ContainerConfig
    cdir: ContainerDir
    clone_flags: int
    mounts: list[Mount]                       # sources resolved to host paths
    populate: list[tuple[str, str]] = []   # (volume dir, target) to pre-fill
    cap_mask: int = 0
    seccomp_bpf: bytes | None = None
    error_fd: int = -1                        # write end, close-on-exec
    pid_fd: int = -1                          # write end: the container init's host pid
    go_fd: int = -1                           # read end: "c" (cgroup made), then "1" (network in: go)
    console_fd: int = -1                      # -t: a unix socket to send the pty master over
    window_size: bytes = b""                  # -t: the caller's terminal size (struct winsize), set on the pty
    cgroup_files: list[str] = []              # cgroup files PID 1 joins itself by (writing "0")
    cgroup_hierarchies: list[tuple[str, str, str]] = []  # to mount at /sys/fs/cgroup (private cgroupns)
    namespace_fds: list[tuple[int, int]] = []  # (fd, CLONE_NEW*) of other containers' namespaces to join
    shm_fd: int = -1                          # --ipc container:X: a detached copy of X's /dev/shm (child side)
    devices: list[rootfs.DeviceNode] = []     # --device nodes to make in /dev
    userns_fd: int = -1                       # --userns private: the user namespace to enter
    layer_fds: list[int] = []                 # ... and the image layers idmapped into it
    mount_fds: list[int] = []                 # ... and each of ``mounts``' bind sources, detached (-1: none);
                                              # without a userns: only the pinned volume subpaths
    setsid: bool = True
    link_env: list[str] = []                  # --link on the default bridge: docker's ALIAS_* variables
    tty: bool = False
    sibling: bool = False                     # PID 1 is made our parent's child (a supervisor's launcher)


def report(fd: int, code: int, message: str) -> None:
    """Send a failure to the parent (best effort)."""
    try:
        os.write(fd, f"{code} {message}".encode(errors="replace")[:4000])
    except OSError:
        pass


def enter_namespaces(plan: LaunchPlan) -> None:
    """The first child: unshare, fork PID 1, report its pid, exit. Never returns.

    The cgroup namespace is unshared later by PID 1 itself, once the parent has moved it into
    its cgroup (in parallel with the mounts: the first cgroup migration costs an RCU grace period).
    """
    code = 125
    try:
        if plan.userns_fd >= 0:
            enter_user_namespace(plan)
        _join_and_unshare(plan)
        pid = os.fork()
        if pid == 0:
            container_main(plan)
        os.write(plan.pid_fd, f"{pid}\n".encode())
        code = 0
    except BaseException as error:  # noqa: BLE001 - everything must reach the parent
        report(plan.error_fd, 125, f"cannot create the container's namespaces: {error}")
    os._exit(code)


def _join_and_unshare(plan: LaunchPlan, skip: int = 0) -> None:
    """setns into the ``container:X`` namespaces, unshare the new ones (but ``skip`` and cgroup).
    X's mount namespace is only visited, for its /dev/shm (``--ipc container:X``)."""
    for fd, kind in plan.namespace_fds:  # a pid namespace applies to our children
        if kind == libc.CLONE_NEWNS:
            plan.shm_fd = clone_donor_shm(fd)
        elif not kind & skip:
            libc.setns(fd, kind)
    libc.unshare(plan.clone_flags & ~(libc.CLONE_NEWCGROUP | skip))


def clone_donor_shm(mount_ns_fd: int) -> int:
    """A detached copy of another container's /dev/shm, taken inside its mount namespace (the path
    resolves in that container's root, never the host's); the IPC namespace it goes with is
    shared, so is POSIX shared memory (docker binds the donor's shm into joiners too)."""
    own = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc.setns(mount_ns_fd, libc.CLONE_NEWNS)
        try:
            return libc.clone_tree("/dev/shm", libc.AT_SYMLINK_NOFOLLOW)
        finally:
            libc.setns(own, libc.CLONE_NEWNS)
    finally:
        os.close(own)


def fork_container(plan: LaunchPlan) -> int:
    """Fork PID 1 straight from the runtime, without a namespace creator (one process and one
    hand-over less): the pid namespace is made (or joined) for our next child only, and ours is
    restored at once. Only for a single-threaded caller without a user namespace."""
    join = next((fd for fd, kind in plan.namespace_fds if kind == libc.CLONE_NEWPID), -1)
    trampoline.memfd()  # made once by the runtime, inherited by every container it starts
    own = -1
    if join >= 0 or plan.clone_flags & libc.CLONE_NEWPID:
        own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if join >= 0:
            libc.setns(join, libc.CLONE_NEWPID)
        elif own >= 0:
            libc.unshare(libc.CLONE_NEWPID)
        pid = libc.fork_sibling() if plan.sibling else os.fork()
        if pid == 0:
            try:
                _join_and_unshare(plan, skip=libc.CLONE_NEWPID)
                os.write(plan.pid_fd, b"0\n")  # our namespaces exist: the parent may now enter them
            except BaseException as error:  # noqa: BLE001 - everything must reach the parent
                report(plan.error_fd, 125, f"cannot create the container's namespaces: {error}")
                os._exit(125)
            container_main(plan)
        return pid
    finally:
        if own >= 0:
            libc.setns(own, libc.CLONE_NEWPID)
            os.close(own)


def enter_user_namespace(plan: LaunchPlan) -> None:
    """Become root of the prepared user namespace (the namespaces unshared next belong to it). Its
    root may not pass the state root's host directories, so the state dir is reached through our
    working directory from here on."""
    os.chdir(os.path.dirname(plan.cdir.path))
    libc.setns(plan.userns_fd, libc.CLONE_NEWUSER)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    plan.cdir = ContainerDir(plan.cdir.id, root="/proc/self/cwd")


def container_main(plan: LaunchPlan) -> None:
    """PID 1 of the container: build its world, then exec. Never returns."""
    reset_signals()  # the runtime's forwarding handlers are not ours
    try:
        _setup(plan)
        # no inherited fd is left when -w and the executable are resolved (CVE-2024-21626)
        close_inherited_fds(plan.error_fd, trampoline.memfd())
        path, env, ids = _prepare_process(plan)
        _drop_privileges(plan, ids)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        trampoline.execve(path, plan.config.args, env, plan.error_fd)  # never our binary (CVE-2019-5736)
    except ExecFailure as failure:
        report(plan.error_fd, failure.code, str(failure))
        os._exit(failure.code)
    except BaseException as error:  # noqa: BLE001
        report(plan.error_fd, 125, f"container init failed: {error}")
        os._exit(125)
    os._exit(125)


def join_cgroup(paths: list[str]) -> None:
    """Move this (single-threaded) process into the container's cgroup: "0" means the caller."""
    for path in paths:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def _setup(plan: LaunchPlan) -> None:
    config = plan.config
    if plan.setsid:
        os.setsid()
    if not config.stdin and not plan.tty:
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.close(null)
    if plan.clone_flags & libc.CLONE_NEWUTS:
        libc.sethostname(config.hostname)
    root = rootfs.mount_root(config, plan.cdir, plan.layer_fds)
    _populate_volumes(root, plan)
    rootfs.mount_kernel_filesystems(root, config, plan.shm_fd)
    rootfs.make_device_nodes(root, plan.devices, plan.userns_fd >= 0)
    rootfs.bind_etc_files(root, plan.cdir)
    for index, mount in enumerate(plan.mounts):
        rootfs.apply_mount(root, mount, plan.mount_fds[index] if plan.mount_fds else -1)
    rootfs.write_sysctls(root, config.security.sysctls)
    if not config.security.privileged:
        rootfs.mask_paths(root)
    wait_for_parent(plan.go_fd, b"c")  # it has made the cgroup (and plugs the network in meanwhile)
    join_cgroup(plan.cgroup_files)  # before pivot_root: the host's /sys/fs/cgroup is still in view
    rootfs.pivot(root, config.security.read_only)
    if plan.console_fd >= 0:
        from composer.engine.runtime.tty import open_console

        open_console(plan.console_fd, plan.window_size)
    if plan.clone_flags & libc.CLONE_NEWNET:
        loopback_up()
    # the namespace creator has exited: our parent is now the runtime (a subreaper); if it dies,
    # so does the container (no ghosts)
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if plan.clone_flags & libc.CLONE_NEWCGROUP:
        libc.unshare(libc.CLONE_NEWCGROUP)
        if plan.cgroup_hierarchies:
            rootfs.mount_cgroups(plan.cgroup_hierarchies, not config.security.privileged)
    for name, soft, hard in config.ulimits:
        libc.setrlimit(RLIMITS[name], soft, hard)
    if config.oom_score_adj is not None:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write(str(config.oom_score_adj))
    wait_for_parent(plan.go_fd, b"1")  # the network is plugged in: go


def wait_for_parent(fd: int, expected: bytes) -> None:
    """Block until the runtime sends ``expected`` on ``fd`` (EOF: it gave up on the container)."""
    if os.read(fd, 1) != expected:
        raise RuntimeError("the runtime gave up on the container before it started")


def _populate_volumes(root: str, plan: LaunchPlan) -> None:
    """Copy the image's content at each target into its new, empty volume (as docker does); in a user
    namespace, through the volume's idmapped mount (the mapped root cannot write the host path)."""
    if not plan.populate:
        return
    from composer.engine.volumes import copy_tree

    detached = {m.source: fd for m, fd in zip(plan.mounts, plan.mount_fds) if fd >= 0 and not m.subpath}
    for volume_dir, target in plan.populate:
        source = secure_join(root, target)
        if os.path.isdir(source) and not os.path.islink(source):
            copy_tree(source, f"/proc/self/fd/{detached[volume_dir]}" if volume_dir in detached else volume_dir)


def loopback_up() -> None:
    """Bring ``lo`` up in the new network namespace (SIOCGIFFLAGS/SIOCSIFFLAGS on a struct ifreq)."""
    sock = libc.socket(2, 2)  # AF_INET, SOCK_DGRAM
    try:
        request = bytearray(b"lo".ljust(16, b"\0") + bytes(24))  # ifr_name, then ifr_flags (short)
        libc.ioctl(sock, 0x8913, request)
        request[16] |= 1  # IFF_UP
        libc.ioctl(sock, 0x8914, request)
    finally:
        os.close(sock)


def _prepare_process(plan: LaunchPlan) -> tuple[str, dict[str, str], tuple[int, int, list[int]]]:
    """Resolve the user, the environment, the working directory and the executable."""
    config = plan.config
    try:
        uid, gid, groups, home = resolve_user(config.user)
    except ContainerRuntimeError as error:  # dockerd's words alone (no "container init failed")
        raise ExecFailure(125, error.message) from None
    groups += [g for g in resolve_groups(config.group_add) if g not in groups]
    env = dict(item.partition("=")[::2] for item in (*plan.link_env, *config.env))
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("HOSTNAME", config.hostname)
    env.setdefault("HOME", home or "/")
    if plan.tty:
        env.setdefault("TERM", "xterm")
    config.cwd = secure_join("/", config.cwd)  # links (magic ones too) read as paths in the container
    if not os.path.isdir(config.cwd):  # (one stat for the usual existing -w)
        try:
            make_workdir(config.cwd)
        except OSError as error:
            raise ExecFailure(125, f"cannot create the working directory {config.cwd!r}: {error.strerror}") from None
    return find_executable(config.args[0], env["PATH"]), env, (uid, gid, groups)


def make_workdir(path: str, root: str = "/") -> None:
    """``mkdir -p`` of the resolved working directory ``path`` under ``root``, one component at a
    time through directory fds, never following a symlink: one swapped in since ``secure_join``
    (by another process of the container) is an error instead of a way out of it."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in path.split("/"):
            if not part:
                continue
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def find_executable(name: str, path: str) -> str:
    """PATH lookup inside the container (names with a slash are taken as they are)."""
    if "/" in name:
        candidates = [name]
    else:
        candidates = [os.path.join(d or ".", name) for d in path.split(":")]
    for candidate in candidates:
        if os.path.isfile(candidate):
            if not os.access(candidate, os.X_OK):
                raise ExecFailure(126, f'exec: "{name}": permission denied')
            if os.path.samefile(candidate, "/proc/self/exe") or (  # an image's /bin/sh -> /proc/self/exe
                    trampoline.memfd() < 0 and trampoline.own_interpreter(candidate)):  # or its #! line
                raise ExecFailure(126, f'exec: "{name}": is the runtime\'s own executable, which a '
                                       "container may not run (CVE-2019-5736)")
            return candidate
    if "/" in name:
        if os.path.isdir(name):
            raise ExecFailure(126, f'exec: "{name}": permission denied')  # execve's EACCES, as runc says it
        raise ExecFailure(127, f'exec: "{name}": stat {name}: no such file or directory')
    raise ExecFailure(127, f'exec: "{name}": executable file not found in $PATH')


def _drop_privileges(plan: LaunchPlan, ids: tuple[int, int, list[int]]) -> None:
    """Bounding set, no_new_privs, seccomp, groups/gid/uid, the capability sets, then the working
    directory. From here to exec our /proc/PID/exe (the host's interpreter) is closed to the
    container's processes (CVE-2019-5736): with full capabilities it was by the ptrace rules,
    with the container's it must be by being non-dumpable (exec makes the entrypoint dumpable)."""
    libc.prctl(libc.PR_SET_DUMPABLE, 0)
    uid, gid, groups = ids
    mask = plan.cap_mask
    for number in range(libc_last_cap() + 1):
        if not mask & (1 << number):
            libc.prctl(libc.PR_CAPBSET_DROP, number)
    if plan.config.security.no_new_privileges:
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    if plan.seccomp_bpf:
        libc.load_seccomp_bpf(plan.seccomp_bpf)
    os.setgroups(groups)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if uid == 0:
        libc.capset(mask, mask, 0)
    enter_workdir(plan.config.cwd)


def enter_workdir(cwd: str) -> None:
    """chdir to ``-w`` (resolved by ``_prepare_process``) as the container's user, and make sure that
    is inside the container: a magic link such as ``/proc/1/root`` (``--pid host``) would lead out
    of it (runc's CVE-2024-21626)."""
    try:
        os.chdir(cwd)
    except OSError as error:
        raise ExecFailure(126, f"chdir to cwd ({cwd!r}) set in config.json failed: {error.strerror}") from None
    try:
        inside = os.getcwd().startswith("/")  # glibc: ENOENT for an "(unreachable)" directory
    except OSError:
        inside = False
    if not inside:
        raise ExecFailure(125, f"the working directory {cwd!r} is outside of the container's root")


def libc_last_cap() -> int:
    """The kernel's last capability (read before pivot_root would also work: /proc is ours)."""
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        return int(handle.read())


def close_inherited_fds(*keep: int) -> None:
    """Close every descriptor but 0-2 and ``keep`` (the close-on-exec error pipe and exec
    trampoline; -1: none): nothing of the host stays reachable through /proc/self/fd."""
    first = 3
    for fd in sorted(set(keep)):
        if fd >= first:
            os.closerange(first, fd)
            first = fd + 1
    libc.close_range(first)
