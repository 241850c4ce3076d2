"""``docker commit``: a container's writable layer as a new image on top of its image.

The layer is written by ``layertar`` (never following a link out of the upper directory), unpacked
into a snapshot by the store's own safe extractor, and the image config gets docker's history entry
and ``--change``s.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence

from composer.engine.images.layertar import id_shift, write_layer
from composer.errors import ImageError

#: The Dockerfile instructions ``--change`` takes (moby's validCommitCommands; STOPSIGNAL since after 20.10).
VALID_CHANGES = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
                 "VOLUME", "WORKDIR")


@dataclass(frozen=True)
class CommitRequest:
    """What ``commit`` makes: ``reference`` (or an untagged image), docker's author and message."""

    reference: str | None = None
    author: str = ""
    comment: str = ""
    changes: Sequence[str] = ()
    pause: bool = True


# --- the config ------------------------------------------------------------------------------------
def container_config(config: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """docker's ``Config`` of a container (what a commit starts from) from composer's config.json and
    its image's ``config``: the command split back into Entrypoint and Cmd at the image's entrypoint;
    ``Image`` as ``container inspect`` shows it (``busybox``)."""
    from composer.engine.runtime.describe import familiar_image

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
        "Image": familiar_image(config.get("image", "")), "Volumes": image.get("Volumes"),
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
        _check_change(line)
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


_EXACTLY_ONE, _AT_LEAST_ONE, _PAIRS = ("USER", "WORKDIR", "STOPSIGNAL"), ("ENV", "LABEL", "EXPOSE", "VOLUME"), ("ENV", "LABEL")


def _check_change(line: str) -> None:
    """One ``--change`` instruction's word and arguments, refused in dockerd's words."""
    word, _, rest = line.partition(" ")
    keyword, rest = word.upper(), rest.strip()
    if keyword not in VALID_CHANGES:
        raise ImageError(f"{word.lower()} is not a valid change command",
                         hint=f"--change takes {', '.join(VALID_CHANGES)}")
    if rest.endswith("\\"):  # continued: the parser sees the whole instruction
        return
    if not rest and keyword in _EXACTLY_ONE + _AT_LEAST_ONE:
        count = "exactly" if keyword in _EXACTLY_ONE else "at least"
        raise ImageError(f"{keyword} requires {count} one argument", hint=f"write {keyword} with its value")
    if keyword in _PAIRS and "=" not in rest and len(rest.split()) < 2:
        raise ImageError(f"{keyword} must have two arguments", hint=f"write {keyword} name=value")


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
        with _paused(container_id, request.pause):  # thawed at the end, as dockerd: pause, commit, unpause
            layer = _store_layer(store, cdir.upper, id_shift(config, cdir.upper))
            image_id = _register(store, parent, layer, _ImageParts(container_id, base, new_config, request, name))
            _record(cdir, request, image_id)
    return image_id


def _record(cdir: Any, request: CommitRequest, image_id: str) -> None:
    """The commit in the container's state: ``events`` shows dockerd's ``commit`` (its attributes:
    comment, imageID, imageRef as given)."""
    from composer.engine.runtime.state import now_iso

    try:
        cdir.write_state(Committed={"At": now_iso(), "Comment": request.comment, "ImageID": image_id,
                                    "ImageRef": request.reference or ""})
    except OSError:  # removed meanwhile: the image is made all the same
        pass


@dataclass(frozen=True)
class _ImageParts:
    container_id: str
    container_config: dict[str, Any]
    config: dict[str, Any]
    request: CommitRequest
    name: str | None


def _parent_image(store: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The image config of the container's image, with its manifest's layers under ``_layers``
    and its id under ``_id``."""
    import json

    db = store.read_db()
    record = db["images"].get(config.get("image_id", ""))
    if record is None:
        raise ImageError(f"the image of container {config.get('name', '')} ({config.get('image_id', '')[7:19]}) "
                         "is no longer in the store", hint="pull or load that image again, then commit")
    image = json.loads(store.blobs.read(config["image_id"]))
    image["_layers"] = json.loads(store.blobs.read(record["manifest"])).get("layers", [])
    image["_id"] = config["image_id"]
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
        from composer.engine.runtime.state import ContainerDir

        cdir = ContainerDir(self.container_id)
        if not self.pause or cdir.read_state().get("Status") != "running":
            return  # (a stopped container: the runtime module, ~60 ms of imports, is not needed)
        from composer.engine.runtime import containers
        from composer.errors import ContainerStateError

        if containers.current_state(cdir).get("Status") == "running":  # (the recorded state reconciled)
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
    """The image config and manifest for ``layer`` on top of ``parent``, stored and named; as
    dockerd 20.10's, a Docker schema 2 manifest and config (its layers' types too), and the
    parent's id recorded (``image inspect``'s Parent, ``history``'s ids)."""
    from composer.engine.images.archive import canonical_json, now_rfc3339
    from composer.engine.images.mediatypes import DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, docker_layer_type
    from composer.engine.images.store import chain_ids

    created = now_rfc3339()
    diff_ids = list((parent.get("rootfs") or {}).get("diff_ids") or [])
    layers = [{**each, "mediaType": docker_layer_type(each.get("mediaType", ""))} for each in parent["_layers"]]
    sizes = {}
    if layer is not None:
        diff_ids.append(layer[0])
        layers.append({"mediaType": DOCKER_LAYER, "digest": layer[0], "size": layer[1]})
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
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                "layers": layers}
    manifest_digest = store.blobs.put(canonical_json(manifest))
    image_id = store.register(manifest_digest, DOCKER_MANIFEST, names=[parts.name] if parts.name else [],
                              layer_sizes=sizes)
    with store.update_db() as db:
        db["images"][image_id]["parent"] = parent["_id"]
        if parts.name:  # docker's LastTagTime
            db["images"][image_id]["tagged"] = now_rfc3339()
    if parts.name:  # dockerd's image event of a commit's name
        from composer.engine.images.reference import parse_reference
        from composer.engine.object_events import image_event

        image_event("tag", image_id, parse_reference(parts.name).familiar(), dict(parts.config.get("Labels") or {}))
    return image_id
