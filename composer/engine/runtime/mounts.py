"""Parsing docker's mount flags (``-v``, ``--mount``, ``--tmpfs``) into ``Mount`` objects.

Parent side only: validates sources and names the culprit; the init child applies them
(see ``rootfs.apply_mount``).
"""

from __future__ import annotations

import os

from composer.engine.runtime.config import Mount
from composer.errors import MountError, UsageError

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
    mount.volume_nocopy = fields.pop("volume-nocopy", "false") in ("true", "1")
    options = [f"size={fields.pop('tmpfs-size')}"] if "tmpfs-size" in fields else []
    if "tmpfs-mode" in fields:
        options.append(f"mode={fields.pop('tmpfs-mode')}")
    mount.options = ",".join(options)
    if kind not in ("bind", "volume", "tmpfs"):
        raise UsageError(f"invalid --mount {value!r}: type must be bind, volume or tmpfs")
    if kind == "bind":
        if not source:
            raise UsageError(f"invalid --mount {value!r}: source is required for a bind mount")
        mount.source = os.path.abspath(source)
    return mount


def parse_tmpfs_flag(value: str) -> Mount:
    """``--tmpfs /path[:size=...,mode=...]``."""
    target, _, options = value.partition(":")
    return Mount(type="tmpfs", target=_absolute(target, value), options=options)


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
