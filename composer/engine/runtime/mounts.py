"""Parsing docker's mount flags (``-v``, ``--mount``, ``--tmpfs``) into ``Mount`` objects, and the
sources the runtime opens for the children (pinned volume subpaths, detached bind sources).

Parent side only: validates sources and names the culprit; the init child applies them
(see ``rootfs.apply_mount``).
"""

from __future__ import annotations

import os

from composer.engine.runtime import libc
from composer.engine.runtime.config import Mount
from composer.engine.runtime.paths import secure_join
from composer.errors import ContainerRuntimeError, MountError, UsageError
from composer.gobool import GO_BOOLS

PROPAGATIONS = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}


def parse_volume_flag(value: str) -> Mount:
    """``-v`` / ``--volume``: ``/host:/ctr[:opts]``, ``name:/ctr[:opts]`` or ``/ctr``."""
    parts = value.split(":")
    if len(parts) == 1:
        return Mount(type="volume", target=_absolute(parts[0], value))
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise UsageError(f"invalid volume specification: {value!r}", hint="use SOURCE:TARGET[:OPTIONS]")
    source, target = parts[0], _absolute(parts[1], value)
    mount = Mount(type="bind" if source.startswith(("/", ".")) else "volume", source=source, target=target,
                  create_source=True)
    for option in (parts[2].split(",") if len(parts) == 3 else []):
        if option in ("ro", "readonly"):
            mount.readonly = True
        elif option in PROPAGATIONS:
            mount.propagation = option
        elif option == "nocopy":
            mount.volume_nocopy = True
        elif option not in ("rw", "z", "Z", ""):
            raise UsageError(f"invalid volume option {option!r} in {value!r}")
    if mount.type == "bind":
        mount.source = os.path.abspath(source)
    return mount


def parse_mount_flag(value: str) -> Mount:
    """``--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...``."""
    fields: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        fields[key.strip().lower()] = val if sep else "true"
    kind = fields.pop("type", "volume")
    target = fields.pop("target", None) or fields.pop("destination", None) or fields.pop("dst", None)
    if not target:
        raise UsageError(f"invalid --mount {value!r}: target is required")
    source = fields.pop("source", None) or fields.pop("src", None) or ""
    mount = Mount(type=kind, target=_absolute(target, value), source=source)
    for key in ("readonly", "ro"):
        if key in fields:
            mount.readonly = fields.pop(key) in ("true", "1")
    mount.propagation = fields.pop("bind-propagation", "")
    mount.recursive = bind_recursive(fields.pop("bind-recursive", None), value)
    mount.volume_nocopy = fields.pop("volume-nocopy", "false") in ("true", "1")
    mount.subpath = check_subpath(fields.pop("volume-subpath", ""), value)
    image_subpath = check_subpath(fields.pop("image-subpath", ""), value, "image")
    options = [f"size={fields.pop('tmpfs-size')}"] if "tmpfs-size" in fields else []
    if "tmpfs-mode" in fields:
        options.append(f"mode={fields.pop('tmpfs-mode')}")
    mount.options = ",".join(options)
    fields.pop("consistency", None)  # docker ignores it on Linux
    if fields.get("volume-driver") == "local":  # the only driver there is
        del fields["volume-driver"]
    if fields:
        raise UsageError(f"invalid --mount {value!r}: unexpected key {next(iter(fields))!r}",
                         hint="composer knows type, source, target, readonly, bind-propagation, bind-recursive, "
                              "volume-nocopy, volume-subpath, image-subpath, tmpfs-size and tmpfs-mode")
    if kind not in ("bind", "volume", "tmpfs", "image"):
        raise UsageError(f"invalid --mount {value!r}: type must be bind, volume, tmpfs or image")
    if kind == "image":
        from composer.engine.runtime.imagemount import image_mount

        return image_mount(source, mount.target, image_subpath)
    if kind == "bind":
        if not source:
            raise UsageError(f"invalid --mount {value!r}: source is required for a bind mount")
        mount.source = os.path.abspath(source)
        check_recursion(mount, value)
    return mount


def bind_recursive(option: str | None, value: str) -> str:
    """``bind-recursive=enabled|disabled|writable|readonly`` (a boolean: enabled or disabled),
    as the Mount's ``recursive`` ("" for enabled, docker's default)."""
    if option is None:
        return ""
    word = ("enabled" if GO_BOOLS[option] else "disabled") if option in GO_BOOLS else option
    if word not in ("enabled", "disabled", "writable", "readonly"):
        raise UsageError(f"invalid --mount {value!r}: invalid value for bind-recursive: {option}",
                         hint='must be "enabled", "disabled", "writable", or "readonly"')
    return "" if word == "enabled" else word


def check_recursion(mount: Mount, value: str) -> None:
    """docker's rules: bind-recursive=writable and =readonly need readonly, and =readonly
    bind-propagation=rprivate."""
    if mount.recursive in ("writable", "readonly") and not mount.readonly:
        raise UsageError(f"invalid --mount {value!r}: option 'bind-recursive={mount.recursive}' requires "
                         "'readonly' to be specified in conjunction")
    if mount.recursive == "readonly" and mount.propagation != "rprivate":
        raise UsageError(f"invalid --mount {value!r}: option 'bind-recursive=readonly' requires "
                         "'bind-propagation=rprivate' to be specified in conjunction")


def parse_tmpfs_flag(value: str) -> Mount:
    """``--tmpfs /path[:size=...,mode=...]``."""
    target, _, options = value.partition(":")
    return Mount(type="tmpfs", target=_absolute(target, value), options=options)


def check_subpath(subpath: str, value: str, kind: str = "volume") -> str:
    """A volume (image) subpath must stay inside the volume (image): relative, and not climbing
    out with ``..`` (docker's ``filepath.IsLocal`` rule)."""
    if subpath and (subpath.startswith("/") or os.path.normpath(subpath).split("/")[0] == ".."):
        raise UsageError(f"invalid --mount {value!r}: subpath must be a relative path within the {kind}",
                         hint=f"drop the leading / and every .. from {kind}-subpath")
    return subpath


def pin_subpath(volume_dir: str, subpath: str, userns_fd: int = -1) -> int:
    """``subpath`` of the volume at ``volume_dir`` as a detached mount (an fd for ``move_mount``;
    idmapped into ``userns_fd`` when given). Symlinks resolve inside the volume, and the directory
    is opened first and checked to be in it: another container sharing the volume cannot swap a
    link to the host in before the mount."""
    try:
        pinned = os.open(secure_join(volume_dir, subpath), os.O_PATH | os.O_CLOEXEC)
    except OSError as error:
        raise MountError(f"cannot access volume subpath {subpath!r}: {error.strerror}",
                         hint="the subpath must exist in the volume before it is mounted") from None
    try:
        where, volume = os.readlink(f"/proc/self/fd/{pinned}"), os.path.realpath(volume_dir)  # links followed
        if where != volume and not where.startswith(volume + "/"):
            raise MountError(f"volume subpath {subpath!r} leads out of the volume ({where})")
        source = f"/proc/self/fd/{pinned}"
        return libc.idmapped_tree(source, userns_fd) if userns_fd >= 0 else libc.clone_tree(source, libc.AT_RECURSIVE)
    except OSError as error:
        raise MountError(f"cannot mount volume subpath {subpath!r}: {error.strerror}") from None
    finally:
        os.close(pinned)


def _absolute(target: str, value: str) -> str:
    if not target.startswith("/"):
        raise UsageError(f"invalid mount target {target!r} in {value!r}: it must be an absolute path")
    return os.path.normpath(target)


def check_bind_source(mount: Mount) -> None:
    """A missing bind source is created for ``-v`` and an error for ``--mount`` (as docker)."""
    if os.path.exists(mount.source):
        return
    if not mount.create_source:
        raise MountError(f"invalid mount config for type \"bind\": bind source path does not exist: {mount.source}",
                         hint="create the directory or use -v, which creates it")
    try:
        os.makedirs(mount.source, exist_ok=True)
    except OSError as error:
        raise MountError(f"cannot create bind source {mount.source}: {error.strerror}") from error


def _image_view(mount: Mount, userns_fd: int) -> int:
    from composer.engine.runtime.imagemount import open_image_view

    return open_image_view(mount, userns_fd)


def pin_subpaths(mounts: list[Mount]) -> list[int]:
    """The detached mounts of volume subpaths (``pin_subpath``) and of image mounts (their
    read-only views), -1 for every other mount."""
    fds: list[int] = []
    try:
        for mount in mounts:
            if mount.type == "image":
                fds.append(_image_view(mount, -1))
            else:
                fds.append(pin_subpath(mount.source, mount.subpath) if mount.subpath else -1)
    except BaseException:
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        raise
    return fds


def detach_bind_sources(mounts: list[Mount], userns_fd: int) -> list[int]:
    """A detached copy (recursive, as ``-v`` binds, unless bind-recursive=disabled) of each bind and
    volume source, made by us on the host: the mapped root of ``--userns private`` could not pass
    directories like a 0700 home to reach it (runc opens such sources in the parent too). Volumes are idmapped into ``userns_fd``:
    their files keep host ids 0-65535 whatever block the container maps, so every container (with
    or without a user namespace) shares them as root. -1 for the other mounts."""
    fds: list[int] = []
    try:
        for mount in mounts:
            if mount.type == "image":
                fds.append(_image_view(mount, userns_fd))
            elif mount.subpath:
                fds.append(pin_subpath(mount.source, mount.subpath, userns_fd))
            elif mount.type == "volume":
                fds.append(libc.idmapped_tree(mount.source, userns_fd))
            else:
                recursive = 0 if mount.recursive == "disabled" else libc.AT_RECURSIVE
                fds.append(libc.clone_tree(mount.source, recursive) if mount.type == "bind" else -1)
    except BaseException as error:
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        if isinstance(error, OSError):
            raise ContainerRuntimeError(f"cannot bind {error.filename}: {error.strerror}") from None
        raise
    return fds
