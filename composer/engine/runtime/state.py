"""A container's state directory: ``state_root()/containers/<id>/``.

Layout (stable, so detached supervision, logs and exec can be added without redesign)::

    config.json      the ContainerConfig (written once, before start)
    state.json       status, pid, exit code, OOMKilled, timestamps (rewritten atomically)
    hostname hosts resolv.conf   generated files bind-mounted into the container
    upper/ work/     the overlay's writable layer
    rootfs/          the overlay mount point (mounted only inside the container's mount ns)
    l/               short symlinks to the layers when they overflow the mount options page
"""

from __future__ import annotations

import os
import time

from composer.settings import state_root_dir


def containers_root() -> str:
    """Where all container directories live."""
    return os.path.join(state_root_dir(), "containers")


def dumps(data: object) -> str:
    """``json.dumps(data)`` by CPython's C encoder itself: importing the json package pulls in re,
    enum, functools and collections (~10 ms of a container start); the fallback is json's."""
    try:
        from _json import encode_basestring_ascii, make_encoder
    except ImportError:
        import json

        return json.dumps(data)
    encoder = make_encoder({}, _unserializable, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    return "".join(encoder(data, 0))


def _unserializable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _ScanContext:
    """What CPython's C JSON scanner reads from its decoder: json.loads' defaults."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name.replace("Infinity", "inf"))


def read_json(path: str) -> object:
    """The JSON document in ``path``, parsed by CPython's C scanner (``_json``) itself, as
    ``dumps`` writes (the json package imports re and enum). ValueError when it is not one whole
    document; the json package only when ``_json`` is missing."""
    with open(path) as handle:
        return parse_json(handle.read())


def parse_json(text: str) -> object:
    """``text`` parsed as one whole JSON document (as ``read_json``)."""
    text = text.strip()
    try:
        from _json import make_scanner
    except ImportError:
        import json

        return json.loads(text)
    try:
        value, end = make_scanner(_ScanContext)(text, 0)
    except StopIteration:
        raise ValueError(f"not JSON: {text[:40]!r}") from None
    if end != len(text):
        raise ValueError(f"extra data after the JSON document at offset {end}")
    return value


def write_json_atomic(path: str, data: dict, previous: dict | None = None) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename (``previous``: what
    the caller already read of a state.json, so the event log need not read it again)."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as handle:
        handle.write(dumps(data))
    if path.endswith("/state.json"):  # a container's: the project's event log records what changed
        from composer.engine.journal import state_written

        state_written(path, data, previous)
    os.rename(temporary, path)


def now_iso() -> str:
    """The current time in docker's RFC 3339 form (UTC, nanosecond field)."""
    seconds = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e9):09d}Z"


def process_start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat (guards against pid reuse); "" if the process is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
    except OSError:
        return ""
    return "" if len(fields) < 20 or fields[0] in (b"Z", b"X") else fields[19].decode()


def signal_process(pid: object, number: int, start_time: str = "") -> bool:
    """Send signal ``number`` to the one process ``pid``; False when there is none to signal.

    Never a group: ``os.kill`` reads pid 0 as "my own process group" and -1 as "every process",
    so a state file's ``Pid: 0`` (a container that exited a moment ago) would otherwise kill the
    caller and everything started beside it. Pids 0, 1, negative ones and the caller's own are
    refused; with ``start_time`` (field 22 of /proc/PID/stat, recorded when the pid was) a pid
    the kernel has since given to another process is left alone too."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1 or pid == os.getpid():
        return False
    if start_time and process_start_time(pid) != start_time:
        return False
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        return False
    return True


_BOOT_ID: list[str] = []


def boot_id() -> str:
    """This boot's random id (/proc/sys/kernel/random/boot_id): a pid and a start time recorded
    in an earlier boot may name an unrelated process of this one."""
    if not _BOOT_ID:
        try:
            with open("/proc/sys/kernel/random/boot_id") as handle:
                _BOOT_ID.append(handle.read().strip())
        except OSError:
            _BOOT_ID.append("")
    return _BOOT_ID[0]


def supervisor_alive(state: dict) -> bool:
    """Whether the process state.json names as the container's keeper still runs: same pid, same
    start time, same boot (after a reboot, an unrelated process may have both). A boot id that
    either side could not read ("") is no evidence: the pid and start time decide."""
    pid = state.get("SupervisorPid") or 0
    if not pid or process_start_time(pid) != state.get("SupervisorStart"):
        return False
    recorded = state.get("SupervisorBoot")
    return not recorded or not boot_id() or recorded == boot_id()


class ContainerDir:
    """The paths of one container's state directory."""

    def __init__(self, container_id: str, root: str | None = None) -> None:
        self.id = container_id
        self.path = os.path.join(root or containers_root(), container_id)
        self.config = os.path.join(self.path, "config.json")
        self.state = os.path.join(self.path, "state.json")
        self.upper = os.path.join(self.path, "upper")
        self.work = os.path.join(self.path, "work")
        self.rootfs = os.path.join(self.path, "rootfs")

    def file(self, name: str) -> str:
        """A file inside the directory (``hostname``, ``hosts``, ``resolv.conf`` ...)."""
        return os.path.join(self.path, name)

    def create(self) -> None:
        """Make the directory and its overlay sub-directories (fails if it exists)."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        os.mkdir(self.path, 0o710)
        for sub in (self.upper, self.work, self.rootfs):
            os.mkdir(sub, 0o755)

    def lock(self) -> "StateLock":
        """An exclusive flock on the directory's ``lock`` file (``with cdir.lock(): ...``)."""
        return StateLock(os.path.join(self.path, "lock"))

    def mount_lock(self, timeout: float | None = None) -> "StateLock":
        """An exclusive flock on the ``upper`` directory, held by whoever mounts the container's
        filesystem or removes it: a start until PID 1 runs (an exit until it is cleaned up), a
        copy, a removal. A copy of a stopped container then never mounts it beside a start's PID 1
        (it waits, and finds the container running). FileNotFoundError once the container is removed; TimeoutError
        once held by another for ``timeout`` seconds."""
        return StateLock(self.upper, directory=True, timeout=timeout)

    def write_state(self, drop: tuple[str, ...] = (), **fields: object) -> dict:
        """Merge ``fields`` into state.json, without the keys ``drop`` (atomically, under the
        lock), and return the new state."""
        with self.lock():
            previous = self.read_state()
            state = {**previous, **fields}
            for key in drop:
                state.pop(key, None)
            write_json_atomic(self.state, state, previous or None)  # (absent: the log reads it itself)
        return state

    def read_state(self) -> dict:
        """state.json as a dict ({} if absent)."""
        try:
            return read_json(self.state)
        except FileNotFoundError:
            return {}

    def read_config(self) -> dict:
        """config.json as a dict."""
        return read_json(self.config)

    def remove(self) -> None:
        """Delete the directory and everything in it (tolerates absence). It is renamed away
        first (into the root's ``removing/``), so it vanishes at once: a command that finds it
        later (a ``start``'s supervisor, a copy) gets FileNotFoundError, never a half-deleted
        directory in which its writes would recreate files."""
        from composer.engine.journal import directory_removed

        directory_removed(self.path)  # the event logs: destroy
        doomed = os.path.join(removing_dir(os.path.dirname(self.path)), f"{self.id}.{os.getpid()}")
        try:
            os.makedirs(os.path.dirname(doomed), exist_ok=True)
            os.rename(self.path, doomed)
        except FileNotFoundError:
            return
        except OSError:  # (another file system, a mount point): deleted in place
            doomed = self.path
        remove_tree(doomed)


class StateLock:
    """``flock(LOCK_EX)`` held for a ``with`` block: concurrent commands never interleave updates.
    With ``timeout`` (seconds) a lock held by another for that long raises TimeoutError."""

    def __init__(self, path: str, directory: bool = False, timeout: float | None = None) -> None:
        self.path = path
        self.fd = -1
        self.flags = os.O_RDONLY | os.O_DIRECTORY if directory else os.O_RDWR | os.O_CREAT
        self.timeout = timeout

    def __enter__(self) -> "StateLock":
        import fcntl

        fd = os.open(self.path, self.flags | os.O_CLOEXEC, 0o600)
        try:
            if self.timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                _flock_within(fd, self.timeout)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)  # (a child forked meanwhile may still have the fd)
        os.close(self.fd)
        self.fd = -1


def mount_locked(cdir: ContainerDir, holders: str, hint: str) -> StateLock:
    """The container's mount lock (for a copy of a stopped container, a removal), waited for at
    most ``settings.lock_wait()`` seconds: longer is a ContainerRuntimeError (exit 1) naming who
    may hold it (``holders``). FileNotFoundError once the container is removed."""
    from composer.settings import lock_wait

    return _BusyMountLock(cdir, lock_wait(), holders, hint)


class _BusyMountLock(StateLock):
    def __init__(self, cdir: ContainerDir, wait: float, holders: str, hint: str) -> None:
        super().__init__(cdir.upper, directory=True, timeout=wait)
        self.busy = f"container {cdir.id[:12]} is busy: {holders} has held its filesystem for {wait:g} s"
        self.hint = hint

    def __enter__(self) -> StateLock:
        try:
            return super().__enter__()
        except TimeoutError:
            from composer.errors import ContainerRuntimeError

            raise ContainerRuntimeError(self.busy, hint=self.hint, exit_code=1) from None


def _flock_within(fd: int, timeout: float) -> None:
    """``flock(LOCK_EX)`` on ``fd``, tried again (every 10 to 100 ms) for at most ``timeout``
    seconds; TimeoutError if another holds it all that time."""
    import fcntl

    deadline, pause = time.monotonic() + timeout, 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{timeout:g} s waiting for a lock") from None
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.1)


def remove_tree(path: str) -> None:
    """``rm -rf path`` without following symlinks (shutil's import costs milliseconds on ``--rm``)."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        os.unlink(path)
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            remove_tree(entry.path)
        else:
            os.unlink(entry.path)
    os.rmdir(path)


def removing_dir(containers: str) -> str:
    """Where ``ContainerDir.remove`` moves the directories of ``containers`` (a root's
    ``containers/``) to delete them, as ``<id>.<remover's pid>`` (``removing.sweep`` finishes the
    removals of killed removers)."""
    return os.path.join(os.path.dirname(containers), "removing")


def list_container_ids(root: str | None = None) -> list[str]:
    """The ids of all containers that have a state directory."""
    try:
        return sorted(os.listdir(root or containers_root()))
    except FileNotFoundError:
        return []


def names_root() -> str:
    """Where container names are claimed (one file per name, containing the id)."""
    return os.path.join(state_root_dir(), "names")


NAME_FIRST = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
NAME_REST = NAME_FIRST | set("_.-")


def check_name(name: str) -> None:
    """Docker's container name rule: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+`` (so never a path); refused in
    dockerd's words."""
    from composer.errors import ContainerStateError

    if len(name) < 2 or name[0] not in NAME_FIRST or not set(name) <= NAME_REST:
        raise ContainerStateError(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")


def claim_name(name: str, container_id: str) -> None:
    """Reserve ``name`` for ``container_id`` atomically (O_EXCL), as docker's name index."""
    from composer.errors import ContainerStateError

    check_name(name)
    os.makedirs(names_root(), exist_ok=True)
    path = os.path.join(names_root(), name)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with open(path) as handle:
            owner = handle.read().strip()
        raise ContainerStateError(
            f'Conflict. The container name "/{name}" is already in use by container "{owner}"',
            hint="remove (or rename) that container to be able to reuse that name", exit_code=125) from None
    with os.fdopen(fd, "w") as handle:
        handle.write(container_id)


def release_name(name: str) -> None:
    """Forget a container name (tolerates absence)."""
    try:
        os.unlink(os.path.join(names_root(), name))
    except FileNotFoundError:
        pass


def find_container(reference: str) -> ContainerDir:
    """The container named ``reference`` or whose id starts with it."""
    from composer.errors import ContainerNotFound, ContainerRuntimeError

    if len(reference) == 64 and reference.isalnum() and os.path.isdir(os.path.join(containers_root(), reference)):
        return ContainerDir(reference)  # a full id (the CLI resolved container:X already): one stat
    name = reference.lstrip("/")
    if name and "/" not in name and not name.startswith("."):
        try:
            with open(os.path.join(names_root(), name)) as handle:
                return ContainerDir(handle.read().strip())
        except (FileNotFoundError, IsADirectoryError):
            pass
    matches = [cid for cid in list_container_ids() if cid.startswith(reference)] if reference.isalnum() else []
    if len(matches) == 1:
        return ContainerDir(matches[0])
    if len(matches) > 1:
        raise ContainerRuntimeError(f"multiple containers match {reference!r}", hint="give more of the id", exit_code=1)
    raise ContainerNotFound(f"No such container: {reference}")
