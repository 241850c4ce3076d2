"""Named volumes: directories under ``state_root()/volumes/<name>/_data`` plus a small JSON file.

A volume is created on first use (or by ``volume create``) and pre-populated from the image's
content at its mount point the first time a container mounts it, as docker does. A volume with
the local driver's mount options (``type``, ``o``, ``device``) has that filesystem mounted on its
``_data`` while containers use it (``composer.engine.localvolumes``).
"""

from __future__ import annotations

import json
import os

from composer.engine.object_events import prune_event, volume_event
from composer.errors import VolumeError
from composer.settings import state_root_dir


def needs_mount(options: dict | None) -> bool:
    """Whether a local volume with these driver options is a mount (a ``type`` or a ``device``)."""
    return bool(options) and bool(options.get("type") or options.get("device"))


def check_volume_options(name: str, options: dict) -> None:
    """VolumeError as dockerd's local driver words it (``create NAME: invalid option: "x"``)."""
    from composer.engine.localvolumes import check_options

    try:
        check_options(options)
    except VolumeError as error:
        error.message = f"create {name}: {error.message}"
        error.args = (error.message,)
        raise


VALID_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def copy_tree(source: str, destination: str) -> None:
    """Copy ``source``'s content into ``destination`` keeping modes, owners and symlinks."""
    import shutil  # (not on every command's path: it imports bz2 and lzma)

    for entry in os.scandir(source):
        target = os.path.join(destination, entry.name)
        info = entry.stat(follow_symlinks=False)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir(follow_symlinks=False):
            os.mkdir(target, info.st_mode & 0o7777)
            copy_tree(entry.path, target)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, target, follow_symlinks=False)
        else:
            continue  # devices, sockets and fifos are not copied
        os.lchown(target, info.st_uid, info.st_gid)
        if not entry.is_symlink():
            os.chmod(target, info.st_mode & 0o7777)
    info = os.stat(source)
    os.chown(destination, info.st_uid, info.st_gid)
    os.chmod(destination, info.st_mode & 0o7777)


class VolumeStore:
    """The named volumes of one state root."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root or os.path.join(state_root_dir(), "volumes")

    def _dir(self, name: str) -> str:
        if not name or name[0] in ".-" or not set(name) <= VALID_NAME_CHARS:
            raise VolumeError(f"invalid volume name {name!r}",
                              hint="use letters, digits, '_', '.' and '-', starting with a letter or digit")
        return os.path.join(self.root, name)

    def data_path(self, name: str) -> str:
        """The directory bind-mounted into containers."""
        return os.path.join(self._dir(name), "_data")

    def exists(self, name: str) -> bool:
        """True if the volume exists."""
        return os.path.isdir(self.data_path(name))

    def create(self, name: str, labels: dict[str, str] | None = None, driver: str = "local",
               options: dict[str, str] | None = None) -> dict:
        """Create ``name`` (idempotent, like docker) and return its inspect dict."""
        return self._shown(self.ensure(name, labels, driver, options))

    def ensure(self, name: str, labels: dict[str, str] | None = None, driver: str = "local",
               options: dict[str, str] | None = None) -> dict:
        """``name``'s record (its volume.json), the volume created first when missing."""
        if driver != "local":
            raise VolumeError(  # dockerd's words: composer has no volume plugins, only the local driver
                f'create {name}: error looking up volume plugin {driver}: plugin "{driver}" not found')
        directory = self._dir(name)
        if self.exists(name):
            return self._meta(name)
        if options:
            check_volume_options(name, options)
        os.makedirs(os.path.join(directory, "_data"), 0o755)
        from composer.engine.runtime.state import now_iso, write_json_atomic

        meta = {"Name": name, "Driver": driver, "Labels": labels or {}, "Options": options or {},
                "Scope": "local", "CreatedAt": now_iso(), "Populated": False}
        write_json_atomic(os.path.join(directory, "volume.json"), meta)
        volume_event("create", name)
        return meta

    def attach(self, name: str, container_id: str, options: dict[str, str] | None = None) -> str:
        """The directory a starting container binds; a volume with mount options (``type``,
        ``device``) is mounted there for its first user (``options``: its ``Options`` as the
        caller has just read them, else read here)."""
        data = self.data_path(name)
        if options is None:
            options = self._meta(name).get("Options")
        if needs_mount(options):
            from composer.engine.localvolumes import attach_user

            attach_user(self._dir(name), data, options, container_id)
        return data

    def detach(self, name: str, container_id: str) -> None:
        """A container that used ``name`` stopped: the last user of a mounted volume unmounts it."""
        try:
            options = self._meta(name).get("Options")
        except VolumeError:
            return  # removed meanwhile
        if needs_mount(options):
            from composer.engine.localvolumes import detach_user

            detach_user(self._dir(name), self.data_path(name), container_id)

    def _meta(self, name: str) -> dict:
        try:
            with open(os.path.join(self._dir(name), "volume.json")) as handle:
                return json.load(handle)
        except FileNotFoundError:
            raise VolumeError(f"no such volume: {name}") from None

    def create_anonymous(self) -> str:
        """A new anonymous volume (a random 64-hex name, docker's label); its name."""
        name = os.urandom(32).hex()
        self.create(name, labels={"com.docker.volume.anonymous": ""})
        return name

    def inspect(self, name: str) -> dict:
        """docker's ``volume inspect`` shape."""
        return self._shown(self._meta(name))

    def _shown(self, meta: dict) -> dict:
        """A volume's record in ``inspect``'s shape (its Mountpoint, not composer's Populated)."""
        shown = {key: value for key, value in meta.items() if key != "Populated"}
        shown["Mountpoint"] = self.data_path(meta["Name"])
        return shown

    def claim_population(self, name: str, meta: dict | None = None) -> bool:
        """True once per volume: the first mount copies the image's content into it (``meta``:
        its record as the caller has just read it, else read here)."""
        from composer.engine.runtime.state import write_json_atomic

        meta = meta if meta is not None else self._meta(name)
        if meta.get("Populated") or os.listdir(self.data_path(name)):
            return False
        write_json_atomic(os.path.join(self._dir(name), "volume.json"), {**meta, "Populated": True})
        return True

    def list(self) -> list[dict]:
        """All volumes, by name."""
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        return [self.inspect(n) for n in names if os.path.exists(os.path.join(self.root, n, "volume.json"))]

    def remove(self, name: str, in_use: set[str] | None = None) -> None:
        """Delete a volume (refused while a container uses it)."""
        if name in (in_use or set()):
            raise VolumeError(f"remove {name}: volume is in use")
        self._delete(self.inspect(name))

    def _delete(self, meta: dict) -> None:
        """Remove the volume's directory; a mounted one is unmounted first (a bound host
        directory's content is never deleted with it)."""
        if needs_mount(meta.get("Options")):
            from composer.engine.localvolumes import unmount_volume

            unmount_volume(meta["Mountpoint"])
        from shutil import rmtree

        rmtree(self._dir(meta["Name"]))
        volume_event("destroy", meta["Name"])

    def prune(self, in_use: set[str], all_volumes: bool = False) -> list[str]:
        """Remove unused volumes (anonymous ones only unless ``all_volumes``); returns the names."""
        removed = []
        for meta in self.list():
            anonymous = "com.docker.volume.anonymous" in meta.get("Labels", {})
            if meta["Name"] not in in_use and (all_volumes or anonymous):
                self._delete(meta)
                removed.append(meta["Name"])
        prune_event("volume", 0)
        return removed
