"""``container cp`` for running containers: a tar stream through ``exec`` (the image needs ``tar``;
copying in also ``sh``).

The container side is read and written only by a process inside the container (its own root,
mounts and permissions), so a symlink in the container can never lead to a host path; the host
side unpacks with tarfile's ``data`` filter (no absolute paths, no ``..``, no device files).
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import threading

from composer.engine.runtime.execute import ExecRequest, spawn, wait_exit
from composer.errors import ContainerRuntimeError


def _run_tar(container_id: str, argv: list[str], stdin_fd: int, stdout_fd: int) -> int:
    from composer.engine.runtime.containers import running_pid

    pid = running_pid(container_id)
    # as root, whatever the image's USER: docker's cp is not limited by the container's user
    return spawn(container_id, pid, ExecRequest(argv=argv, user="0:0"), (stdin_fd, stdout_fd, 2))


def _owned_by_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """docker cp without ``-a``: what arrives in the container belongs to root."""
    member.uid = member.gid = 0
    member.uname = member.gname = "root"
    return member


def copy_from(container_id: str, path: str, destination: str) -> None:
    """Copy ``path`` (file or directory) out of the container into ``destination`` on the host."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    parent, base = posixpath.split(path)
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    child = _run_tar(container_id, ["tar", "-cf", "-", "-C", parent or "/", base or "."], null, write_fd)
    os.close(write_fd)
    os.close(null)
    target_dir, rename = destination, None
    if not os.path.isdir(destination):
        target_dir, rename = os.path.dirname(os.path.abspath(destination)), os.path.basename(destination)
    try:
        with os.fdopen(read_fd, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if rename:
                    member.name = rename + member.name[len(base):] if member.name.startswith(base) else member.name
                archive.extract(member, target_dir, filter="data")
    except (tarfile.TarError, OSError) as error:
        os.kill(child, 9)
        wait_exit(child)
        raise ContainerRuntimeError(f"refusing to copy {path} out of the container: {error}",
                                    hint="links that point outside the copied tree are not copied", exit_code=1) from None
    if wait_exit(child) != 0:
        raise ContainerRuntimeError(f"could not copy {path} out of the container",
                                    hint="the path must exist and the image needs tar", exit_code=1)


# Run by the container's own sh, so the destination is looked up with the container's root and
# links: an existing directory receives the copy under the source's name; otherwise the copy is
# unpacked next to it and renamed to the destination (a new name, or over an existing file).
_UNPACK_AT_DESTINATION = r"""
dest=$1 name=$2
if [ -d "$dest" ]; then exec tar -xf - -C "$dest"; fi
case $dest in */) echo "no such directory: $dest" >&2; exit 1;; esac
parent=${dest%/*}; [ -n "$parent" ] || parent=/
[ -d "$parent" ] || { echo "no such directory: $parent" >&2; exit 1; }
staging=$(mktemp -d "$parent/.composer-cp.XXXXXX") || exit 1
if tar -xf - -C "$staging" && mv -f "$staging/$name" "$dest"; then rmdir "$staging"; exit 0; fi
rm -rf "$staging"; exit 1
"""


def copy_to(container_id: str, source: str, path: str, *, archive: bool = False) -> None:
    """Copy the host's ``source`` to ``path`` in the container, as ``docker cp``: into ``path``
    when it is a directory, else as ``path`` itself (its parent must exist). Owned by root
    unless ``archive``, which keeps the host's uid/gid (``cp -a``)."""
    if not os.path.exists(source):
        raise ContainerRuntimeError(f"no such file or directory: {source}", exit_code=1)
    name = os.path.basename(os.path.normpath(source))
    destination = "/" + path.lstrip("/")
    destination = posixpath.normpath(destination) + ("/" if destination.endswith("/") and destination != "/" else "")
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    child = _run_tar(container_id, ["sh", "-c", _UNPACK_AT_DESTINATION, "sh", destination, name], read_fd, 1)
    os.close(read_fd)

    def feed() -> None:
        try:
            with os.fdopen(write_fd, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as stream_tar:
                stream_tar.add(source, arcname=name, filter=None if archive else _owned_by_root)
        except OSError:
            pass  # tar in the container gave up: its exit code says so

    writer = threading.Thread(target=feed)
    writer.start()
    code = wait_exit(child)
    writer.join()
    if code != 0:
        raise ContainerRuntimeError(f"could not copy {source} into the container at {path}",
                                    hint="the destination's parent directory must exist, and the image needs sh and tar",
                                    exit_code=1)
