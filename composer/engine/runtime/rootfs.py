"""The container's root filesystem, built inside its own mount namespace by the init child.

overlay (image layers + upper) -> /proc /dev /sys /dev/pts /dev/shm /dev/mqueue -> /etc files ->
user mounts -> masked and read-only paths -> pivot_root. Every mount lives only in the
container's mount namespace, so it disappears with the container: nothing can leak on the host.
"""

from __future__ import annotations

import os
import stat

from composer.engine.runtime import libc
from composer.engine.runtime.config import MASKED_PATHS, READONLY_PATHS, ContainerConfig, Device, Mount
from composer.engine.runtime.paths import secure_join
from composer.engine.runtime.record import Record
from composer.engine.runtime.state import ContainerDir
from composer.errors import ContainerRuntimeError

NOSUID_NODEV_NOEXEC = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0))
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
             ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"), ("core", "/proc/kcore"))
PROPAGATION_FLAGS = {"private": libc.MS_PRIVATE, "rprivate": libc.MS_PRIVATE | libc.MS_REC,
                     "shared": libc.MS_SHARED, "rshared": libc.MS_SHARED | libc.MS_REC,
                     "slave": libc.MS_SLAVE, "rslave": libc.MS_SLAVE | libc.MS_REC}


STAGED = "x-composer-staged"  # a bind's options: its source /proc/self/fd/N/NAME is in a detached mount N

MOUNT_DATA_LIMIT = 4000  # the kernel copies at most one page of mount options


def overlay_options(layers: list[str], upper: str, work: str, volatile: bool = False) -> str:
    """The overlay mount data: lowerdir lists the TOP layer first. ``volatile`` (for ``--rm``) skips
    syncing the upper filesystem, which otherwise happens when the container's last process exits."""
    lower = ":".join(reversed(layers))
    return f"lowerdir={lower},upperdir={upper},workdir={work}" + (",volatile" if volatile else "")


def mount_root(config: ContainerConfig, cdir: ContainerDir, layer_fds: list[int] = ()) -> str:
    """Make / private and mount the overlay at the state dir's rootfs/; returns that path.

    Many layers overflow the one-page limit of mount options: then each layer gets a short
    symlink in the state dir (``l/<n>``, as docker's overlay2 does) and the paths are relative.
    """
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    layers = config.layers
    if layer_fds:  # --userns private: the idmapped layers, attached in our mount namespace
        layers = [cdir.file(f"lower/{index}") for index in range(len(layer_fds))]
        for fd, target in zip(layer_fds, layers):
            libc.move_mount(fd, target)
    volatile = config.auto_remove  # its upper dir is thrown away: a crash cannot lose anything
    if volatile:  # restarting such a container: overlay refuses a workdir marked by a volatile mount
        marker = os.path.join(cdir.work, "work", "incompat", "volatile")
        for remove, path in ((os.unlink, os.path.join(marker, "dirty")), (os.rmdir, marker)):
            try:
                remove(path)
            except OSError:
                pass
    options = overlay_options(layers, cdir.upper, cdir.work, volatile)
    if len(options) > MOUNT_DATA_LIMIT:
        os.makedirs(cdir.file("l"), exist_ok=True)
        short = []
        for index, layer in enumerate(layers):
            link = f"l/{index:x}"
            if not os.path.islink(cdir.file(link)):
                os.symlink(layer, cdir.file(link))
            short.append(link)
        os.chdir(cdir.path)
        options = overlay_options(short, "upper", "work", volatile)
    try:
        libc.mount("overlay", cdir.rootfs, "overlay", 0, options)
    except OSError:
        if not volatile:
            raise
        libc.mount("overlay", cdir.rootfs, "overlay", 0, options.removesuffix(",volatile"))  # kernel < 5.10
    return cdir.rootfs


def ensure_target(path: str, directory: bool) -> None:
    """Create a mount point (dir or empty file) if missing."""
    if os.path.lexists(path):
        return
    if directory:
        os.makedirs(path, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def mount_kernel_filesystems(root: str, config: ContainerConfig, shm_fd: int = -1) -> None:
    """/proc, /dev (+pts, shm, mqueue) and /sys, like docker's defaults; ``shm_fd``: a detached
    /dev/shm to attach instead of a new one (another container's, with ``--ipc container:X``);
    ``--ipc host`` binds the host's /dev/shm."""
    proc = secure_join(root, "/proc")
    ensure_target(proc, True)
    libc.mount("proc", proc, "proc", NOSUID_NODEV_NOEXEC)
    mount_dev(root, config, shm_fd)
    sys_dir = secure_join(root, "/sys")
    ensure_target(sys_dir, True)
    ro = 0 if config.security.privileged else libc.MS_RDONLY
    try:
        libc.mount("sysfs", sys_dir, "sysfs", NOSUID_NODEV_NOEXEC | ro)
    except OSError:  # sharing the host's network namespace: bind the host's /sys instead
        libc.mount("/sys", sys_dir, None, libc.MS_BIND | libc.MS_REC)
        if ro:
            libc.mount(None, sys_dir, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | NOSUID_NODEV_NOEXEC)


def mount_dev(root: str, config: ContainerConfig, shm_fd: int = -1) -> None:
    """A tmpfs /dev with the standard nodes, or the host's /dev when privileged."""
    dev = secure_join(root, "/dev")
    ensure_target(dev, True)
    if config.security.privileged:
        libc.mount("/dev", dev, None, libc.MS_BIND | libc.MS_REC)
    else:
        libc.mount("tmpfs", dev, "tmpfs", libc.MS_NOSUID, "mode=755,size=65536k")
        for name, major, minor in DEVICES:
            make_node(f"{dev}/{name}", 0o666 | stat.S_IFCHR, os.makedev(major, minor), f"/dev/{name}",
                      config.userns_mode == "private")
        for name, target in DEV_LINKS:
            os.symlink(target, f"{dev}/{name}")
        os.mkdir(f"{dev}/pts", 0o755)
    libc.mount("devpts", f"{dev}/pts", "devpts", libc.MS_NOSUID | libc.MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620,gid=5")
    if config.security.privileged:  # the host's /dev/ptmx would open the host's ptys
        libc.mount(f"{dev}/pts/ptmx", f"{dev}/ptmx", None, libc.MS_BIND)
    for name in ("shm", "mqueue"):
        ensure_target(f"{dev}/{name}", True)
    if shm_fd >= 0:
        libc.move_mount(shm_fd, f"{dev}/shm")
    elif config.ipc_mode == "host":  # docker: the host's IPC namespace comes with the host's POSIX shm
        libc.mount("/dev/shm", f"{dev}/shm", None, libc.MS_BIND | libc.MS_REC)
    elif config.ipc_mode != "none":  # --ipc none: a private IPC namespace without /dev/shm (docker)
        libc.mount("shm", f"{dev}/shm", "tmpfs", NOSUID_NODEV_NOEXEC, f"mode=1777,size={config.shm_size}")
    libc.mount("mqueue", f"{dev}/mqueue", "mqueue", NOSUID_NODEV_NOEXEC)


class DeviceNode(Record):
    """A ``--device`` resolved on the host: what to mknod in the container and allow in its cgroup."""

    path: str                      # in the container
    host_path: str
    kind: str                      # "c" or "b"
    major: int
    minor: int
    mode: int
    uid: int
    gid: int
    permissions: str

    def cgroup_rule(self) -> str:
        """The devices cgroup rule, e.g. ``c 1:3 rwm``."""
        return f"{self.kind} {self.major}:{self.minor} {self.permissions}"


def device_nodes(devices: list[Device]) -> list[DeviceNode]:
    """Stat each ``--device`` host path (the runtime's side, before fork)."""
    nodes = []
    for device in devices:
        try:
            info = os.stat(device.path_on_host)
        except OSError as error:
            raise ContainerRuntimeError(f"error gathering device information while adding custom device "
                                        f"{device.path_on_host!r}: {error.strerror}") from None
        if not (stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)):
            raise ContainerRuntimeError(f"{device.path_on_host!r} is not a device node",
                                        hint="--device takes a character or block device such as /dev/fuse")
        nodes.append(DeviceNode(path=device.path_in_container or device.path_on_host, host_path=device.path_on_host,
                                kind="c" if stat.S_ISCHR(info.st_mode) else "b", major=os.major(info.st_rdev),
                                minor=os.minor(info.st_rdev), mode=info.st_mode, uid=info.st_uid, gid=info.st_gid,
                                permissions=device.permissions))
    return nodes


def make_node(target: str, mode: int, device: int, host_path: str, userns: bool) -> None:
    """mknod ``target``; in a user namespace (where mknod is refused) bind the host's node instead."""
    if not userns:
        os.mknod(target, mode, device)
        os.chmod(target, stat.S_IMODE(mode))
        return
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    libc.mount(host_path, target, None, libc.MS_BIND)


def make_device_nodes(root: str, nodes: list[DeviceNode], userns: bool = False) -> None:
    """Make each ``--device`` in the container (after /dev is mounted), owned as on the host."""
    for node in nodes:
        target = secure_join(root, node.path)
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        make_node(target, node.mode, os.makedev(node.major, node.minor), node.host_path, userns)
        if not userns:
            os.chown(target, node.uid, node.gid)


def bind_etc_files(root: str, cdir: ContainerDir) -> None:
    """Bind the generated hostname, hosts and resolv.conf over the image's."""
    for name in ("hostname", "hosts", "resolv.conf"):
        target = secure_join(root, f"/etc/{name}")
        ensure_target(target, False)
        libc.mount(cdir.file(name), target, None, libc.MS_BIND)


def apply_mount(root: str, mount: Mount, source_fd: int = -1) -> None:
    """Mount one bind/volume/tmpfs ``mount`` (source already resolved to a host path); ``source_fd``:
    the source as a detached mount the runtime made (``--userns private``: the mapped root may not
    be able to reach the host path; a volume subpath: pinned by ``mounts.pin_subpath``, never
    looked up again by path)."""
    target = secure_join(root, mount.target)
    if mount.type == "tmpfs":
        ensure_target(target, True)
        flags, data = tmpfs_flags(mount)
        libc.mount("tmpfs", target, "tmpfs", flags, data or None)
        return
    if mount.options == STAGED:
        bind_staged(root, mount.source, target)
    elif source_fd >= 0:
        ensure_target(target, stat.S_ISDIR(os.fstat(source_fd).st_mode))
        libc.move_mount(source_fd, target)
    else:
        ensure_target(target, os.path.isdir(mount.source))
        libc.mount(mount.source, target, None, libc.MS_BIND | (0 if mount.recursive == "disabled" else libc.MS_REC))
    libc.mount(None, target, None, PROPAGATION_FLAGS.get(mount.propagation or "rprivate", libc.MS_PRIVATE))
    if mount.readonly:  # the mounts under it too, but with bind-recursive=writable (docker 25+)
        libc.set_readonly(target, mount.recursive != "writable")


def bind_staged(root: str, source: str, target: str) -> None:
    """Bind the file ``/proc/self/fd/N/NAME`` of the detached mount N onto ``target`` where Linux
    < 6.15 binds nothing from a detached mount: attach N on a staging directory beside ``root``
    (in the state dir, out of the container's view), bind NAME from there, then detach N and
    remove the directory. All in the container's mount namespace: the host never sees it."""
    fd, name = source.removeprefix("/proc/self/fd/").split("/", 1)
    staging = os.path.join(os.path.dirname(root), f"staged-{fd}")
    os.mkdir(staging, 0o700)
    try:
        libc.move_mount(int(fd), staging)
        try:
            ensure_target(target, False)
            libc.mount(os.path.join(staging, name), target, None, libc.MS_BIND)
        finally:
            libc.umount(staging, libc.MNT_DETACH)
    finally:
        os.rmdir(staging)


TMPFS_FLAG_OPTIONS = {"ro": (libc.MS_RDONLY, 0), "rw": (0, libc.MS_RDONLY), "exec": (0, libc.MS_NOEXEC),
                      "noexec": (libc.MS_NOEXEC, 0), "suid": (0, libc.MS_NOSUID), "nosuid": (libc.MS_NOSUID, 0),
                      "dev": (0, libc.MS_NODEV), "nodev": (libc.MS_NODEV, 0)}


def tmpfs_flags(mount: Mount) -> tuple[int, str]:
    """Mount flags and data of a tmpfs: docker's defaults noexec,nosuid,nodev, then the options."""
    flags = libc.MS_NOEXEC | libc.MS_NOSUID | libc.MS_NODEV | (libc.MS_RDONLY if mount.readonly else 0)
    data = []
    for option in filter(None, mount.options.split(",")):
        if option in TMPFS_FLAG_OPTIONS:
            add, remove = TMPFS_FLAG_OPTIONS[option]
            flags = (flags | add) & ~remove
        else:
            data.append(option)
    return flags, ",".join(data)


def mask_paths(root: str) -> None:
    """Hide docker's masked paths and make its read-only paths read-only."""
    null = f"{root}/dev/null"
    for path in MASKED_PATHS:
        target = f"{root}{path}"
        if not os.path.exists(target):
            continue
        if os.path.isdir(target):
            libc.mount("tmpfs", target, "tmpfs", libc.MS_RDONLY)
        else:
            libc.mount(null, target, None, libc.MS_BIND)
    for path in READONLY_PATHS:
        target = f"{root}{path}"
        if os.path.exists(target):
            libc.mount(target, target, None, libc.MS_BIND | libc.MS_REC)
            libc.mount(None, target, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | NOSUID_NODEV_NOEXEC)


CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_V1_CONTROLLERS = {"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "misc",
                         "net_cls", "net_prio", "perf_event", "pids", "rdma"}


def cgroup_hierarchies(mounts_text: str) -> list[tuple[str, str, str]]:
    """(name, fstype, options) of the host's cgroup hierarchies with controllers, from
    /proc/self/mounts: v1 controllers (``cpu``, ``memory``, ...) or the v2 mount itself ("")."""
    found = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[1].startswith(CGROUP_ROOT) or fields[2] not in ("cgroup", "cgroup2"):
            continue
        name = fields[1][len(CGROUP_ROOT):].strip("/")
        controllers = ",".join(o for o in fields[3].split(",") if o in CGROUP_V1_CONTROLLERS)
        if fields[2] == "cgroup2" and not name:
            return [("", "cgroup2", "")]  # pure v2: one mount
        if fields[2] == "cgroup" and controllers:  # (named hierarchies like name=systemd carry no limits)
            found.append((name, "cgroup", controllers))
    return found


def mount_cgroups(hierarchies: list[tuple[str, str, str]], read_only: bool) -> None:
    """After pivot_root and the cgroup namespace: /sys/fs/cgroup as docker shows it, each hierarchy
    rooted at the container's own cgroup (its limits readable by the program, e.g. a JVM's heap);
    read-only unless privileged. Best effort: a hierarchy the kernel refuses is left out."""
    flags = NOSUID_NODEV_NOEXEC | (libc.MS_RDONLY if read_only else 0)
    if hierarchies[:1] == [("", "cgroup2", "")]:
        libc.mount("cgroup2", CGROUP_ROOT, "cgroup2", flags)
        return
    libc.mount("tmpfs", CGROUP_ROOT, "tmpfs", NOSUID_NODEV_NOEXEC, "mode=755")
    for name, fstype, options in hierarchies:
        target = os.path.join(CGROUP_ROOT, name)
        os.makedirs(target, exist_ok=True)
        try:
            libc.mount("cgroup", target, fstype, flags, options)
        except OSError:
            os.rmdir(target)
            continue
        for controller in options.split(","):  # co-mounted ones: cpu -> cpu,cpuacct (as docker)
            if controller != name and not os.path.lexists(os.path.join(CGROUP_ROOT, controller)):
                os.symlink(name, os.path.join(CGROUP_ROOT, controller))
    if read_only:
        libc.mount(None, CGROUP_ROOT, None, libc.MS_REMOUNT | libc.MS_RDONLY | NOSUID_NODEV_NOEXEC)


def write_sysctls(root: str, sysctls: dict[str, str]) -> None:
    """Write namespaced sysctls through the container's own /proc (before it turns read-only)."""
    for key, value in sysctls.items():
        with open(f"{root}/proc/sys/{key.replace('.', '/')}", "w") as handle:
            handle.write(value)


def pivot(root: str, read_only: bool) -> None:
    """pivot_root into ``root`` and detach the old root (the host is gone from view)."""
    os.chdir(root)
    libc.pivot_root(".", ".")
    libc.umount(".", libc.MNT_DETACH)
    os.chdir("/")
    if read_only:
        libc.mount(None, "/", None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY)
