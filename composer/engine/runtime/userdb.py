"""Resolving ``-u user[:group]`` against the container's own /etc/passwd and /etc/group."""

from __future__ import annotations

import os

from composer.errors import ContainerRuntimeError


def _read_entries(path: str) -> list[list[str]]:
    try:
        with open(path) as handle:
            return [line.rstrip("\n").split(":") for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return []


def _lookup(entries: list[list[str]], key: str, what: str) -> list[str] | None:
    for entry in entries:
        if entry[0] == key:
            return entry
    if key.isdigit():
        for entry in entries:
            if len(entry) > 2 and entry[2] == key:
                return entry
        return None
    raise ContainerRuntimeError(f"unable to find {what} {key}: no matching entries in "
                                f"{'passwd' if what == 'user' else what} file")


def resolve_user(spec: str, root: str = "") -> tuple[int, int, list[int], str]:
    """(uid, gid, supplementary gids, home) for ``spec`` ("", "name", "uid", "user:group")."""
    user, _, group = (spec or "0").partition(":")
    passwd = _read_entries(f"{root}/etc/passwd")
    groups = _read_entries(f"{root}/etc/group")
    entry = _lookup(passwd, user, "user")
    if entry is None and not user.isdigit():
        raise ContainerRuntimeError(f"unable to find user {user}")
    uid = int(user) if user.isdigit() else int(entry[2])
    gid = int(entry[3]) if entry and len(entry) > 3 else 0
    home = entry[5] if entry and len(entry) > 5 else "/"
    name = entry[0] if entry else None
    if group:
        group_entry = _lookup(groups, group, "group")
        gid = int(group) if group.isdigit() else int(group_entry[2])
    supplementary = [gid]
    if name:
        for group_entry in groups:
            members = group_entry[3].split(",") if len(group_entry) > 3 else []
            if name in members and int(group_entry[2]) not in supplementary:
                supplementary.append(int(group_entry[2]))
    return uid, gid, supplementary, home


def resolve_groups(names: list[str], root: str = "") -> list[int]:
    """gids for ``--group-add`` entries (names from the container's /etc/group, or numbers)."""
    if not names:
        return []
    groups = _read_entries(f"{root}/etc/group")
    gids = []
    for name in names:
        entry = _lookup(groups, name, "group")
        gids.append(int(name) if name.isdigit() else int(entry[2]))
    return gids


ID_BLOCK = 65536  # ids per container: a whole 16-bit range, so every image's owners (nobody's 65534 too) map
DEFAULT_SUBORDINATE_RANGE = (100000, 64 * ID_BLOCK)  # from docker's first dockremap id, room for 64 containers
SUBORDINATE_OWNER = "composer"  # like docker's "dockremap" user


def subordinate_range(path: str, owner: str = SUBORDINATE_OWNER) -> tuple[int, int]:
    """(first host id, count) of ``owner``'s line in /etc/subuid or /etc/subgid (docker's
    --userns-remap source); a default range when there is none."""
    for entry in _read_entries(path):
        if len(entry) == 3 and entry[0] == owner and entry[1].isdigit() and entry[2].isdigit():
            return int(entry[1]), int(entry[2])
    return DEFAULT_SUBORDINATE_RANGE


def claim_id_block(container_id: str, uid_range: tuple[int, int], gid_range: tuple[int, int]) -> tuple[int, int, int]:
    """(first uid, first gid, size) of the block of subordinate ids that ``container_id`` maps its
    user namespace to (podman's ``--userns=auto``): its own block again, else the first one that no
    existing container holds. ``<state root>/userns/<n>`` links to block n's holder and
    ``userns/by-id/<id>`` back to n, so a claim reads only the blocks up to the first free one; a
    holder whose state dir is gone left its block free."""
    from composer.engine.runtime.state import StateLock
    from composer.settings import state_root_dir

    claims = os.path.join(state_root_dir(), "userns")
    size = min(ID_BLOCK, uid_range[1], gid_range[1])
    count = min(uid_range[1], gid_range[1]) // size
    os.makedirs(os.path.join(claims, "by-id"), exist_ok=True)
    with StateLock(os.path.join(claims, "lock")):
        block = _own_block(claims, container_id, count)
        if block is None:
            block = next((n for n in range(count) if not _held(_link(os.path.join(claims, str(n))))), None)
            if block is None:
                raise ContainerRuntimeError(f"no free subordinate ids for --userns private: {count} containers "
                                            f"hold composer's {count * size} ids",
                                            hint="remove containers, or give the composer user a larger range in "
                                                 "/etc/subuid and /etc/subgid")
            stale = _link(os.path.join(claims, str(block)))
            if stale:
                _replace_link(os.path.join(claims, "by-id", stale), None)
            _replace_link(os.path.join(claims, str(block)), container_id)
            _replace_link(os.path.join(claims, "by-id", container_id), str(block))
    return uid_range[0] + block * size, gid_range[0] + block * size, size


def _own_block(claims: str, container_id: str, count: int) -> int | None:
    """The block ``container_id`` claimed before (a restart keeps its ids), if still in range."""
    mine = _link(os.path.join(claims, "by-id", container_id))
    if mine.isdigit() and int(mine) < count and _link(os.path.join(claims, mine)) == container_id:
        return int(mine)
    return None


def _held(holder: str) -> bool:
    """Whether ``holder`` (a claim's container id, "" for none) still exists."""
    from composer.engine.runtime.state import containers_root

    return bool(holder) and os.path.isdir(os.path.join(containers_root(), holder))


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _replace_link(path: str, target: str | None) -> None:
    """Point the symlink ``path`` at ``target`` (None: remove it)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    if target is not None:
        os.symlink(target, path)
