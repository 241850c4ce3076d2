"""Files into a running container in one tar stream, unpacked by ``tar`` inside the container.

The container side is written only by a process inside the container (its root, its mounts, its
permissions), so no path or symlink in the container can lead the copy to a host file. Parent
directories that do not exist yet are created by tar.
"""

from __future__ import annotations

import os
import tarfile
import threading
from functools import partial
from typing import Mapping

from composer.engine.runtime.copy import _owned_by, _run_tar  # container cp's exec and ownership
from composer.engine.runtime.execute import wait_exit
from composer.errors import ContainerRuntimeError


def send_files(container_id: str, files: Mapping[str, str]) -> None:
    """Copy ``{container path: host path}`` into the running container (one ``tar -x`` exec, as
    root, the files owned by root: ``container cp``'s way)."""
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        child = _run_tar(container_id, ["tar", "-x", "-f", "-", "-C", "/"], read_fd, 1)
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
    """Stream the files (regular files and symlinks, not followed) into ``fd``, owned by root."""
    owned_by_root = partial(_owned_by, 0, 0)
    try:
        with os.fdopen(fd, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as archive:
            for container_path, host_path in sorted(files.items()):
                try:
                    archive.add(host_path, arcname=container_path.lstrip("/"), recursive=False, filter=owned_by_root)
                except FileNotFoundError:
                    continue  # gone since the event: the next batch deletes it
    except OSError:
        pass  # tar in the container gave up: its exit code says so

