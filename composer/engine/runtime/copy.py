"""``container cp``: a tar stream through ``exec`` in a running container (the image needs
``tar``; copying in also ``sh``); for a stopped (exited or created) one, composer's own tar code
(Python's tarfile, never a program of the image) runs in a short-lived child chrooted in the
container's filesystem, mounted (overlay, volumes, binds) in the child's private mount namespace,
so every mount goes with that child, also on failure (docker mounts a stopped container's root and
volumes for cp too, and archives with its own code, chrooted).

The container side is read and written only from inside the container's root (its own mounts and
links), so a symlink in the container can never lead to a host path; the host side unpacks with
tarfile's ``data`` filter (no absolute paths, no ``..``, no device files).
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import threading
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Callable

from composer.engine.runtime.execute import ExecRequest, spawn, wait_exit
from composer.errors import ComposerError, ContainerNotFound, ContainerRuntimeError, FlagError, VolumeError


def _run_tar(container_id: str, argv: list[str], stdin_fd: int, stdout_fd: int, stderr_fd: int = 2,
             stopped: Callable[[], int] | None = None) -> int:
    """Start ``argv`` as root in the running container by exec; in a stopped one, ``stopped`` (our
    own code doing what ``argv`` does) chrooted in its mounted filesystem (the caller holds
    ``_container_side``): never a program of the image outside the container's sandbox. The
    child's pid."""
    from composer.engine.runtime.containers import LIVE, current_state
    from composer.engine.runtime.state import ContainerDir

    state = current_state(ContainerDir(container_id))
    if state.get("Status") not in LIVE:
        if stopped is None:
            raise ContainerRuntimeError(f"container {container_id[:12]} is not running", exit_code=1)
        return _spawn_in_stopped(container_id, stopped, (stdin_fd, stdout_fd, stderr_fd))
    from composer.engine.runtime.containers import running_pid

    pid = running_pid(container_id)
    # as root, whatever the image's USER: docker's cp is not limited by the container's user
    return spawn(container_id, pid, ExecRequest(argv=argv, user="0:0"), (stdin_fd, stdout_fd, stderr_fd))


@contextmanager
def _container_side(container_id: str):
    """Yield whether the container runs, holding its mount lock for a copy of a stopped one
    (docker's cp locks the container too): its filesystem is never mounted by a copy beside a
    start's PID 1 (one waits for the other; a start that went first leaves it running: the copy
    execs), nor twice by two copies. A running one's copy execs and mounts nothing: it holds no
    lock (its exit is recorded meanwhile). The state lock is never held for a copy's length:
    a start's and its supervisor's state writes never wait for a copy, only their mount lock
    does, bounded. A wait longer than ``settings.lock_wait()`` is a clear error."""
    from composer.engine.runtime.containers import LIVE, current_state
    from composer.engine.runtime.state import ContainerDir, mount_locked

    cdir = ContainerDir(container_id)
    with ExitStack() as held:
        try:
            held.enter_context(mount_locked(cdir, "its start, its removal or another copy",
                                            hint="copy again once it has started (or the other copy is done)"))
            if not os.path.exists(cdir.config):
                raise FileNotFoundError(cdir.config)  # removed while the copy waited
            running = current_state(cdir).get("Status") in LIVE
            if running:
                held.close()
        except FileNotFoundError:
            raise ContainerNotFound(f"No such container: {container_id}") from None
        yield running


def _spawn_in_stopped(container_id: str, job: Callable[[], int], fds: tuple[int, int, int]) -> int:
    """Fork a child that mounts the stopped container's filesystem in its own mount namespace,
    chroots there and runs ``job`` (its exit code); its mounts vanish when it exits."""
    from composer.engine.runtime.containers import _config
    from composer.engine.runtime.state import ContainerDir

    cdir = ContainerDir(container_id)
    config = _config(cdir)
    if config.userns_mode == "private":
        raise ContainerRuntimeError(f"cannot copy with the stopped container {config.name}: it runs with --userns "
                                    "private", hint="start it first (cp works with a running one)", exit_code=1)
    mounts = _host_mounts(config)
    devices = _unmounted_devices(config)
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 127
        try:
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            _enter_stopped(config, cdir, mounts, devices)
            # no user/group names looked up in the container's root: glibc would load its NSS
            # modules from the image's /lib there
            tarfile.pwd = tarfile.grp = None  # type: ignore[attr-defined]
            code = job()
        except BaseException as error:  # noqa: BLE001 (the child never returns to the caller)
            os.write(2, f"tar: {error}\n".encode(errors="replace"))
            code = 1
        finally:
            os._exit(code)
    return pid


def _host_mounts(config) -> list:
    """The container's volumes and binds with host sources (tmpfs are gone when it stops)."""
    from composer.engine.runtime.config import Mount
    from composer.engine.runtime.paths import secure_join
    from composer.engine.volumes import VolumeStore

    resolved, store = [], None
    for mount in config.mounts:
        if mount.type == "volume":
            store = store or VolumeStore()
            source = store.data_path(mount.source)
            if mount.subpath:  # (links inside the volume resolved in it: never a path out of it)
                source = secure_join(source, mount.subpath)
            mount = Mount(type="bind", target=mount.target, source=source, readonly=mount.readonly)
        if mount.type == "bind" and os.path.exists(mount.source):
            resolved.append(mount)
    return resolved


def _unmounted_devices(config) -> list[tuple[dict, str]]:
    """(options, ``_data`` path) of the container's volumes with the local driver's mount options
    that no running container holds mounted now: the copy mounts them itself, as docker's does."""
    from composer.engine.volumes import VolumeStore, needs_mount

    store, devices = VolumeStore(), []
    for name in config.volume_names():
        try:
            meta = store.inspect(name)
        except VolumeError:
            continue  # removed meanwhile: nothing to mount
        if needs_mount(meta.get("Options")):
            from composer.engine.runtime.mountinfo import is_mount_point

            if not is_mount_point(meta["Mountpoint"]):
                devices.append((meta["Options"], meta["Mountpoint"]))
    return devices


def _enter_stopped(config, cdir, mounts: list, devices: list[tuple[dict, str]] = ()) -> None:
    """(In the child) a private mount namespace with the container's root and mounts (``devices``
    mounted on their volumes' directories first, in this namespace only); chroot."""
    from composer.engine.runtime import libc
    from composer.engine.runtime.rootfs import apply_mount, mount_root

    libc.unshare(libc.CLONE_NEWNS)
    root = mount_root(config, cdir)
    for options, target in devices:
        from composer.engine.localvolumes import mount_volume

        mount_volume(options, target)
    for mount in mounts:  # (apply_mount resolves the target's links inside the root)
        apply_mount(root, mount)
    os.chroot(root)
    os.chdir("/")


def _pack_here(parent: str, base: str, follow_link: bool) -> int:
    """(In the chrooted child) ``tar -c[h]f - -C PARENT BASE``: the tar stream on stdout."""
    os.chdir(parent)
    os.lstat(base)  # a missing path: "No such file or directory", as tar says it
    with os.fdopen(1, "wb", closefd=False) as stream, \
            tarfile.open(fileobj=stream, mode="w|", dereference=follow_link, format=tarfile.PAX_FORMAT) as archive:
        archive.add(base, arcname=base)
    return 0


def _inside(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    """A member unpacked in the container as root's ``tar -x`` does (its mode and owner kept),
    never outside ``destination`` (links resolved: tarfile's ``tar`` filter)."""
    return tarfile.tar_filter(member, destination).replace(mode=member.mode, deep=False)


def _extract_stdin(directory: str) -> None:
    """(In the chrooted child) ``tar -xf - -C DIRECTORY``."""
    with os.fdopen(0, "rb", closefd=False) as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            archive.extract(member, directory, filter=_inside)


def _unpack_into(directory: str) -> int:
    """(In the chrooted child) ``cp - CONTAINER:DIR``: the stream unpacked into an existing directory."""
    if not os.path.isdir(directory):
        return NOT_A_DIRECTORY
    _extract_stdin(directory)
    return 0


def _unpack_at(destination: str, name: str, kind: str) -> int:
    """(In the chrooted child) what ``_UNPACK_AT_DESTINATION`` does in a running container."""
    import shutil

    if os.path.isdir(destination):
        _extract_stdin(destination)
        return 0
    bare = destination.rstrip("/") or "/"
    parent = posixpath.dirname(bare) or "/"
    if destination.endswith("/") and kind != "d":
        return NO_SUCH_DIRECTORY
    if not os.path.isdir(parent):
        return NO_PARENT
    if kind == "d" and os.path.lexists(bare):
        return CANNOT_COPY_DIRECTORY
    staging = posixpath.join(parent, ".composer-cp." + os.urandom(6).hex())
    os.mkdir(staging, 0o700)
    try:
        _extract_stdin(staging)
        os.replace(posixpath.join(staging, name), bare)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 0


def _owned_by(uid: int, gid: int, member: tarfile.TarInfo) -> tarfile.TarInfo:
    """``cp -a`` into a container with a user: what arrives belongs to that user."""
    member.uid, member.gid = uid, gid
    member.uname = member.gname = ""
    return member


def _links_as_they_are(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    """tarfile's ``data`` filter, except that a symbolic link is made as it is in the container
    (docker's cp copies links, even to absolute paths); nothing is ever written through one that
    leads outside ``destination``: the next members' paths are checked with links resolved."""
    if member.issym():
        return tarfile.tar_filter(member, destination)
    return tarfile.data_filter(member, destination)


def copy_from(container_id: str, path: str, destination: str, *, follow_link: bool = False,
              reference: str = "") -> None:
    """Copy ``path`` out of the container (running or stopped): see ``_copy_from``."""
    with _container_side(container_id) as running:
        _copy_from(container_id, path, destination, follow_link=follow_link, reference=reference, running=running)


def _copy_from(container_id: str, path: str, destination: str, *, follow_link: bool = False,
               reference: str = "", running: bool = True) -> None:
    """Copy ``path`` (file, directory or link; ``follow_link``: what it points to) out of the
    container into ``destination`` on the host, or as a tar stream to our stdout for "-"
    (docker's ``cp CONTAINER:PATH -``). ``reference``: the container's name in messages;
    ``running``: as ``_container_side`` found it (a stopped one is copied by our own code)."""
    import tempfile

    target = None if destination == "-" else _host_destination(destination)  # refused before anything runs
    contents = path.endswith(("/.", "/./")) or path in (".", "./")  # ``c:/d/.``: what is in /d
    path = posixpath.normpath("/" + path.lstrip("/"))
    parent, base = (path, ".") if contents else posixpath.split(path)
    argv = ["tar", "-chf" if follow_link else "-cf", "-", "-C", parent or "/", base or "."]
    read_fd, write_fd = (-1, 1) if destination == "-" else os.pipe2(os.O_CLOEXEC)
    null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    with tempfile.TemporaryFile() as errors:
        try:
            child = _run_tar(container_id, argv, null, write_fd, errors.fileno(),
                             stopped=None if running else partial(_pack_here, parent or "/", base or ".", follow_link))
        finally:
            os.close(null)
            if read_fd >= 0:
                os.close(write_fd)
        try:
            if read_fd >= 0:
                _unpack(read_fd, target, base)
        except (tarfile.TarError, OSError) as error:
            if wait_exit(child):  # (an empty stream: tar found nothing)
                _check_missing(errors, path, reference or container_id)
            raise ContainerRuntimeError(f"refusing to copy {path} out of the container: {error}", exit_code=1,
                                        hint="nothing is written through a link that leads out of the copy") from None
        except ComposerError:  # refused at its first entry (``cannot copy directory``): tar is left to end
            wait_exit(child)
            raise
        _check_tar(wait_exit(child), errors, path, reference or container_id)


class HostTarget:
    """A copy's host destination as docker's CLI looks at it: its absolute path, whether it
    exists as a directory (None: absent), whether the path asserts one (``dir/``, ``dir/.``)."""

    __slots__ = ("path", "is_dir", "asserts_dir")

    def __init__(self, path: str, is_dir: bool | None, asserts_dir: bool) -> None:
        self.path, self.is_dir, self.asserts_dir = path, is_dir, asserts_dir


def _host_destination(destination: str) -> HostTarget:
    """The destination of ``cp CONTAINER:PATH DEST``, refused as docker's CLI refuses it (its
    directory missing, a file named with a trailing slash) before the copy starts."""
    absolute = os.path.abspath(destination)
    if not os.path.isdir(os.path.dirname(absolute)):
        raise FlagError(f'invalid output path: directory "{os.path.dirname(absolute)}" does not exist', exit_code=1)
    asserts_dir = destination.endswith(("/", "/.")) or destination == "."
    try:
        info = os.stat(absolute + ("/" if asserts_dir else ""))  # (links followed, as docker's)
    except FileNotFoundError:
        return HostTarget(absolute, None, asserts_dir)
    except NotADirectoryError:
        raise FlagError(f"stat {absolute}{'/' if asserts_dir else ''}: not a directory", exit_code=1) from None
    return HostTarget(absolute, stat.S_ISDIR(info.st_mode), asserts_dir)


def _unpack(read_fd: int, target: HostTarget, base: str) -> None:
    """Extract the tar stream on ``read_fd`` as docker's ``archive.CopyTo``: into an existing
    directory as it is; else renamed to the destination's name in its directory (a directory
    onto a file: ``cannot copy directory``; a file onto an absent ``dir/``: ``no such directory``)."""
    into, rename = (target.path, None) if target.is_dir else (os.path.dirname(target.path),
                                                             os.path.basename(target.path))
    with os.fdopen(read_fd, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            if rename is not None and member.name.rstrip("/") in (base, "."):  # the copied path itself
                if member.isdir() and target.is_dir is False:
                    raise FlagError("cannot copy directory", exit_code=1)
                if not member.isdir() and target.is_dir is None and target.asserts_dir:
                    raise FlagError("no such directory", exit_code=1)
            if rename is not None:
                member.name = rename + member.name[len(base):] if member.name.startswith(base) else member.name
            archive.extract(member, into, filter=_links_as_they_are)


def _archive_owner(container_id: str, running: bool) -> tuple[int, int] | None:
    """``cp -a``'s owner of what arrives: the container's user (dockerd's tarCopyOptions), its
    ids from the running container's /etc/passwd (a stopped one's: a numeric user only); None
    without a user (the stream's ids are kept)."""
    from composer.engine.runtime.containers import running_pid
    from composer.engine.runtime.state import ContainerDir
    from composer.engine.runtime.userdb import resolve_user

    user = ContainerDir(container_id).read_config().get("user") or ""
    if not user or not (running or all(part.isdigit() for part in user.split(":"))):
        return None
    uid, gid, _, _ = resolve_user(user, f"/proc/{running_pid(container_id)}/root" if running else "/nonexistent")
    return uid, gid


def _check_unpacked(code: int, destination: str, reference: str) -> None:
    """The refusals of a copy into the container (``_UNPACK_AT_DESTINATION``'s codes) in docker's
    words: its CLI's (``no such directory``, ``cannot copy directory``), the daemon's for a
    missing parent."""
    if code == NO_PARENT:
        parent = posixpath.dirname(destination.rstrip("/")) or "/"
        raise ContainerRuntimeError(f"Could not find the file {parent} in container {reference}", exit_code=1)
    if code in (NO_SUCH_DIRECTORY, CANNOT_COPY_DIRECTORY):
        raise FlagError("no such directory" if code == NO_SUCH_DIRECTORY else "cannot copy directory", exit_code=1)


def _check_missing(errors, path: str, reference: str) -> str:
    """docker's error for a path the container does not have (tar said so); else tar's words."""
    errors.seek(0)
    said = errors.read(4096).decode(errors="replace").strip()
    if "No such file or directory" in said:
        raise ContainerRuntimeError(f"Could not find the file {path} in container {reference}", exit_code=1)
    return said


def _check_tar(code: int, errors, path: str, reference: str) -> None:
    """tar's failure in the container as docker words it (a missing path), else with tar's words."""
    if code == 0:
        return
    said = _check_missing(errors, path, reference)
    raise ContainerRuntimeError(f"could not copy {path} out of the container: {said or f'tar exited {code}'}",
                                hint="the image needs tar", exit_code=1)


# Run by the container's own sh, so the destination is looked up with the container's root and
# links: an existing directory receives the copy under the source's name; otherwise the copy is
# unpacked next to it and renamed to the destination (a new name, or over an existing file).
# ``kind`` d: the source is a directory. Refusals as docker's archive.CopyTo: exit codes below.
_UNPACK_AT_DESTINATION = r"""
dest=$1 name=$2 kind=$3
if [ -d "$dest" ]; then exec tar -xf - -C "$dest"; fi
bare=${dest%/}; [ -n "$bare" ] || bare=/
case $dest in */) [ "$kind" = d ] || exit 102;; esac
parent=${bare%/*}; [ -n "$parent" ] || parent=/
[ -d "$parent" ] || exit 101
if [ "$kind" = d ] && { [ -e "$bare" ] || [ -L "$bare" ]; }; then exit 103; fi
staging=$(mktemp -d "$parent/.composer-cp.XXXXXX") || exit 1
if tar -xf - -C "$staging" && mv -f "$staging/$name" "$bare"; then rmdir "$staging"; exit 0; fi
rm -rf "$staging"; exit 1
"""
NO_PARENT, NO_SUCH_DIRECTORY, CANNOT_COPY_DIRECTORY = 101, 102, 103


_UNPACK_STDIN = r"""[ -d "$1" ] || exit 100; exec tar -xf - -C "$1" """
NOT_A_DIRECTORY = 100


def copy_to(container_id: str, source: str, path: str, *, archive: bool = False, reference: str = "") -> None:
    """Copy ``source`` into the container (running or stopped): see ``_copy_to``."""
    with _container_side(container_id) as running:
        _copy_to(container_id, source, path, archive=archive, reference=reference, running=running)


def _copy_to(container_id: str, source: str, path: str, *, archive: bool = False, reference: str = "",
             running: bool = True) -> None:
    """Copy the host's ``source`` to ``path`` in the container, as ``docker cp``: into ``path``
    when it is a directory, else as ``path`` itself (its parent must exist). The host's uid/gid
    are kept; ``archive`` (``cp -a``) makes the container's user (if it has one) the owner, as
    dockerd does. ``source`` "-": a tar stream on our stdin, unpacked into the directory
    ``path`` (owners as the stream has them). ``running``: as ``_container_side`` found it."""
    if source == "-":
        argv = ["sh", "-c", _UNPACK_STDIN, "sh", "/" + path.lstrip("/")]
        unpack = None if running else partial(_unpack_into, argv[4])
        code = wait_exit(_run_tar(container_id, argv, 0, 1, stopped=unpack))
        if code == NOT_A_DIRECTORY:
            raise ContainerRuntimeError(f'destination "{reference or container_id}:{path}" must be a directory',
                                        exit_code=1)
        if code:
            raise ContainerRuntimeError(f"could not unpack the archive into {path}", exit_code=1)
        return
    if not os.path.exists(source):
        raise ContainerRuntimeError(f"no such file or directory: {source}", exit_code=1)
    name = os.path.basename(os.path.normpath(source))
    kind = "d" if os.path.isdir(source) else "f"
    owner = _archive_owner(container_id, running) if archive else None
    destination = "/" + path.lstrip("/")
    destination = posixpath.normpath(destination) + ("/" if destination.endswith("/") and destination != "/" else "")
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    child = _run_tar(container_id, ["sh", "-c", _UNPACK_AT_DESTINATION, "sh", destination, name, kind], read_fd, 1,
                     stopped=None if running else partial(_unpack_at, destination, name, kind))
    os.close(read_fd)

    def feed() -> None:
        try:
            with os.fdopen(write_fd, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as stream_tar:
                stream_tar.add(source, arcname=name, filter=None if owner is None else partial(_owned_by, *owner))
        except OSError:
            pass  # tar in the container gave up: its exit code says so

    writer = threading.Thread(target=feed)
    writer.start()
    code = wait_exit(child)
    writer.join()
    _check_unpacked(code, destination, reference or container_id)
    if code != 0:
        raise ContainerRuntimeError(f"could not copy {source} into the container at {path}", exit_code=1,
                                    hint="the destination's parent directory must exist, and the image needs sh "
                                         "and tar")
