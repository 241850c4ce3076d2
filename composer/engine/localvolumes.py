"""The local volume driver's options, as moby's ``volume/local`` driver takes them.

``docker volume create -o type=T -o o=OPTS -o device=DEV`` (Compose: a volume's ``driver_opts``)
makes a volume that is ``mount -t T -o OPTS DEV`` on its ``_data`` directory: ``type: none, o:
bind, device: /srv/data`` binds a host directory, ``type: tmpfs, device: tmpfs, o: size=10m``
mounts a tmpfs, ``type: nfs, o: addr=10.0.0.1, device: :/export`` an NFS export. The mount is made
in the host's mount namespace when the first container using the volume starts and undone when the
last one stops, or by ``volume rm``. Each user is a marker file ``users/<container id>`` in the
volume's directory, changed under an flock of that directory, so concurrent starts and stops of
containers sharing a volume (each in its own supervisor process) agree on who mounts and who
unmounts.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

from composer.engine.runtime import libc
from composer.engine.runtime.mountinfo import is_mount_point
from composer.errors import ContainerRuntimeError, VolumeError

VALID_OPTIONS = ("type", "o", "device", "size")
REQUIRED_WITH = {"device": ("type",), "type": ("device",), "o": ("device", "type")}

_MS_SYNCHRONOUS, _MS_MANDLOCK, _MS_DIRSYNC, _MS_NOATIME, _MS_NODIRATIME = 16, 64, 128, 1024, 2048
_MS_RELATIME, _MS_STRICTATIME, _MS_SILENT = 1 << 21, 1 << 24, 1 << 15
_BIND_REC, _PRIVATE_REC = libc.MS_BIND | libc.MS_REC, libc.MS_PRIVATE | libc.MS_REC
_SLAVE_REC, _SHARED_REC = libc.MS_SLAVE | libc.MS_REC, libc.MS_SHARED | libc.MS_REC

# mount(8)'s option words that are mount(2) flags: (clears the flag, flag); any other word is data
# for the filesystem (moby/sys/mount's table: "defaults" has no flag, so it goes to the data)
FLAG_WORDS: dict[str, tuple[bool, int]] = {
    "ro": (False, libc.MS_RDONLY), "rw": (True, libc.MS_RDONLY),
    "nosuid": (False, libc.MS_NOSUID), "suid": (True, libc.MS_NOSUID),
    "nodev": (False, libc.MS_NODEV), "dev": (True, libc.MS_NODEV),
    "noexec": (False, libc.MS_NOEXEC), "exec": (True, libc.MS_NOEXEC),
    "sync": (False, _MS_SYNCHRONOUS), "async": (True, _MS_SYNCHRONOUS), "dirsync": (False, _MS_DIRSYNC),
    "remount": (False, libc.MS_REMOUNT), "mand": (False, _MS_MANDLOCK), "nomand": (True, _MS_MANDLOCK),
    "noatime": (False, _MS_NOATIME), "atime": (True, _MS_NOATIME),
    "nodiratime": (False, _MS_NODIRATIME), "diratime": (True, _MS_NODIRATIME),
    "bind": (False, libc.MS_BIND), "rbind": (False, _BIND_REC),
    "unbindable": (False, libc.MS_UNBINDABLE), "runbindable": (False, libc.MS_UNBINDABLE | libc.MS_REC),
    "private": (False, libc.MS_PRIVATE), "rprivate": (False, _PRIVATE_REC),
    "shared": (False, libc.MS_SHARED), "rshared": (False, _SHARED_REC),
    "slave": (False, libc.MS_SLAVE), "rslave": (False, _SLAVE_REC),
    "relatime": (False, _MS_RELATIME), "norelatime": (True, _MS_RELATIME),
    "strictatime": (False, _MS_STRICTATIME), "nostrictatime": (True, _MS_STRICTATIME),
}
_PROPAGATION = libc.MS_SHARED | libc.MS_PRIVATE | libc.MS_SLAVE | libc.MS_UNBINDABLE
_SIZE = re.compile(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?")


def check_options(options: Mapping[str, str]) -> None:
    """VolumeError (docker's words, without its ``create NAME: `` prefix) for options the local
    driver refuses: an unknown key, a CIFS device with a port, a size (composer has no quotas), a
    key without the ones it needs (``device`` and ``type`` go together, ``o`` needs both)."""
    for key in options:
        if key not in VALID_OPTIONS:
            raise VolumeError(f'invalid option: "{key}"')
    if options.get("type") == "cifs" and options.get("device"):
        from urllib.parse import urlsplit

        try:
            port = urlsplit(options["device"]).port
        except ValueError as error:
            raise VolumeError(f"error parsing mount device url: {error}") from None
        if port is not None:
            raise VolumeError("port not allowed in CIFS device URL, include 'port' in 'o='")
    if "size" in options and ram_in_bytes(options["size"]) > 0:
        raise VolumeError("quota size requested but no quota support")
    for key, needed in REQUIRED_WITH.items():
        for other in needed if key in options else ():
            if other not in options:
                raise VolumeError(f'missing required option: "{other}"')


def ram_in_bytes(text: str) -> int:
    """go-units' RAMInBytes: ``512m``, ``1.5GiB``, ``100`` (binary multiples); VolumeError else."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise VolumeError(f"invalid size: '{text}'")
    unit = (match.group(2) or "").lower()
    return int(float(match.group(1)) * 1024 ** (" kmgtp".index(unit) if unit else 0))


def parse_mount_options(words: str) -> tuple[int, str]:
    """``o``'s comma-separated words as mount(2) flags and the filesystem's data string."""
    flags, data = 0, []
    for word in words.split(","):
        clears, flag = FLAG_WORDS.get(word, (False, 0))
        if not flag:
            data.append(word)
        elif clears:
            flags &= ~flag
        else:
            flags |= flag
    return flags, ",".join(data)


def _mount_error(operation: str, source: str, target: str, flags: int, data: str, error: OSError) -> str:
    """moby/sys/mount's error text: ``mount SRC:TARGET, flags: 0x1000, data: x: no such device``."""
    text = f"{operation} {source + ':' if source else ''}{target}"
    text += f", flags: 0x{flags:x}" if flags else ""
    text += f", data: {data}" if data else ""
    reason = os.strerror(error.errno) if error.errno else str(error)
    return f"{text}: {reason[:1].lower()}{reason[1:]}"


def mount_volume(options: Mapping[str, str], target: str) -> None:
    """``mount -t TYPE -o O DEVICE target`` as docker's local driver does it (the propagation
    words applied by a second call, a read-only bind remounted read-only); ContainerRuntimeError
    with docker's words (exit 127 for a missing path, as ``docker run`` says, else 125)."""
    device, fstype, words = options.get("device", ""), options.get("type", ""), options.get("o", "")
    where = f"error while mounting volume '{target}': "
    if not device:
        raise ContainerRuntimeError(where + "missing device in volume options", exit_code=125)
    words = _resolved_address(fstype, words, where)
    flags, data = parse_mount_options(words)
    plain = flags & ~_PROPAGATION
    # a relative device is looked up from dockerd's directory, /, never from the caller's
    path = device if device.startswith("/") or not flags & libc.MS_BIND else os.path.join("/", device)
    steps = []
    if not (flags & libc.MS_REMOUNT or device in ("", "none")) or data:
        steps.append(("mount", device, path, fstype, plain, data))
    if flags & _PROPAGATION:
        steps.append(("remount", "", "", "", flags & (_PROPAGATION | libc.MS_REC | _MS_SILENT), ""))
    if plain & (libc.MS_BIND | libc.MS_RDONLY) == libc.MS_BIND | libc.MS_RDONLY:
        steps.append(("remount-ro", "", "", "", plain | libc.MS_REMOUNT, ""))
    for operation, shown, source, kind, step_flags, step_data in steps:
        try:
            libc.mount(source or None, target, kind or None, step_flags, step_data or None)
        except OSError as error:
            if operation != "mount":
                unmount_volume(target)
            message = _mount_error(operation, shown, target, step_flags, step_data, error)
            password = re.search(r"(?:^|,)password=([^,]*)", words)
            if password and password.group(1):
                message = message.replace("password=" + password.group(1), "password=********", 1)
            raise ContainerRuntimeError(where + "failed to mount local volume: " + message,
                                        hint=_mount_hint(options, error),
                                        exit_code=127 if error.errno == 2 else 125) from None


def _resolved_address(fstype: str, words: str, where: str) -> str:
    """NFS and CIFS: ``addr=NAME`` in ``o`` becomes ``addr=IP`` (the kernel takes addresses only)."""
    if fstype not in ("nfs", "cifs"):
        return words
    found = re.search(r"(?:^|,)addr=([^,]*)", words)
    name = found.group(1) if found else ""
    if not name or re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name):
        return words  # none, or already an IPv4 address (docker resolves anything else, IPv6 too)
    import socket

    try:
        address = socket.getaddrinfo(name, None)[0][4][0]
    except OSError as error:
        raise ContainerRuntimeError(where + f"error resolving passed in network volume address: lookup {name}: "
                                    f"{error.strerror or error}", exit_code=125) from None
    return words.replace("addr=" + name, "addr=" + address, 1)


def _mount_hint(options: Mapping[str, str], error: OSError) -> str:
    """What to check when the mount failed."""
    if error.errno == 2 and not options.get("device", "").startswith("/"):
        return "give device as an absolute path (docker does not resolve it against the compose file)"
    if error.errno == 19:  # ENODEV
        return f"the kernel has no filesystem {options.get('type')!r}, or o has words it does not know"
    return "check the volume's type, o and device (composer volume inspect shows them)"


def unmount_volume(target: str) -> None:
    """Detach whatever is mounted on ``target`` (nothing mounted: nothing to do)."""
    try:
        libc.umount(target, libc.MNT_DETACH)
    except OSError as error:
        if error.errno != 22 and is_mount_point(target):  # EINVAL: not a mount point
            raise VolumeError(_mount_error("umount", "", target, libc.MNT_DETACH, "", error)) from None


def attach_user(volume_dir: str, data_path: str, options: Mapping[str, str], container_id: str) -> None:
    """Record ``container_id`` as a user of the volume; its first user mounts it."""
    from composer.engine.runtime.state import StateLock

    users = os.path.join(volume_dir, "users")
    with StateLock(volume_dir, directory=True):
        os.makedirs(users, exist_ok=True)
        if not is_mount_point(data_path):
            mount_volume(options, data_path)
        with open(os.path.join(users, container_id), "w"):
            pass


def detach_user(volume_dir: str, data_path: str, container_id: str) -> None:
    """Forget ``container_id`` as a user; the last one (users whose container is gone do not
    count) unmounts the volume."""
    from composer.engine.runtime.state import StateLock, containers_root

    users = os.path.join(volume_dir, "users")
    try:
        lock = StateLock(volume_dir, directory=True).__enter__()
    except FileNotFoundError:
        return  # the volume is gone (``volume rm`` unmounted it)
    try:
        try:
            os.unlink(os.path.join(users, container_id))
        except FileNotFoundError:
            pass
        left = [user for user in _listdir(users) if os.path.isdir(os.path.join(containers_root(), user))]
        if not left:
            unmount_volume(data_path)
    finally:
        lock.__exit__()


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []
