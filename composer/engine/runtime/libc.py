"""The one place composer talks to libc through ctypes (Python 3.11 has no unshare/setns/mount).

Every wrapper raises ``OSError`` with the errno on failure, like the ``os`` module does; callers
translate to ComposerError where it matters.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_UNBINDABLE = 1 << 17
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2

SYS_PIVOT_ROOT = 155
SYS_CAPSET = 126
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_MOUNT_SETATTR = 442
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_SYMLINK_NOFOLLOW = 0x100
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
MOUNT_ATTR_IDMAP = 0x00100000
MOVE_MOUNT_F_EMPTY_PATH = 4

_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, what: str, detail: str = "") -> None:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}", detail or None)


def _b(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def mount(source: str | None, target: str, fstype: str | None = None, flags: int = 0,
          data: str | None = None) -> None:
    """mount(2)."""
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}", target)


def umount(target: str, flags: int = 0) -> None:
    """umount2(2)."""
    _check(_libc.umount2(_b(target), flags), f"umount {target}", target)


def unshare(flags: int) -> None:
    """unshare(2)."""
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2) into the namespace open at ``fd``."""
    _check(_libc.setns(fd, nstype), "setns")


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2) (glibc has no wrapper)."""
    _check(_libc.syscall(SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), "pivot_root")


def clone_tree(path: str, flags: int = 0) -> int:
    """A detached copy of the mount at ``path`` (open_tree OPEN_TREE_CLONE), to attach elsewhere
    with ``move_mount``; returns its fd (close-on-exec)."""
    fd = _libc.syscall(SYS_OPEN_TREE, AT_FDCWD, _b(path), OPEN_TREE_CLONE | os.O_CLOEXEC | flags)
    _check(fd, f"open_tree {path}", path)
    return fd


def idmapped_tree(path: str, userns_fd: int) -> int:
    """A detached copy of the mount tree at ``path`` whose file owners are mapped through the user
    namespace ``userns_fd`` (open_tree + mount_setattr MOUNT_ATTR_IDMAP); returns its fd."""
    fd = clone_tree(path)
    attr = ctypes.create_string_buffer(MOUNT_ATTR_IDMAP.to_bytes(8, "little") + bytes(16) +
                                       userns_fd.to_bytes(8, "little"), 32)  # struct mount_attr
    if _libc.syscall(SYS_MOUNT_SETATTR, fd, b"", AT_EMPTY_PATH, attr, ctypes.c_size_t(32)) < 0:
        errno = ctypes.get_errno()
        os.close(fd)
        raise OSError(errno, f"mount_setattr (idmap) {path}: {os.strerror(errno)}", path)
    return fd


def set_readonly(path: str, recursive: bool) -> None:
    """Make the mount at ``path`` read-only, with ``recursive`` every mount under it too
    (mount_setattr MOUNT_ATTR_RDONLY: its other flags stay as they are)."""
    attr = ctypes.create_string_buffer(MOUNT_ATTR_RDONLY.to_bytes(8, "little") + bytes(24), 32)  # struct mount_attr
    _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, _b(path), AT_RECURSIVE if recursive else 0, attr,
                         ctypes.c_size_t(32)), f"mount_setattr {path}", path)


def move_mount(fd: int, target: str) -> None:
    """Attach the detached mount ``fd`` at ``target`` (move_mount(2))."""
    _check(_libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, _b(target), MOVE_MOUNT_F_EMPTY_PATH),
           f"move_mount {target}", target)


def sethostname(name: str) -> None:
    """sethostname(2)."""
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2)."""
    result = _libc.prctl(option, arg2, arg3, arg4, arg5)
    _check(result, f"prctl {option}")
    return result


def get_child_subreaper() -> bool:
    """prctl(PR_GET_CHILD_SUBREAPER)."""
    flag = ctypes.c_int(0)
    _check(_libc.prctl(37, ctypes.addressof(flag), 0, 0, 0), "prctl PR_GET_CHILD_SUBREAPER")
    return bool(flag.value)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """capset(2) with 64-bit masks (capability version 3)."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    for index in range(2):
        shift = 32 * index
        data[index].effective = (effective >> shift) & 0xFFFFFFFF
        data[index].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[index].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def load_seccomp_bpf(program: bytes) -> None:
    """Install a compiled classic-BPF seccomp filter (8 bytes per instruction)."""
    fprog = _SockFprog(len(program) // 8, program)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0),
           "seccomp filter")


def socket(family: int, kind: int) -> int:
    """socket(2) as a bare file descriptor (the socket module costs milliseconds to import)."""
    fd = _libc.socket(family, kind, 0)
    _check(fd, "socket")
    return fd


def ioctl(fd: int, request: int, buffer: bytearray) -> None:
    """ioctl(2) with an in/out buffer (the fcntl module is one more shared library to load)."""
    _check(_libc.ioctl(fd, ctypes.c_ulong(request), (ctypes.c_char * len(buffer)).from_buffer(buffer)), "ioctl")


def setrlimit(resource: int, soft: int, hard: int) -> None:
    """setrlimit(2); -1 is RLIM_INFINITY (the resource module is one more shared library to load)."""
    limits = (ctypes.c_ulong * 2)(soft & 0xFFFFFFFFFFFFFFFF, hard & 0xFFFFFFFFFFFFFFFF)
    _check(_libc.setrlimit(resource, limits), "setrlimit")


def close_range(first: int) -> None:
    """Close every file descriptor from ``first`` up (close_range(2), syscall 436)."""
    if _libc.syscall(436, first, 0xFFFFFFFF, 0) < 0:
        os.closerange(first, 65536)


# --- libseccomp (loaded on first use: only when a filter must be compiled) -------------------
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_KILL_PROCESS = 0x80000000
SCMP_ARCHES = {"x86_64": 0xC000003E, "x86": 0x40000003, "aarch64": 0xC00000B7, "arm": 0x40000028}
SCMP_OPS = {"ne": 1, "lt": 2, "le": 3, "eq": 4, "ge": 5, "gt": 6, "masked_eq": 7}


class _ScmpArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def scmp_act_errno(errno: int) -> int:
    """libseccomp's SCMP_ACT_ERRNO(errno)."""
    return 0x00050000 | (errno & 0xFFFF)


class SeccompFilter:
    """A libseccomp filter context: add rules, export the BPF program."""

    def __init__(self, default_action: int, arches: list[str]) -> None:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                               ctypes.c_uint, ctypes.POINTER(_ScmpArgCmp)]
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._lib = lib
        self._ctx = lib.seccomp_init(default_action)
        if not self._ctx:
            raise OSError(ctypes.get_errno(), "seccomp_init failed")
        for arch in arches:
            token = SCMP_ARCHES.get(arch)
            if token is not None and lib.seccomp_arch_add(self._ctx, token) not in (0, -17):
                raise OSError(22, f"seccomp_arch_add {arch} failed")

    def add_rule(self, action: int, name: str, args: list[tuple[int, str, int, int]]) -> bool:
        """Add one rule; False if this libseccomp does not know the syscall."""
        number = self._lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return False
        array = (_ScmpArgCmp * max(len(args), 1))()
        for index, (arg, op, datum_a, datum_b) in enumerate(args):
            array[index] = _ScmpArgCmp(arg, SCMP_OPS[op], datum_a, datum_b)
        result = self._lib.seccomp_rule_add_array(self._ctx, action, number, len(args), array)
        if result < 0 and result != -17:  # -EEXIST: the action equals the default
            raise OSError(-result, f"seccomp rule for {name}: {os.strerror(-result)}")
        return True

    def export_bpf(self, fd: int) -> None:
        """Write the compiled classic-BPF program to ``fd``."""
        result = self._lib.seccomp_export_bpf(self._ctx, fd)
        if result < 0:
            raise OSError(-result, "seccomp_export_bpf failed")

    def release(self) -> None:
        """Free the context."""
        if self._ctx:
            self._lib.seccomp_release(self._ctx)
            self._ctx = None


# --- inotify (event-driven waits on state files, no busy polling) ----------------------------
IN_MODIFY = 0x2
IN_CLOSE_WRITE = 0x8
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE_SELF = 0x400
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000


def inotify_init() -> int:
    """inotify_init1(IN_CLOEXEC | IN_NONBLOCK): a descriptor to poll."""
    fd = _libc.inotify_init1(IN_CLOEXEC | IN_NONBLOCK)
    _check(fd, "inotify_init1")
    return fd


def inotify_add_watch(fd: int, path: str, mask: int) -> int:
    """Watch ``path`` for the events in ``mask``."""
    wd = _libc.inotify_add_watch(fd, _b(path), ctypes.c_uint32(mask))
    _check(wd, f"inotify_add_watch {path}", path)
    return wd


CLONE_PARENT = 0x00008000
SYS_CLONE = 56
SIGCHLD = 17


def fork_sibling() -> int:
    """fork(), but the child is our parent's child (``clone(CLONE_PARENT)``): a supervisor's
    short-lived launcher starts PID 1 as the supervisor's own child. glibc's fork bookkeeping is
    skipped, so the child must be single-threaded and exec (or _exit) soon."""
    zero = ctypes.c_long(0)
    pid = _libc.syscall(ctypes.c_long(SYS_CLONE), ctypes.c_long(CLONE_PARENT | SIGCHLD), zero, zero, zero, zero)
    _check(pid, "clone(CLONE_PARENT)")
    return pid


def inotify_rm_watch(fd: int, wd: int) -> None:
    """Stop a watch (EINVAL, a watch the kernel already dropped, is ignored)."""
    _libc.inotify_rm_watch(fd, wd)


def malloc_trim() -> None:
    """Give freed heap pages back to the kernel (a supervisor's launch leaves some behind)."""
    _libc.malloc_trim(0)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def keep_heap(mmap_threshold: int, trim_threshold: int) -> None:
    """Serve big allocations from the heap and keep freed pages (no page faults per MiB copied);
    ``malloc_trim`` gives them back once the burst is over."""
    _libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
    _libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)


SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 430, 431, 432
FSOPEN_CLOEXEC = FSMOUNT_CLOEXEC = 1
FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 1, 6
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC = 0x2, 0x4, 0x8
MOUNT_ATTR_RDONLY = 0x1


def detached_tmpfs(options: dict[str, str], attrs: int = 0) -> int:
    """A new tmpfs attached nowhere (fsopen, fsconfig, fsmount): an fd of its root (close-on-exec).
    It is gone when its last fd and the last mount made from it are."""
    return detached_filesystem("tmpfs", list(options.items()), attrs)


def detached_filesystem(fstype: str, options: list[tuple[str, str]], attrs: int = 0) -> int:
    """A new ``fstype`` filesystem attached nowhere, each (key, value) given to fsconfig in order
    (overlay's ``lowerdir+`` once per layer); an fd of its root (close-on-exec)."""
    fs = _libc.syscall(SYS_FSOPEN, fstype.encode(), FSOPEN_CLOEXEC)
    _check(fs, f"fsopen {fstype}")
    try:
        for key, value in options:
            _check(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, key.encode(), value.encode(), 0),
                   f"fsconfig {key}={value}")
        _check(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0), "fsconfig create")
        fd = _libc.syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, attrs)
        _check(fd, f"fsmount {fstype}")
        return fd
    finally:
        os.close(fs)


# --- the exec trampoline's sealed memfd (see trampoline.py) ----------------------------------
MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_EXEC = 0x1, 0x2, 0x10
F_ADD_SEALS, F_GET_SEALS = 1033, 1034
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 0x1, 0x2, 0x4, 0x8


def add_seals(fd: int, seals: int) -> None:
    """fcntl(F_ADD_SEALS) on a memfd."""
    _check(_libc.fcntl(fd, F_ADD_SEALS, ctypes.c_int(seals)), "fcntl F_ADD_SEALS")


def get_seals(fd: int) -> int:
    """fcntl(F_GET_SEALS)."""
    seals = _libc.fcntl(fd, F_GET_SEALS)
    _check(seals, "fcntl F_GET_SEALS")
    return seals
