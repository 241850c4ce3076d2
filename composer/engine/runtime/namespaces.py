"""The namespaces of a container: which to unshare, the ``container:X`` ones to join, and
``--userns private``'s user namespace (composer's subordinate ids, idmapped image layers)."""

from __future__ import annotations

import os

from composer.engine.runtime import libc
from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.state import ContainerDir
from composer.errors import ContainerRuntimeError


def _shares(mode: str) -> bool:
    """True for a namespace mode that does not make a namespace of its own (host, container:X)."""
    return mode == "host" or mode.startswith("container:")


def clone_flags(config: ContainerConfig) -> int:
    """The namespaces to unshare for ``config``."""
    flags = libc.CLONE_NEWNS
    for flag, mode in ((libc.CLONE_NEWPID, config.pid_mode), (libc.CLONE_NEWCGROUP, config.cgroupns_mode),
                       (libc.CLONE_NEWUTS, config.uts_mode), (libc.CLONE_NEWIPC, config.ipc_mode),
                       (libc.CLONE_NEWNET, config.network)):
        if not _shares(mode):
            flags |= flag
    return flags


def open_shared_namespaces(config: ContainerConfig) -> list[tuple[int, int]]:
    """(fd, type) of the namespaces that ``container:X`` modes join: X's PID 1's, in setns order."""
    wanted = [(mode.partition(":")[2], name, flag) for mode, name, flag in (
        (config.ipc_mode, "ipc", libc.CLONE_NEWIPC), (config.network, "net", libc.CLONE_NEWNET),
        (config.pid_mode, "pid", libc.CLONE_NEWPID)) if mode.startswith("container:")]
    if not wanted:
        return []
    if wanted[0][1] == "ipc":  # and its mount namespace, where the child copies /dev/shm from
        wanted.insert(1, (wanted[0][0], "mnt", libc.CLONE_NEWNS))
    from composer.engine.runtime.containers import resolve, running_pid

    fds: list[tuple[int, int]] = []
    try:
        for target, name, flag in wanted:
            target_id = resolve(target)  # compose gives names, the CLI ids
            pid = running_pid(target_id)
            if name == "ipc":  # (checked here only: at start, as docker does)
                check_ipc_donor(target_id)
            try:
                fds.append((os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag))
            except OSError as error:
                raise ContainerRuntimeError(f"cannot join the {name} namespace of container {target}: "
                                            f"{error.strerror}") from None
    except BaseException:
        for fd, _ in fds:
            os.close(fd)
        raise
    return fds


def check_ipc_donor(container_id: str) -> None:
    """docker's rule for ``--ipc container:X``: X's IPC namespace is given away only when X was
    made ``shareable`` (or uses the host's, or another shareable one); private is private."""
    mode = ContainerDir(container_id).read_config().get("ipc_mode") or ""
    if mode not in ("shareable", "host") and not mode.startswith("container:"):
        raise ContainerRuntimeError("non-shareable IPC (hint: use IpcMode:shareable for the donor container)",
                                    hint="run the donor with --ipc shareable (compose: ipc: shareable)")  # dockerd's words


def make_user_namespace(uid_map: str, gid_map: str) -> int:
    """A new user namespace with these id maps, held by the returned fd (a helper child makes it)."""
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
    helper = os.fork()
    if helper == 0:
        os.close(hold_w)
        try:
            libc.unshare(libc.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(hold_r, 1)  # keeps the namespace alive until the parent holds it
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(hold_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise ContainerRuntimeError("cannot create a user namespace",
                                        hint="check /proc/sys/user/max_user_namespaces")
        for name, text in (("uid_map", uid_map), ("gid_map", gid_map)):
            with open(f"/proc/{helper}/{name}", "w") as handle:
                handle.write(text)
        return os.open(f"/proc/{helper}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        raise ContainerRuntimeError(f"cannot set up the user namespace: {error.strerror}") from None
    finally:
        os.close(hold_w)
        os.close(ready_r)
        os.waitpid(helper, 0)


def prepare_user_namespace(config: ContainerConfig, cdir: ContainerDir) -> tuple[int, list[int]]:
    """``--userns private``: container root is the first id of a block of composer's subordinate
    range that no other container maps (podman's --userns=auto); returns the namespace's fd and the
    image layers idmapped into it (detached mounts), and hands the state dir's writable parts to
    the mapped root."""
    from composer.engine.runtime.userdb import claim_id_block, subordinate_range

    uid, gid, size = claim_id_block(config.id, subordinate_range("/etc/subuid"), subordinate_range("/etc/subgid"))
    userns = make_user_namespace(f"0 {uid} {size}\n", f"0 {gid} {size}\n")
    fds: list[int] = []
    try:
        for index, layer in enumerate(config.layers):
            fds.append(libc.idmapped_tree(layer, userns))
            os.makedirs(cdir.file(f"lower/{index}"), exist_ok=True)
        os.chown(cdir.path, 0, gid)  # 0710: the mapped root may pass, not read
        for path in (cdir.upper, cdir.work):
            os.chown(path, uid, gid)
    except OSError as error:
        for fd in (userns, *fds):
            os.close(fd)
        raise ContainerRuntimeError(f"cannot map the image into the user namespace: {error.strerror}",
                                    hint="--userns private needs idmapped mounts (Linux 5.19+)") from None
    return userns, fds
