"""Mounts of ``type: image``: another image's root filesystem, read-only, at a path in the
container (Docker 28's ``--mount type=image,source=IMAGE,target=/p[,image-subpath=DIR]``,
Compose's ``volumes: [{type: image, source: IMAGE, target: /p, image: {subpath: DIR}}]``).

The mount names the image by id (resolved when the container is created, so that ``image rm``
sees the container using it). At each start the runtime makes the image's view as a detached
mount, never attached on the host: a read-only overlay of its layers (one layer: a bind of its
snapshot; none: an empty tmpfs); the init child moves it onto the target.
"""

from __future__ import annotations

import os

from composer.engine.runtime.config import Mount
from composer.engine.runtime.paths import secure_join
from composer.errors import ImageNotFound, MountError


def image_mount(reference: str, target: str, subpath: str = "") -> Mount:
    """The mount of image ``reference`` at ``target`` (always read-only, as docker's); the image
    must be here (``docker run`` does not pull it; Compose's plan pulls it first)."""
    from composer.engine.runtime.imagecache import resolve_image

    if not reference:
        raise MountError(f"invalid mount config for type \"image\" at {target}: source (the image) is required")
    if subpath.startswith("/") or os.path.normpath(subpath or ".").split("/")[0] == "..":
        raise MountError(f"image subpath {subpath!r} of the mount at {target} must be a relative path within the image",
                         hint="drop the leading / and every ..")
    image = resolve_image(reference)
    return Mount(type="image", target=target, source=image.id, readonly=True, subpath=subpath)


def mounted_images(mounts: list[dict] | tuple) -> list[str]:
    """The ids of the images a container's config.json ``mounts`` mount (``type: image``)."""
    return [mount["source"] for mount in mounts if mount.get("type") == "image" and mount.get("source")]


def open_image_view(mount: Mount, userns_fd: int = -1) -> int:
    """The read-only view of the image of ``mount`` (or of its directory ``subpath``, resolved
    inside the image: a link never leads out of it) as a detached mount; with ``userns_fd``, its
    files owned as the user namespace maps them (idmapped layers). Its fd (close-on-exec)."""
    from composer.engine.runtime.imagecache import resolve_image  # (the store's import costs more than a start)

    image_id, target = mount.source, mount.target
    try:
        layers = [str(path) for path in resolve_image(image_id).layer_dirs]
    except ImageNotFound:
        raise MountError(f"the image {image_id[7:19]} mounted at {target} is gone",
                         hint="pull or load the image again, or recreate the container") from None
    try:
        root = _layers_view(layers, userns_fd)
    except OSError as error:
        raise MountError(f"cannot mount image {image_id[7:19]} at {target}: {error.strerror}") from None
    if not mount.subpath:
        return root
    try:
        return _subtree(root, mount.subpath, image_id, target)
    finally:
        os.close(root)


def _layers_view(layers: list[str], userns_fd: int) -> int:
    """A detached read-only mount of the merged ``layers`` (bottom first), idmapped into
    ``userns_fd`` when given."""
    from composer.engine.runtime import libc  # (not at import: image rm reads mounted_images)

    def lower(path: str) -> int:
        return libc.idmapped_tree(path, userns_fd) if userns_fd >= 0 else libc.clone_tree(path)

    if not layers:
        return libc.detached_tmpfs({"mode": "0755", "size": "4k"}, libc.MOUNT_ATTR_RDONLY)
    if len(layers) == 1:  # overlay wants two lower layers when it has no upper one
        return lower(layers[0])  # (made read-only where it is attached)
    if userns_fd < 0:
        options = [("lowerdir+", layer) for layer in reversed(layers)]  # the top layer first
        return libc.detached_filesystem("overlay", options, libc.MOUNT_ATTR_RDONLY)
    fds: list[int] = []
    try:  # overlayfs itself cannot be idmapped: its layers are
        for layer in reversed(layers):
            fds.append(lower(layer))
        options = [("lowerdir+", f"/proc/self/fd/{fd}") for fd in fds]
        return libc.detached_filesystem("overlay", options, libc.MOUNT_ATTR_RDONLY)
    finally:
        for fd in fds:
            os.close(fd)


def _subtree(root: int, subpath: str, image_id: str, target: str) -> int:
    """A detached copy of the directory ``subpath`` of the detached mount ``root``."""
    from composer.engine.runtime import libc

    path = secure_join(f"/proc/self/fd/{root}", subpath)  # links resolved inside the image
    try:
        pinned = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError as error:
        raise MountError(f"cannot access image-subpath {subpath!r} of image {image_id[7:19]} "
                         f"(mount at {target}): {error.strerror}",
                         hint="the subpath must exist in the image") from None
    try:
        return libc.clone_tree(f"/proc/self/fd/{pinned}", libc.AT_RECURSIVE)
    except OSError as error:
        raise MountError(f"cannot mount image-subpath {subpath!r} at {target}: {error.strerror}") from None
    finally:
        os.close(pinned)
