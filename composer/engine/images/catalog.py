"""Queries and housekeeping on the store: list, inspect, history, tag, remove, prune, gc."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime, timedelta, timezone

from composer.engine.images.reference import parse_reference
from composer.engine.images.store import ImageStore
from composer.engine.object_events import image_event, image_labels, prune_event
from composer.errors import ImageError
from composer.records import Record

TYPE_CHECKING = False  # typing and dataclasses stay off image ls/inspect's path
if TYPE_CHECKING:
    from typing import Any, Callable

CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None,
}


class ImageSummary(Record):
    """One row of `image ls`: a (repository, tag) of an image, or <none> for untagged ones."""

    id: str
    repository: str
    tag: str
    digest: str
    created: str
    size: int


def _familiar(name: str) -> tuple[str, str]:
    parsed = parse_reference(name)
    return parsed.familiar_repository, parsed.tag or "<none>"


def layer_size(db: dict[str, Any], chain: str) -> int:
    """A layer's size as docker reports it (its files' bytes: ``store.disk_size``); its tar's
    length for a layer stored before that was recorded."""
    size = db.get("disk", {}).get(chain)
    return db["layers"].get(chain, 0) if size is None else size


def image_size(db: dict[str, Any], record: dict[str, Any]) -> int:
    """The size of an image (the sum of its layers'), as docker reports it."""
    return sum(layer_size(db, chain) for chain in record["chain"])


def list_images(store: ImageStore, intermediate: bool = True) -> list[ImageSummary]:
    """Every tag of every image (untagged images once, as <none>), newest first; without
    ``intermediate``, no untagged image a committed image names as its parent (docker's ``ls``
    without ``-a``)."""
    db = store.read_db()
    rows = []
    for image_id, record in db["images"].items():
        names = store.names_of(db, image_id)
        if not (names or record.get("repo_digests") or intermediate) and _has_children(db, image_id):
            continue
        digests = {d.split("@")[0]: d.split("@")[1] for d in record.get("repo_digests", [])}
        size, created = image_size(db, record), record.get("created") or ""
        for name in names or [None]:
            repository, tag = _familiar(name) if name else ("<none>", "<none>")
            full_repository = name.rsplit(":", 1)[0] if name else ""
            rows.append(ImageSummary(image_id, repository, tag, digests.get(full_repository, "<none>"),
                                     created, size))
        if not names and digests:
            repository = parse_reference(next(iter(digests))).familiar_repository
            rows[-1] = ImageSummary(image_id, repository, "<none>", next(iter(digests.values())), created, size)
    rows.sort(key=lambda row: (row.repository, row.tag))  # docker: newest first, then by name
    return sorted(rows, key=lambda row: created_at(row.created), reverse=True)


FILTERS = ("before", "dangling", "label", "reference", "since")  # image ls
PRUNE_FILTERS = ("until", "label", "label!")


def filter_images(store: ImageStore, rows: list[ImageSummary], wanted: dict[str, list[str]]) -> list[ImageSummary]:
    """``image ls --filter``s (grouped by key: ``psformat.parse_filters``) as docker applies them:
    one key's values are OR'ed (label: AND'ed), keys AND'ed; a bad ``dangling`` value is an error."""
    for key, values in wanted.items():
        rows = _FILTERS[key](store, rows, values)
    return rows


def _dangling(store: ImageStore, rows: list[ImageSummary], values: list[str]) -> list[ImageSummary]:
    truths = {"true": True, "1": True, "false": False, "0": False}
    if any(value.lower() not in truths for value in values) or len({truths[v.lower()] for v in values}) > 1:
        from composer.errors import FilterError

        raise FilterError(f"Invalid filter 'dangling=[{' '.join(values)}]'")  # dockerd's words
    dangling = truths[values[0].lower()]
    return [row for row in rows if (row.tag == "<none>" and row.repository == "<none>") == dangling]


def _reference(store: ImageStore, rows: list[ImageSummary], values: list[str]) -> list[ImageSummary]:
    """docker's ``reference.FamiliarMatch``: Go's ``path.Match`` (``*`` stops at ``/``) on the
    familiar name, then on ``name:tag``."""
    patterns = [_path_pattern(value) for value in values]
    return [row for row in rows if any(pattern.match(row.repository) or pattern.match(f"{row.repository}:{row.tag}")
                                       for pattern in patterns)]


def _path_pattern(pattern: str) -> re.Pattern[str]:
    """Go's ``path.Match`` pattern as a regex: ``*``/``?`` never match ``/``; ``[...]`` classes kept;
    a pattern Go refuses (an unclosed ``[``) is dockerd's error."""
    from composer.errors import FilterError

    parts = re.split(r"(\[[^\]]+\]|\*|\?)", pattern)
    table = {"*": "[^/]*", "?": "[^/]"}
    classes = {part for part in parts if part.startswith("[") and part.endswith("]") and len(part) > 2}
    if any("[" in part for part in parts if part not in classes):
        raise FilterError("syntax error in pattern")
    regex = "".join(table.get(part) or (part.replace("[^", "[^/") if part in classes else re.escape(part))
                    for part in parts)
    try:
        return re.compile(regex + r"\Z")
    except re.error:
        raise FilterError("syntax error in pattern") from None


def _label(store: ImageStore, rows: list[ImageSummary], values: list[str]) -> list[ImageSummary]:
    labels: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.id not in labels:
            config = json.loads(store.blobs.read(row.id)).get("config") or {}
            labels[row.id] = config.get("Labels") or {}

    def matches(have: dict[str, str], value: str) -> bool:
        key, equals, expected = value.partition("=")
        return key in have and (not equals or have[key] == expected)

    return [row for row in rows if all(matches(labels[row.id], value) for value in values)]


def created_at(created: str) -> datetime:
    """An image's RFC 3339 creation time (nanoseconds cut to microseconds); the epoch if unknown."""
    try:
        instant = datetime.fromisoformat(created)
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def _created_of(store: ImageStore, reference: str) -> datetime:
    db = store.read_db()
    image_id, _ = store.find(db, reference)
    return created_at(db["images"][image_id].get("created") or "")


def _before(store: ImageStore, rows: list[ImageSummary], values: list[str]) -> list[ImageSummary]:
    limit = min(_created_of(store, value) for value in values)
    return [row for row in rows if created_at(row.created) < limit]


def _since(store: ImageStore, rows: list[ImageSummary], values: list[str]) -> list[ImageSummary]:
    limit = max(_created_of(store, value) for value in values)
    return [row for row in rows if created_at(row.created) > limit]


_FILTERS = {"before": _before, "dangling": _dangling, "label": _label, "reference": _reference, "since": _since}


def inspect_image(store: ImageStore, reference: str) -> dict[str, Any]:
    """``docker image inspect``'s object for one image (docker 20.10's keys, in its order)."""
    db = store.read_db()
    image_id, _ = store.find(db, reference)
    record = db["images"][image_id]
    config = json.loads(store.blobs.read(image_id))
    size = image_size(db, record)
    document = {
        "Id": image_id,
        "RepoTags": [parse_reference(name).familiar() for name in store.names_of(db, image_id)],
        "RepoDigests": [parse_reference(d).familiar() for d in record.get("repo_digests", [])],
        "Parent": record.get("parent", ""), "Comment": (config.get("history") or [{}])[-1].get("comment", ""),
        "Created": config.get("created", ""), "Container": config.get("container", ""),
        "ContainerConfig": {**CONFIG_DEFAULTS, **(config.get("container_config") or {})},
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""), "Config": {**CONFIG_DEFAULTS, **(config.get("config") or {})},
        "Architecture": config.get("architecture", ""), "Variant": config.get("variant"), "Os": config.get("os", ""),
        "Size": size, "VirtualSize": size,
        "GraphDriver": {"Data": _graph_data(store, record["chain"]), "Name": "overlay2"},
        "RootFS": {"Type": "layers", "Layers": config.get("rootfs", {}).get("diff_ids", [])},
        "Metadata": {"LastTagTime": record.get("tagged", "0001-01-01T00:00:00Z")},
    }
    if not document["Variant"]:  # omitempty in docker's ImageInspect
        del document["Variant"]
    return document


def _now() -> str:
    from composer.engine.images.archive import now_rfc3339

    return now_rfc3339()


def _graph_data(store: ImageStore, chain: list[str]) -> dict[str, str]:
    """``GraphDriver.Data``: the top layer's directory as UpperDir, the others as LowerDir."""
    paths = [str(store.snapshot_path(each)) for each in reversed(chain)]
    data = {"LowerDir": ":".join(paths[1:])} if len(paths) > 1 else {}
    if paths:
        data["UpperDir"] = paths[0]
    return data


def history(store: ImageStore, reference: str) -> list[dict[str, Any]]:
    """``docker history`` rows, newest first: id (or <missing>), created, created_by, size, comment."""
    db = store.read_db()
    image_id, _ = store.find(db, reference)
    record = db["images"][image_id]
    config = json.loads(store.blobs.read(image_id))
    sizes = [layer_size(db, chain) for chain in record["chain"]]
    rows = []
    for entry in config.get("history") or [{"created": config.get("created", "")}]:
        size = 0 if entry.get("empty_layer") or not sizes else sizes.pop(0)
        rows.append({"id": "<missing>", "created": entry.get("created", ""), "created_by": entry.get("created_by", ""),
                     "size": size, "comment": entry.get("comment", "")})
    rows.reverse()
    rows[0]["id"] = image_id
    _name_parent_rows(store, db, record, rows)
    return rows


def _name_parent_rows(store: ImageStore, db: dict[str, Any], record: dict[str, Any],
                      rows: list[dict[str, Any]]) -> None:
    """docker's history names the row that made each local ancestor (``Parent`` after
    ``Parent``: a commit's source image) by that image's id instead of ``<missing>``."""
    parent = record.get("parent")
    while parent in db["images"]:
        depth = len(json.loads(store.blobs.read(parent)).get("history") or [None])
        if not 0 < depth <= len(rows):
            return
        rows[len(rows) - depth]["id"] = parent
        parent = db["images"][parent].get("parent")


def tag(store: ImageStore, source: str, target: str) -> str:
    """Point the name ``target`` at the image ``source``; returns the normalized target."""
    name = parse_reference(target)
    if name.digest:
        raise ImageError(f"refusing to create a tag with a digest reference: {target}")
    db = store.read_db()
    image_id, _ = store.find(db, source)
    with store.update_db() as db:
        db["refs"][str(name)] = image_id
        db["images"][image_id]["tagged"] = _now()
    image_event("tag", image_id, name.familiar(), image_labels(store, image_id))
    return str(name)


class ContainerUsage(Record):
    """What the containers of this state root hold on to: image id -> [(container id, running?)],
    and the lower directories they run on (deleted images' included)."""

    images: dict[str, list[tuple[str, bool]]]
    layers: frozenset[str] = frozenset()


def container_usage() -> ContainerUsage:
    """One read of every container's config.json (and state) for both its image and its layers."""
    from composer.engine.runtime.containers import LIVE, current_state
    from composer.engine.runtime.imagemount import mounted_images
    from composer.engine.runtime.state import ContainerDir, list_container_ids

    images: dict[str, list[tuple[str, bool]]] = {}
    layers: set[str] = set()
    for container_id in list_container_ids():
        cdir = ContainerDir(container_id)
        try:
            config = cdir.read_config()
            layers.update(config.get("layers", []))
            running = current_state(cdir).get("Status") in LIVE
            images.setdefault(config["image_id"], []).append((container_id, running))
            for mounted in mounted_images(config.get("mounts") or ()):  # type: image mounts
                images.setdefault(mounted, []).append((container_id, running))
        except (OSError, ValueError, KeyError, AttributeError):
            continue  # being created or removed right now
    return ContainerUsage(images, frozenset(layers))


def _unused_untagged(store: ImageStore, db: dict[str, Any], image_id: str, usage: ContainerUsage) -> bool:
    """Whether ``image_id`` is still there with no name, no child and no container using it."""
    return image_id in db["images"] and not store.names_of(db, image_id) and \
        not db["images"][image_id].get("repo_digests") and not _has_children(db, image_id) and \
        image_id not in usage.images


def _has_children(db: dict[str, Any], image_id: str) -> bool:
    """Whether an image names ``image_id`` as its parent (``commit`` records it)."""
    return any(record.get("parent") == image_id for record in db["images"].values())


def _delete_conflict(image_id: str, users: list[tuple[str, bool]], other_names: list[str],
                     force: bool) -> ImageError | None:
    """docker's conflicts deleting an image by id: a running user is hard, names and stopped users soft."""
    short = image_id[7:19]
    running = [cid for cid, is_running in users if is_running]
    if running:
        return ImageError(f"conflict: unable to delete {short} (cannot be forced) - image is being used "
                          f"by running container {running[0][:12]}", hint="stop and remove the container first")
    if force:
        return None
    if other_names:
        return ImageError(f"conflict: unable to delete {short} (must be forced) - "
                          "image is referenced in multiple repositories", hint="use -f, or remove a tag")
    if users:
        return ImageError(f"conflict: unable to delete {short} (must be forced) - image is being used "
                          f"by stopped container {users[0][0][:12]}", hint="remove the container first, or use -f")
    return None


def _untag(db: dict[str, Any], names: list[str], lines: list[tuple[str, str]]) -> None:
    for each in names:
        del db["refs"][each]
        lines.append(("Untagged", parse_reference(each).familiar()))


def remove(store: ImageStore, reference: str, force: bool = False,
           usage: ContainerUsage | None = None, prune: bool = True) -> list[tuple[str, str]]:
    """``docker rmi``: untag, and delete the image when no name is left. Returns (action, what) lines.

    As docker's daemon: by name, the last name of an image a container uses needs ``force``;
    the image then goes too unless a running container uses it. By id, a running user refuses
    even ``force``; a stopped one or several names need it. A deleted image's snapshots stay as
    long as a container is built on them (see :func:`gc`); the others are listed as ``Deleted``
    chain ids, top layer first, as docker lists the layers it releases. With ``prune`` (not
    ``--no-prune``), a deleted image's untagged parent (a commit's source) that nothing else uses
    goes too, as dockerd's.
    """
    usage = container_usage() if usage is None else usage
    with store.update_db() as db:
        image_id, before = store.find(db, reference)[0], set(db["images"])
        parent, labels = db["images"][image_id].get("parent"), image_labels(store, image_id)
        lines = _remove_from(store, db, reference, force, usage)
        while prune and parent and image_id not in db["images"] and _unused_untagged(store, db, parent, usage):
            grandparent = db["images"][parent].get("parent")
            lines += _remove_from(store, db, parent, False, usage)
            parent = grandparent
        deleted = before - set(db["images"])
    removal_events(image_id, lines, deleted, labels)
    return lines


def removal_events(image_id: str, lines: list[tuple[str, str]], deleted: set[str], labels: dict) -> None:
    """dockerd's events of a removal: ``untag`` per name it lost (with the image's ``labels``),
    ``delete`` per image that went (named by their ids, as dockerd 20.10 names them)."""
    for action, what in lines:
        if action == "Untagged":
            image_event("untag", image_id, labels=labels)
        elif what in deleted:
            image_event("delete", what)


def _remove_from(store: ImageStore, db: dict[str, Any], reference: str, force: bool,
                 usage: ContainerUsage) -> list[tuple[str, str]]:
    """:func:`remove` on ``db`` (the index, under the store lock); nothing is changed when it raises."""
    lines: list[tuple[str, str]] = []
    image_id, name = store.find(db, reference)
    names, used = store.names_of(db, image_id), usage.images.get(image_id, [])
    by_name = name in names and name != image_id and not reference.removeprefix("sha256:") in image_id
    if by_name:
        if not force and names == [name] and used:
            raise ImageError(f'conflict: unable to remove repository reference "{reference}" (must force) - '
                             f"container {used[0][0][:12]} is using its referenced image {image_id[7:19]}",
                             hint="remove the container first, or use -f")
        _untag(db, [name], lines)
        if len(names) > 1 or any(running for _, running in used) or _has_children(db, image_id):
            return lines  # other names left, or quietly kept for its running container or its children
    else:
        if _has_children(db, image_id):  # a commit's source image, as dockerd keeps it
            raise ImageError(f"conflict: unable to delete {image_id[7:19]} (cannot be forced) - image has dependent "
                             "child images", hint="remove the images committed from it first")
        conflict = _delete_conflict(image_id, used, names[1:], force)
        if conflict is not None:
            raise conflict
        _untag(db, names, lines)
    for repo_digest in db["images"][image_id].get("repo_digests", []):
        lines.append(("Untagged", parse_reference(repo_digest).familiar()))
    record = db["images"].pop(image_id)
    lines.append(("Deleted", image_id))
    kept = _kept_chains(store, db, usage.layers)
    lines += [("Deleted", chain) for chain in reversed(record["chain"]) if chain not in kept]
    return lines


def prune(store: ImageStore, everything: bool = False,
          filters: dict[str, list[str]] | None = None) -> tuple[list[tuple[str, str]], int]:
    """Remove dangling images (every unused image with ``everything``) that pass ``filters``
    (docker's ``until=``, ``label=``, ``label!=``); returns docker's (Untagged|Deleted, what)
    lines of each removal and the layer bytes freed (docker's figure)."""
    keep = _prune_filter(store, filters or {})
    usage = container_usage()
    lines: list[tuple[str, str]] = []
    sizes: dict[str, int] = {}  # the layers of the removed images, by chain id
    removed: list[tuple[str, dict, list[tuple[str, str]]]] = []  # (image id, its labels, its lines)
    with store.update_db() as db:  # one read and one write of the index for all the removals
        named = set(db["refs"].values())
        for image_id in [image_id for image_id, record in db["images"].items()
                         if (everything or image_id not in named) and image_id not in usage.images
                         and keep(image_id, record) and not _has_children(db, image_id)]:
            sizes.update((chain, layer_size(db, chain)) for chain in db["images"][image_id]["chain"])
            labels = image_labels(store, image_id)
            removed.append((image_id, labels, _remove_from(store, db, image_id, True, usage)))
    for image_id, labels, image_lines in removed:
        removal_events(image_id, image_lines, {image_id}, labels)
        lines += image_lines
    gc(store, usage.layers)
    # docker counts the layers that went away (not configs, manifests or compressed blobs)
    freed = sum(size for chain, size in sizes.items() if not store.snapshot_path(chain).exists())
    prune_event("image", freed)
    return lines, freed


def _prune_filter(store: ImageStore, filters: dict[str, list[str]]) -> Callable[[str, dict[str, Any]], bool]:
    """A test of (image id, record) for ``image prune --filter``s (keys PRUNE_FILTERS; all must pass)."""
    tests: list[Callable[[str, dict[str, Any]], bool]] = []
    for key, values in filters.items():
        for value in values:
            if key == "until":
                limit = until_instant(value)
                tests.append(lambda image_id, record, limit=limit: created_at(record.get("created") or "") < limit)
            else:
                tests.append(lambda image_id, record, value=value, negate=key == "label!":
                             _has_label(store, image_id, value) != negate)
    return lambda image_id, record: all(test(image_id, record) for test in tests)


def _has_label(store: ImageStore, image_id: str, wanted: str) -> bool:
    labels = (json.loads(store.blobs.read(image_id)).get("config") or {}).get("Labels") or {}
    key, equals, value = wanted.partition("=")
    return key in labels and (not equals or labels[key] == value)


def until_instant(value: str) -> datetime:
    """docker's ``until=``: a Go duration before now (``24h``, ``1h30m``), an RFC 3339 time or Unix seconds."""
    from composer.units import go_duration

    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (ValueError, OverflowError, OSError):  # (not a number, or no time: inf, 1e30)
        pass
    try:
        return datetime.now(timezone.utc) - timedelta(seconds=go_duration(value))
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        from composer.errors import FilterError

        raise FilterError(f'failed to parse value as time or duration: "{value}"') from None  # dockerd's words
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def _kept_chains(store: ImageStore, db: dict[str, Any], layers: frozenset[str]) -> set[str]:
    """The snapshots (chain ids) an image of ``db`` or a container (its lower ``layers``) needs."""
    kept = {chain for record in db["images"].values() for chain in record["chain"]}
    snapshots = str(store.root / "snapshots")
    return kept | {"sha256:" + os.path.basename(path) for path in layers if os.path.dirname(path) == snapshots}


def gc(store: ImageStore, layers: frozenset[str] | None = None) -> int:
    """Delete blobs and snapshots no image and no container uses (not during pulls); bytes freed.

    ``layers``: the containers' lower directories when the caller has read them (see
    :func:`container_usage`).
    """
    from composer.engine.build.cache import held as held_by_build_cache
    from composer.engine.images.tmpdirs import tree_size

    freed = 0
    layers = container_usage().layers if layers is None else layers
    with store.gc_guard(exclusive=True):
        db = store.read_db()
        keep_blobs, cached_chains = held_by_build_cache()  # docker's image prune leaves it alone
        keep_chains = _kept_chains(store, db, layers) | cached_chains
        keep_blobs.update(db["images"])
        for record in db["images"].values():
            keep_blobs.add(record["manifest"])
            manifest = json.loads(store.blobs.read(record["manifest"]))
            keep_blobs.update(layer["digest"] for layer in manifest.get("layers", []))
            keep_blobs.update(d.split("@")[1] for d in record.get("repo_digests", []))
        snapshots = store.root / "snapshots"
        for entry in os.listdir(snapshots) if snapshots.is_dir() else []:
            if f"sha256:{entry}" not in keep_chains:
                freed += tree_size(snapshots / entry)
                shutil.rmtree(snapshots / entry, ignore_errors=True)
        blobs = store.root / "blobs" / "sha256"
        for entry in os.listdir(blobs) if blobs.is_dir() else []:
            if f"sha256:{entry}" not in keep_blobs:
                freed += (blobs / entry).stat().st_size
                (blobs / entry).unlink()
        # only pulls, loads and builds add layer sizes (not while this guard is held)
        if not keep_chains.issuperset([*db["layers"], *db.get("disk", {})]):
            with store.update_db() as db:
                for sizes in ("layers", "disk"):
                    db[sizes] = {chain: size for chain, size in db.get(sizes, {}).items() if chain in keep_chains}
        freed += _clean_tmp(store)
    return freed


def _clean_tmp(store: ImageStore, age: float = 3600.0) -> int:
    """Remove what killed pulls, loads and builds left in ``tmp/``; the bytes freed.

    An entry of a process (a build's ``build-<pid>-...``) goes once that process is gone; any
    other one once it is older than ``age`` seconds. Mounts inside go first, links are not
    followed (``tmpdirs.remove_entry``).
    """
    import time

    from composer.engine.images.tmpdirs import owner_pid, process_exists, remove_entry

    freed, tmp = 0, store.root / "tmp"
    for entry in os.listdir(tmp) if tmp.is_dir() else []:
        path, pid = tmp / entry, owner_pid(entry)
        try:
            if pid is not None and process_exists(pid):
                continue
            if pid is None and time.time() - path.lstat().st_mtime < age:
                continue
        except FileNotFoundError:
            continue
        freed += remove_entry(path)
    return freed
