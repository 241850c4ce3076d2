"""``docker commit``: a container's writable layer as a new image on top of its image.

The overlay upper directory is read from outside the container, with every path opened from its
parent's directory descriptor with ``O_NOFOLLOW`` (a symlink is stored as a link, never followed;
a file is opened ``O_PATH`` and reopened only once ``fstat`` says it is a regular file), so a
container that swaps names while it is committed cannot make composer read a host file. Whiteouts
(0/0 character devices) become ``.wh.NAME`` entries and opaque directories ``.wh..wh..opq``, as
docker's overlay2 driver writes them. The layer is then unpacked into a snapshot by the store's
own safe extractor, and the image config gets docker's history entry and ``--change``s.
"""

from __future__ import annotations

import copy
import os
import stat
import tarfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Sequence

from composer.errors import ImageError

#: The Dockerfile instructions ``--change`` takes (moby's validCommitCommands; STOPSIGNAL since after 20.10).
VALID_CHANGES = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
                 "VOLUME", "WORKDIR")
#: Files the runtime bind-mounts over the container's (docker keeps them out of the layer too).
RUNTIME_FILES = frozenset({"etc/hostname", "etc/hosts", "etc/resolv.conf"})
#: Trees the runtime mounts (proc, sysfs, the /dev tmpfs): only their mount points reach the upper dir.
RUNTIME_TREES = frozenset({"dev", "proc", "sys"})
KEPT_XATTRS = ("security.capability",)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class CommitRequest:
    """What ``commit`` makes: ``reference`` (or an untagged image), docker's author and message."""

    reference: str | None = None
    author: str = ""
    comment: str = ""
    changes: Sequence[str] = ()
    pause: bool = True


# --- the layer -------------------------------------------------------------------------------------
class LayerWriter:
    """Writes the entries of an overlay upper directory into a tar stream (OCI whiteouts)."""

    def __init__(self, tar: tarfile.TarFile, layer: bool = True) -> None:
        self.tar, self.layer = tar, layer  # layer: whiteout entries, runtime files left out, recursion
        self.shift = (0, 0)  # host ids of the container's root (--userns private): subtracted
        self.count = 0
        self.links: dict[tuple[int, int], str] = {}

    def write_tree(self, upper: str) -> int:
        """Every entry below ``upper`` (not ``upper`` itself); how many entries were written."""
        try:
            fd = os.open(upper, _DIR)
        except OSError as error:
            raise ImageError(f"cannot read the container's writable layer {upper}: {error.strerror}") from None
        try:
            self._directory(fd, "")
        except RecursionError:  # (one open directory and a Python frame a level)
            raise ImageError("the container's filesystem is nested too deep to commit",
                             hint="flatten the deepest directories first") from None
        finally:
            os.close(fd)
        return self.count

    def _directory(self, fd: int, prefix: str) -> None:
        for name in sorted(os.listdir(fd)):
            path = prefix + name
            if path not in RUNTIME_FILES and (prefix or name not in RUNTIME_TREES):
                self.entry(fd, name, path)

    def entry(self, fd: int, name: str, path: str) -> None:
        """The entry ``name`` of the directory ``fd`` as ``path`` in the archive (never followed)."""
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed meanwhile (an unpaused container)
        if stat.S_ISDIR(info.st_mode):
            self._subdirectory(fd, name, path)
        elif stat.S_ISCHR(info.st_mode) and info.st_rdev == 0 and self.layer:
            self._add(self._header(os.path.join(os.path.dirname(path), ".wh." + name), info, tarfile.REGTYPE, 0o600))
        elif stat.S_ISREG(info.st_mode):
            self._file(fd, name, path)
        elif stat.S_ISLNK(info.st_mode):
            header = self._header(path, info, tarfile.SYMTYPE)
            header.linkname = os.readlink(name, dir_fd=fd)
            self._add(header)
        elif not stat.S_ISSOCK(info.st_mode):  # devices and fifos (sockets: docker skips them too)
            self._add(self._special(path, info))

    def add_beneath(self, root: str, path: str) -> None:
        """The entry ``path`` (relative) of the directory tree ``root``, each of its parents opened
        with ``O_NOFOLLOW``: a parent swapped for a link leaves the entry out."""
        parts = path.split("/")
        fds = [os.open(root, _DIR)]
        try:
            for part in parts[:-1]:
                try:
                    fds.append(os.open(part, _DIR, dir_fd=fds[-1]))
                except OSError:  # ELOOP, ENOTDIR: a link now; ENOENT: gone
                    return
            self.entry(fds[-1], parts[-1], path)
        finally:
            for fd in fds:
                os.close(fd)

    def _subdirectory(self, parent: int, name: str, path: str) -> None:
        try:
            fd = os.open(name, _DIR, dir_fd=parent)
        except OSError:
            return  # replaced by something else meanwhile: never followed
        try:
            if self.layer and path == "etc" and not self._etc_changed(fd):
                return
            info = os.fstat(fd)
            self._add(self._header(path, info, tarfile.DIRTYPE))
            if not self.layer:
                return
            if _xattr(fd, "trusted.overlay.redirect") is not None:
                raise ImageError(f"/{path} was renamed in the container (an overlay redirect): composer cannot "
                                 "commit it", hint="the host mounts overlayfs with redirect_dir=on; turn it off")
            if _xattr(fd, "trusted.overlay.opaque") == b"y":
                self._add(self._header(path + "/.wh..wh..opq", info, tarfile.REGTYPE, info.st_mode & 0o777))
            self._directory(fd, path + "/")
        finally:
            os.close(fd)

    @staticmethod
    def _etc_changed(fd: int) -> bool:
        """/etc holds more than the runtime's mount points (or hides what is below it)."""
        return bool(set(os.listdir(fd)) - {p.split("/")[1] for p in RUNTIME_FILES}) or \
            _xattr(fd, "trusted.overlay.opaque") == b"y"

    def _file(self, parent: int, name: str, path: str) -> None:
        try:
            handle = os.open(name, _PATH, dir_fd=parent)
        except OSError:
            return
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                return  # swapped for a link or a device meanwhile: left out, never opened
            key = (info.st_dev, info.st_ino)
            if info.st_nlink > 1 and key in self.links:
                header = self._header(path, info, tarfile.LNKTYPE)
                header.linkname = self.links[key]
                self._add(header)
                return
            self.links[key] = path
            header = self._header(path, info, tarfile.REGTYPE)
            header.size = info.st_size
            with open(f"/proc/self/fd/{handle}", "rb") as data:  # the O_PATH handle's own inode
                for attribute in KEPT_XATTRS:
                    value = _xattr(data.fileno(), attribute)
                    if value is not None:
                        header.pax_headers["SCHILY.xattr." + attribute] = value.decode("utf-8", "surrogateescape")
                self._add(header, _Exactly(data, info.st_size))
        finally:
            os.close(handle)

    def _special(self, path: str, info: os.stat_result) -> tarfile.TarInfo:
        kind = tarfile.FIFOTYPE if stat.S_ISFIFO(info.st_mode) else \
            tarfile.CHRTYPE if stat.S_ISCHR(info.st_mode) else tarfile.BLKTYPE
        header = self._header(path, info, kind)
        if kind != tarfile.FIFOTYPE:
            header.devmajor, header.devminor = os.major(info.st_rdev), os.minor(info.st_rdev)
        return header

    def _header(self, path: str, info: os.stat_result, kind: bytes, mode: int | None = None) -> tarfile.TarInfo:
        header = tarfile.TarInfo(path)
        header.type = kind
        header.mode = stat.S_IMODE(info.st_mode) if mode is None else mode
        uid, gid = self.shift
        header.uid = info.st_uid - uid if info.st_uid >= uid else info.st_uid
        header.gid = info.st_gid - gid if info.st_gid >= gid else info.st_gid
        header.mtime = int(info.st_mtime)
        header.uname = header.gname = ""
        return header

    def _add(self, header: tarfile.TarInfo, data: BinaryIO | None = None) -> None:
        self.tar.addfile(header, data)
        self.count += 1


class _Exactly:
    """A file read as exactly ``size`` bytes: zeros when it shrank meanwhile (tarfile would fail)."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream, self.left = stream, size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        data += bytes(size - len(data))
        self.left -= len(data)
        return data


def _xattr(fd: int, name: str) -> bytes | None:
    try:
        return os.getxattr(fd, name)
    except OSError:
        return None


def id_shift(config: dict[str, Any], upper: str) -> tuple[int, int]:
    """The host (uid, gid) of the container's root in its writable layer: (0, 0) unless it runs in
    a private user namespace (``--userns private``: its files are owned by the mapped ids)."""
    if config.get("userns_mode") != "private":
        return 0, 0
    info = os.stat(upper)  # (handed to the mapped root when the namespace was made)
    return info.st_uid, info.st_gid


def write_merged(layers: Sequence[str], upper: str, sink: Any, shift: tuple[int, int] = (0, 0)) -> int:
    """``container export``: the container's whole filesystem (its image's layers, bottom first,
    under ``upper``, whose ids are ``shift``ed back) as a tar into ``sink``, every entry read beneath
    its own layer; the entry count."""
    from composer.engine.runtime.layerview import merged_view

    roots = [root.rstrip("/") + "/" for root in [*layers, upper]]
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = LayerWriter(tar, layer=False)
        for path, source in merged_view(list(layers), upper).items():
            root = next((r for r in reversed(roots) if source.startswith(r)), None)
            if root is not None:
                writer.shift = shift if root == roots[-1] else (0, 0)
                writer.add_beneath(root, path)
        return writer.count


def write_layer(upper: str, sink: Any, shift: tuple[int, int] = (0, 0)) -> int:
    """The tar of the writable layer ``upper`` (its ids ``shift``ed back) into ``sink`` (anything
    with ``write``); its entry count."""
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = LayerWriter(tar)
        writer.shift = shift
        return writer.write_tree(upper)


# --- the config ------------------------------------------------------------------------------------
def container_config(config: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """docker's ``Config`` of a container (what a commit starts from) from composer's config.json and
    its image's ``config``: the command split back into Entrypoint and Cmd at the image's entrypoint."""
    entrypoint = list(image.get("Entrypoint") or [])
    args = list(config.get("args") or [])
    if entrypoint and args[:len(entrypoint)] == entrypoint:
        cmd: list[str] | None = args[len(entrypoint):] or None
    else:
        entrypoint, cmd = [], args or None
    ports = {*config.get("exposed", []), *(image.get("ExposedPorts") or {})}
    labels = {**(image.get("Labels") or {}), **(config.get("labels") or {})}
    stop_signal = config.get("stop_signal") if config.get("stop_signal") not in ("SIGTERM", "15") else None
    result = {
        "Hostname": config.get("hostname", ""), "Domainname": config.get("domainname", ""),
        "User": config.get("user", ""), "AttachStdin": False, "AttachStdout": False, "AttachStderr": False,
        **({"ExposedPorts": {port: {} for port in sorted(ports)}} if ports else {}),
        "Tty": config.get("tty", False), "OpenStdin": config.get("stdin", False), "StdinOnce": False,
        "Env": list(config.get("env") or []), "Cmd": cmd,
        **({"Healthcheck": config["healthcheck"]} if config.get("healthcheck") else {}),
        "Image": config.get("image", ""), "Volumes": image.get("Volumes"),
        "WorkingDir": "" if config.get("cwd", "/") == "/" and not image.get("WorkingDir") else config.get("cwd", ""),
        "Entrypoint": entrypoint or None, "OnBuild": None, "Labels": labels,
    }
    if stop_signal or image.get("StopSignal"):
        result["StopSignal"] = stop_signal or image["StopSignal"]
    return result


def apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """``config`` with the Dockerfile instructions ``changes`` applied as docker's commit does
    (``$VAR`` expanded against the config's Env; ENTRYPOINT without a CMD before it resets Cmd)."""
    from composer.engine.build.dockerfile import parse
    from composer.engine.build.expand import BuildArgs, StageArgs
    from composer.engine.build.instructions import StageState
    from composer.errors import BuildError

    text = "\n".join(changes)
    for line in _instruction_lines(text):
        word = line.split(None, 1)[0]
        if word.upper() not in VALID_CHANGES:
            raise ImageError(f"{word.lower()} is not a valid change command",
                             hint=f"--change takes {', '.join(VALID_CHANGES)}")
    if not _instruction_lines(text):
        raise ImageError("file with no instructions", hint="give --change a Dockerfile instruction such as 'CMD [\"sh\"]'")
    try:
        parsed = parse("FROM scratch\n" + text, file="--change")
        state = StageState(StageArgs(BuildArgs(), {}), config=copy.deepcopy(config))
        for instruction in parsed.instructions[1:]:
            state.dispatch(instruction)
    except BuildError as error:
        raise ImageError(f"--change: {error.message}", hint=error.hint) from None
    return state.config


def _instruction_lines(text: str) -> list[str]:
    """The lines of ``text`` that begin an instruction (not comments, blanks or continuations)."""
    lines, continued = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not continued:
            lines.append(stripped)
        continued = stripped.endswith("\\") or (continued and not stripped)
    return lines


# --- the image -------------------------------------------------------------------------------------
def commit(container_id: str, request: CommitRequest = CommitRequest()) -> str:
    """``docker commit``: the container's changes as a new image (tagged ``request.reference``);
    its id. The container is frozen meanwhile when ``request.pause`` and it is running."""
    from composer.engine.images.reference import parse_reference
    from composer.engine.images.store import ImageStore
    from composer.engine.runtime.state import ContainerDir

    name = str(parse_reference(request.reference)) if request.reference else None
    cdir = ContainerDir(container_id)
    config = cdir.read_config()
    store = ImageStore()
    parent = _parent_image(store, config)
    base = container_config(config, parent.get("config") or {})
    new_config = apply_changes(base, request.changes) if request.changes else copy.deepcopy(base)
    with store.gc_guard():  # (held until the image is registered: gc keeps the new blobs)
        with _paused(container_id, request.pause):
            layer = _store_layer(store, cdir.upper, id_shift(config, cdir.upper))
        return _register(store, parent, layer, _ImageParts(container_id, base, new_config, request, name))


@dataclass(frozen=True)
class _ImageParts:
    container_id: str
    container_config: dict[str, Any]
    config: dict[str, Any]
    request: CommitRequest
    name: str | None


def _parent_image(store: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The image config of the container's image, with its manifest's layers under ``_layers``."""
    import json

    db = store.read_db()
    record = db["images"].get(config.get("image_id", ""))
    if record is None:
        raise ImageError(f"the image of container {config.get('name', '')} ({config.get('image_id', '')[7:19]}) "
                         "is no longer in the store", hint="pull or load that image again, then commit")
    image = json.loads(store.blobs.read(config["image_id"]))
    image["_layers"] = json.loads(store.blobs.read(record["manifest"])).get("layers", [])
    return image


def _store_layer(store: Any, upper: str, shift: tuple[int, int]) -> tuple[str, int] | None:
    """The writable layer as an uncompressed layer blob: (diff id, size), None when it is empty."""
    with store.blobs.writer() as writer:
        if not write_layer(upper, writer, shift):
            writer.abort()
            return None
        return writer.commit(), writer.size


class _paused:
    """Freeze the running container while its layer is read (``pause``), thaw it after."""

    def __init__(self, container_id: str, pause: bool) -> None:
        self.container_id, self.pause, self.frozen = container_id, pause, False

    def __enter__(self) -> None:
        if not self.pause:
            return
        from composer.engine.runtime import containers
        from composer.engine.runtime.state import ContainerDir
        from composer.errors import ContainerStateError

        if containers.current_state(ContainerDir(self.container_id)).get("Status") == "running":
            try:
                containers.pause(self.container_id)
                self.frozen = True
            except ContainerStateError:
                pass  # it stopped (or was paused) meanwhile: nothing to freeze

    def __exit__(self, *exc: object) -> None:
        if self.frozen:
            from composer.engine.runtime import containers
            from composer.errors import ContainerStateError

            try:
                containers.unpause(self.container_id)
            except ContainerStateError:
                pass  # it stopped meanwhile (killed from outside): nothing to thaw


def _register(store: Any, parent: dict[str, Any], layer: tuple[str, int] | None, parts: _ImageParts) -> str:
    """The image config and manifest for ``layer`` on top of ``parent``, stored and named."""
    from composer.engine.images.archive import canonical_json, now_rfc3339
    from composer.engine.images.store import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, chain_ids

    created = now_rfc3339()
    diff_ids = list((parent.get("rootfs") or {}).get("diff_ids") or [])
    layers = list(parent["_layers"])
    sizes = {}
    if layer is not None:
        diff_ids.append(layer[0])
        layers.append({"mediaType": OCI_LAYER, "digest": layer[0], "size": layer[1]})
        chain = chain_ids(diff_ids)[-1]
        store.unpack(chain, layer[0], lambda: store.blobs.open(layer[0]))  # the store's safe extractor
        sizes[chain] = layer[1]
    entry = {"created": created, **({"author": parts.request.author} if parts.request.author else {}),
             "created_by": " ".join(parts.container_config.get("Cmd") or []),
             **({"comment": parts.request.comment} if parts.request.comment else {}),
             **({"empty_layer": True} if layer is None else {})}
    image = {key: parent[key] for key in ("architecture", "variant", "os", "os.version", "os.features") if key in parent}
    image.update({"author": parts.request.author, "config": parts.config, "container": parts.container_id,
                  "container_config": parts.container_config, "created": created,
                  "history": [*(parent.get("history") or []), entry],
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    if not image["author"]:
        del image["author"]
    config_bytes = canonical_json(image)
    config_digest = store.blobs.put(config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                "layers": layers}
    manifest_digest = store.blobs.put(canonical_json(manifest))
    image_id = store.register(manifest_digest, OCI_MANIFEST, names=[parts.name] if parts.name else [],
                              layer_sizes=sizes)
    if parts.name:  # docker's LastTagTime
        with store.update_db() as db:
            db["images"][image_id]["tagged"] = now_rfc3339()
    return image_id
