"""Files into a running container in one tar stream, unpacked by ``tar`` inside the container.

The container side is written only by a process inside the container (its root, its mounts, its
permissions), so no path or symlink in the container can lead the copy to a host file. Parent
directories that do not exist yet are created by tar.
"""

from __future__ import annotations

import os
import tarfile
import threading
from typing import Mapping

from composer.errors import ContainerRuntimeError


def send_files(container_id: str, files: Mapping[str, str]) -> None:
    """Copy ``{container path: host path}`` into the running container (one ``tar -x`` exec)."""
    from composer.engine.runtime.containers import running_pid
    from composer.engine.runtime.execute import ExecRequest, spawn, wait_exit

    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        request = ExecRequest(argv=["tar", "-x", "-f", "-", "-C", "/"], user="0:0")  # as docker cp: root
        child = spawn(container_id, running_pid(container_id), request, (read_fd, 1, 2))
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    writer = threading.Thread(target=_write_archive, args=(write_fd, files), daemon=True)
    writer.start()
    code = wait_exit(child)
    writer.join()
    if code != 0:
        raise ContainerRuntimeError(f"tar in container {container_id[:12]} exited with {code}",
                                    hint="the image needs tar; the target directories must be writable by root")


def _write_archive(fd: int, files: Mapping[str, str]) -> None:
    """Stream the files (regular files and symlinks, not followed) into ``fd``."""
    try:
        with os.fdopen(fd, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as archive:
            for container_path, host_path in sorted(files.items()):
                try:
                    archive.add(host_path, arcname=container_path.lstrip("/"), recursive=False, filter=_as_root)
                except FileNotFoundError:
                    continue  # gone since the event: the next batch deletes it
    except OSError:
        pass  # tar in the container gave up: its exit code says so


def _as_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root in the container, as ``docker cp`` creates files (the host's uid means nothing there)."""
    member.uid = member.gid = 0
    member.uname = member.gname = "root"
    return member
