"""The container lifecycle API (docker's verbs) over the state on disk and the supervisors.

There is no daemon: every function reads ``state_root()/containers/<id>/`` (under its flock),
signals the container's processes or its supervisor, and waits for state changes with inotify.
``current_state`` reconciles a container whose supervisor died (SIGKILL, reboot): it becomes
"exited" and what it held on the host (cgroup, network endpoint) is released.
"""

from __future__ import annotations

import os
import _signal as signals  # the C module: signal.py's enums (enum's import) are not needed
TYPE_CHECKING = False  # typing stays off the exec/stop paths
if TYPE_CHECKING:
    from typing import Callable, Iterator

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.describe import (ContainerInfo, container_sizes, info_from, inspect_dict,
                                              legacy_links, network_settings)
from composer.engine.runtime.logs import LogLine, log_path
from composer.engine.runtime.state import (ContainerDir, find_container, list_container_ids, now_iso, signal_process,
                                           supervisor_alive, write_json_atomic)
from composer.engine.runtime.watch import wait_until
from composer.errors import ContainerRuntimeError, ContainerStateError, UsageError

LIVE = ("running", "paused", "restarting")
DEFAULT_STOP_TIMEOUT = 10.0

__all__ = ["ContainerInfo", "LogLine", "create", "start", "stop", "kill", "restart", "pause", "unpause",
           "remove", "remove_link", "wait", "list_containers", "resolve", "inspect", "read_logs",
           "wait_health_change", "current_state", "rename", "recoverable", "attachable", "require_live",
           "run"]  # exec_in, attach, run_attached: sessions.py


def _config(cdir: ContainerDir) -> ContainerConfig:
    return ContainerConfig.from_dict(cdir.read_config())


def current_state(cdir: ContainerDir, state: dict | None = None) -> dict:
    """state.json (``state``: as just read or written), with a dead supervisor's container turned
    "exited" and its leftovers released."""
    if state is None:
        state = cdir.read_state()
    if state.get("Status") not in LIVE or supervisor_alive(state):
        return state
    with cdir.lock():
        state = cdir.read_state()
        if state.get("Status") not in LIVE or supervisor_alive(state):
            return state
        _release_host_resources(_config(cdir))
        state.update(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0, SupervisorPid=0,
                     ExitCode=137 if state.get("Status") != "restarting" else state.get("ExitCode", 0),
                     FinishedAt=now_iso(), Error="the container's supervisor died")
        if state.get("Health"):
            state["Health"]["Status"] = "unhealthy"
        write_json_atomic(cdir.state, state)
    return state


def _detach_networks(config: ContainerConfig) -> None:
    """Give back the container's network endpoints (none left: nothing), recording each disconnect."""
    from composer.engine.runtime.netjoin import detach_network, network_joins
    from composer.errors import ComposerError

    if network_joins(config):
        try:
            detach_network(config)
        except (ComposerError, OSError):
            pass


def _release_host_resources(config: ContainerConfig, networks: bool = True) -> None:
    """Kill what is left in the cgroup, remove it, give back the network endpoint (``networks``:
    unless the caller did) and the container's share of mounted volumes."""
    from composer.engine.runtime.cgroups import manager_for
    from composer.errors import ComposerError

    cgroup = manager_for(config.id)
    try:
        cgroup.freeze(False)
    except (ComposerError, OSError):
        pass
    cgroup.kill_all()
    try:
        cgroup.remove()
    except ComposerError:
        pass
    if networks:
        _detach_networks(config)
    from composer.engine.runtime.linux import release_volumes

    release_volumes(config)


# --- create, start, stop ----------------------------------------------------------------------
def create(config: ContainerConfig, *, attached: bool = False) -> str:
    """Make the container's state directory (status "created"); returns its id. ``attached``: a
    client attaches at once (``run -it``): dockerd's ``attach`` event, recorded in the same write."""
    from composer.engine.runtime.linux import create_state

    if config.log_driver not in ("json-file", "none", "local"):
        raise UsageError(f"log driver {config.log_driver!r} is not supported", hint="use json-file or none")
    for mount in config.mounts:  # as dockerd: a --mount bind's missing source refuses the create
        if mount.type == "bind" and not mount.create_source and not os.path.exists(mount.source):
            from composer.engine.runtime.mounts import check_bind_source

            check_bind_source(mount)
    cdir = ContainerDir(config.id)
    create_state(config, cdir)  # (names the anonymous volumes before writing config.json)
    cdir.write_state(LogPath=log_path(cdir.path, config.id) if config.log_driver != "none" else "",
                     **({"AttachedAt": now_iso()} if attached else {}))
    return config.id


def start(container_id: str, *, attach: bool = False, client_attached: bool = False):
    """Start a created or exited container under a new supervisor; returns once PID 1 runs.

    With ``attach`` (a ``-t``/``-i`` container) the connection to its attach socket is returned,
    made before the container's first output (for ``attach(connection=...)``).
    ``client_attached``: a client follows it (``start -a``, compose ``run``): dockerd's ``attach``
    event, before its start.
    """
    from composer.engine.runtime.zygote import spawn

    cdir = ContainerDir(container_id)
    state = current_state(cdir)
    if state.get("Status") in LIVE:
        return None
    _give_up_prepared(cdir, state)  # a start held by another command (prepare_start): this one starts it
    if supervisor_alive(state):  # the last one's cleanup (else no watch, no second read)
        wait_until(cdir.path, lambda: not supervisor_alive(cdir.read_state()), timeout=30)
    reset = {"ManuallyStopped": False, "KeepOnExit": False, "Error": ""} if (
        state.get("ManuallyStopped") or state.get("KeepOnExit") or state.get("Error")) else {}  # (a new container: none)
    if reset or client_attached:
        cdir.write_state(**reset, **({"AttachedAt": now_iso()} if client_attached else {}))
    try:
        return spawn(container_id, attach=attach and attachable(container_id))
    except ContainerRuntimeError as error:
        try:
            state = cdir.read_state()
            if not state.get("Error"):  # ``wait`` on a created container stops at an Error
                # (docker's exit code of a container whose start was refused: 128)
                cdir.write_state(Error=error.message, **({"ExitCode": 128} if state.get("Status") == "created" else {}))
        except FileNotFoundError:
            pass  # a --rm container its supervisor has removed already
        raise


def mark_attached(container_id: str) -> None:
    """A client attaches to the running container (``attach``): dockerd's ``attach`` event."""
    ContainerDir(container_id).write_state(AttachedAt=now_iso())


def prepare_start(container_id: str):
    """Everything of ``start`` but the program's exec, done now (PID 1 built in its namespaces,
    cgroup, network plugged in); the ``PreparedStart`` whose ``go()`` execs it (returning once
    it runs, or raising as ``start``) and whose ``abandon()`` leaves the container as it was.
    A container that runs already, has its own user namespace or a supervisor still leaving
    is not held: its ``go()`` is ``start``. A refused preparation is raised by ``go()``."""
    from composer.engine.runtime.prepared import PreparedStart
    from composer.engine.runtime.zygote import read_answer
    from composer.engine.runtime.zygote import request

    cdir = ContainerDir(container_id)
    state = current_state(cdir)
    if state.get("Status") in LIVE or supervisor_alive(state) or _config(cdir).userns_mode == "private":
        return PreparedStart(container_id)
    before = {"files": os.listdir(cdir.path), "state": state}
    if state.get("ManuallyStopped") or state.get("KeepOnExit") or state.get("Error"):
        cdir.write_state(ManuallyStopped=False, KeepOnExit=False, Error="")  # as start's
    handle = PreparedStart(container_id, request(container_id + " prepare"), before)
    try:
        read_answer(handle.connection, prepared=True)
    except ContainerRuntimeError as error:  # refused (as a start would be): go() raises it
        handle.connection.close()
        handle.connection, handle.failure = None, error
    except BaseException:
        handle.abandon()
        raise
    return handle


def run(config: ContainerConfig, *, attach: bool = False):
    """``run``: create and start (``start``'s connection with ``attach``); a ``--rm`` container
    whose start failed is removed."""
    create(config, attached=attach)
    try:
        return start(config.id, attach=attach)
    except BaseException:
        if config.auto_remove:
            remove(config.id, force=True, volumes=True)
        raise


def _signal_pid1(cdir: ContainerDir, state: dict, signal: int) -> None:
    signal_process(state.get("Pid") or 0, signal, state.get("PidStart", ""))


def _not_live(cdir: ContainerDir) -> dict | None:
    state = current_state(cdir)
    return None if state.get("Status") in LIVE else state


def stop(container_id: str, timeout: float | None = None, signal: str | int | None = None) -> None:
    """The stop signal (``signal``, else the container's), then SIGKILL after ``timeout`` seconds
    (config's stop_timeout, else 10)."""
    cdir = ContainerDir(container_id)
    config = _config(cdir)
    number = signal_number(config.stop_signal if signal is None else signal)
    stamp = now_iso()  # for ``events``: "kill" with the signal, then "stop" after "die" (no extra write)
    state = current_state(cdir, cdir.write_state(ManuallyStopped=True, StopRequestedAt=stamp,
                                                 LastSignal=number, SignalledAt=stamp))
    if state.get("Status") not in LIVE:
        return
    if timeout is None:
        timeout = DEFAULT_STOP_TIMEOUT if config.stop_timeout is None else config.stop_timeout
    if state.get("Status") == "restarting":
        _wake_supervisor(state)
    else:
        _signal_pid1(cdir, state, number)
        if state.get("Status") == "paused":
            _thaw(container_id)
    if timeout >= 0 and wait_until(cdir.path, lambda: _not_live(cdir), timeout):
        return
    kill(container_id, "SIGKILL", missing_ok=True)
    wait_until(cdir.path, lambda: _not_live(cdir))


def _wake_supervisor(state: dict) -> None:
    try:
        signal_process(state.get("SupervisorPid") or 0, signals.SIGUSR1, state.get("SupervisorStart", ""))
    except PermissionError:
        pass


def signal_number(name: str | int) -> int:
    """dockerd's reading of a signal (moby's ``ParseSignal``): ``SIGTERM``, ``TERM``, ``15`` ->
    15, ``RTMIN+3`` -> 37; 0 or an unknown name is ``Invalid signal: X`` (refused before the
    container is looked up). A number is taken as it is: ``check_signal`` says if Linux has it."""
    text = str(name).upper()
    text = text[3:] if text.startswith("SIG") else text
    if text.lstrip("-").isdigit():
        if int(text) != 0:
            return int(text)
    elif text in SIGNAL_NAMES:
        return int(getattr(signals, "SIG" + text))
    else:
        base, sign, offset = text.partition("+") if "+" in text else text.partition("-")
        if base in ("RTMIN", "RTMAX") and sign == ("+" if base == "RTMIN" else "-") and offset.isdigit() and (
                0 < int(offset) <= 15 if base == "RTMIN" else 0 < int(offset) <= 14):
            return signals.SIGRTMIN + int(offset) if base == "RTMIN" else signals.SIGRTMAX - int(offset)
    raise UsageError(f"Invalid signal: {name}")


SIGNAL_NAMES = frozenset(n[3:] for n in dir(signals) if n.startswith("SIG") and not n.startswith("SIG_"))


def check_signal(number: int) -> None:
    """dockerd's ValidSignalForPlatform: Linux's signals 1-31 and the real-time ones 34-64 (what
    ``docker kill`` refuses after finding the container)."""
    if not (1 <= number <= 31 or signals.SIGRTMIN <= number <= signals.SIGRTMAX):
        raise ContainerRuntimeError(f"The linux daemon does not support signal {number % 2**64}", exit_code=1)


def kill(container_id: str, signal: str = "SIGKILL", *, missing_ok: bool = False) -> None:
    """Send ``signal`` to PID 1 (the stop signal or SIGKILL also counts as a manual stop)."""
    number = signal_number(signal)
    cdir = ContainerDir(container_id)
    config = _config(cdir)
    check_signal(number)
    state = current_state(cdir)
    if state.get("Status") not in LIVE:
        if missing_ok:
            return
        raise ContainerStateError(f"Container {container_id} is not running")  # the CLI names the verb
    manual = {"ManuallyStopped": True} if number in (signals.SIGKILL, signal_number(config.stop_signal)) else {}
    state = cdir.write_state(LastSignal=number, SignalledAt=now_iso(), **manual)  # ``events``: "kill"
    if state.get("Status") == "restarting":
        _wake_supervisor(state)
        return
    _signal_pid1(cdir, state, number)
    if number == signals.SIGKILL and state.get("Status") == "paused":
        _thaw(container_id)


def restart(container_id: str, timeout: float | None = None, signal: str | int | None = None) -> None:
    """stop (with ``signal`` instead of the stop signal), then start; a ``--rm`` container is kept
    for its new start, as docker's restart does."""
    if current_state(ContainerDir(container_id)).get("Status") in LIVE:
        ContainerDir(container_id).write_state(KeepOnExit=True)
    stop(container_id, timeout, signal)
    start(container_id)
    from composer.engine.journal import mark_restart

    mark_restart(container_id)  # once started: ``events`` reports the restart


def _thaw(container_id: str) -> None:
    from composer.engine.runtime.cgroups import manager_for

    manager_for(container_id).freeze(False)


def pause(container_id: str) -> None:
    """Freeze every process of the container (freezer cgroup)."""
    from composer.engine.runtime.cgroups import manager_for

    cdir = ContainerDir(container_id)
    state = current_state(cdir)
    if state.get("Status") != "running":
        word = "already paused" if state.get("Status") == "paused" else "not running"
        raise ContainerStateError(f"Container {container_id} is {word}")
    manager_for(container_id).freeze(True)
    cdir.write_state(Status="paused", Paused=True)


def unpause(container_id: str) -> None:
    """Thaw a paused container."""
    cdir = ContainerDir(container_id)
    if current_state(cdir).get("Status") != "paused":
        raise ContainerStateError(f"Container {container_id} is not paused")
    _thaw(container_id)
    cdir.write_state(Status="running", Paused=False)


def remove(container_id: str, force: bool = False, volumes: bool = False) -> None:
    """Remove the container and everything it holds (``force`` kills it first).

    Exclusive with a ``start``: the decision is taken again under the mount lock (which a
    starting supervisor holds until PID 1 runs) and the state lock (under which it records
    itself), and the directory is renamed away before either is released. A start that got in
    first makes a plain ``rm`` refuse (the container runs); one that comes later finds no
    container."""
    from composer.engine.runtime.linux import remove_anonymous_volumes
    from composer.engine.runtime.state import release_name

    cdir = ContainerDir(container_id)
    try:
        config = _config(cdir)
    except FileNotFoundError:
        return  # removed meanwhile (by its supervisor, for --rm)
    for _attempt in range(3):  # rm -f: a start that came in meanwhile is killed too
        state = current_state(cdir)
        if state.get("Status") in LIVE:
            _refuse_unless_forced(config, state["Status"], force)
            kill(container_id, "SIGKILL", missing_ok=True)
        _give_up_prepared(cdir, state)
        wait_until(cdir.path, lambda: _settled(cdir.read_state(), force), timeout=30)
        _detach_networks(config)  # before the destroy is recorded: dockerd's disconnect comes first
        try:
            if _remove_if_settled(cdir, config, force):
                break
        except FileNotFoundError:
            return  # removed meanwhile
    else:
        raise ContainerStateError(f"cannot remove container \"/{config.name}\": it was started again meanwhile",
                                  hint="stop whatever starts it, then remove it")
    _release_host_resources(config, networks=False)  # (given back before the removal)
    if volumes:
        remove_anonymous_volumes(config)
    release_name(config.name)
    _finish_killed_removals()


def _finish_killed_removals() -> None:
    """What removers killed half-way left in ``removing/``: swept once per command
    (``removing.sweep_once``), not once per container a ``down`` or ``prune`` removes."""
    from composer.engine.runtime.removing import sweep_once

    sweep_once()


def _refuse_unless_forced(config: ContainerConfig, status: str, force: bool) -> None:
    if not force:
        raise ContainerStateError(f"cannot remove container \"/{config.name}\": container is {status}",
                                  hint="stop the container before removing or force remove")


def _settled(state: dict, force: bool) -> bool:
    """No supervisor (the last one's cleanup is over); without ``force``, also one whose start
    made the container live (the rm is refused)."""
    return not supervisor_alive(state) or (not force and state.get("Status") in LIVE)


def _remove_if_settled(cdir: ContainerDir, config: ContainerConfig, force: bool) -> bool:
    """Under the mount and state locks: the directory renamed away and deleted, unless a start
    got in (False with ``force``: kill it and try again). A copy of the stopped container holds
    the mount lock: the removal waits for its end (``mount_locked``)."""
    from composer.engine.runtime.state import mount_locked

    with mount_locked(cdir, "a copy", hint="remove it again once the copy is done"), cdir.lock():
        state = cdir.read_state()
        if state.get("Status") in LIVE or supervisor_alive(state):
            _refuse_unless_forced(config, "running" if state.get("Status") == "created" else state["Status"], force)
            return False
        cdir.remove()
    return True


def _give_up_prepared(cdir: ContainerDir, state: dict) -> None:
    """A created container whose prepared start is held (``prepare_start``): its supervisor is
    killed, and its launcher gives everything back (as ``abandon``) before the removal goes on."""
    if state.get("Status") != "created" or not state.get("Prepared") or not supervisor_alive(state):
        return
    signal_process(state.get("SupervisorPid") or 0, signals.SIGKILL, state.get("SupervisorStart", ""))
    wait_until(cdir.path, lambda: not cdir.read_state().get("Prepared"), timeout=10)


def rename(container_id: str, new_name: str) -> None:
    """Give the container another name."""
    from composer.engine.runtime.state import claim_name, release_name, write_json_atomic

    cdir = ContainerDir(container_id)
    with cdir.lock():
        config = cdir.read_config()
        claim_name(new_name, container_id)
        old, config["name"] = config["name"], new_name
        write_json_atomic(cdir.config, config)
        release_name(old)
    if current_state(cdir).get("Status") in LIVE:
        _rename_endpoints(container_id, new_name)


def _rename_endpoints(container_id: str, new_name: str) -> None:
    """A running container answers to its new name on its networks (the DNS server re-reads them)."""
    from composer.network.manager import NetworkManager

    manager = NetworkManager(dns=False)
    with manager.store.locked():
        for net, endpoint in manager.endpoints_of(container_id):
            if endpoint.name:
                endpoint.name = new_name
                manager.store.save(net)


def remove_link(reference: str) -> None:
    """``rm --link /PARENT/ALIAS``: the parent container forgets that link (docker's legacy links)."""
    from composer.errors import ContainerNotFound

    parent, _, alias = reference.strip("/").rpartition("/")
    if not parent:
        resolve(alias)  # a container's own name: docker refuses it (else: no such container)
        raise ContainerStateError("Conflict, cannot remove the default link name of the container")
    cdir = ContainerDir(resolve(parent))
    with cdir.lock():
        config = cdir.read_config()
        found = [link for link in legacy_links(config) if link.partition(":")[2] == alias]
        if not found:
            raise ContainerNotFound(f"No such container: {reference}")
        for endpoint in config["endpoints"]:
            endpoint["links"] = [link for link in endpoint.get("links") or () if link not in found]
        write_json_atomic(cdir.config, config)


def wait(container_id: str, condition: str = "not-running", timeout: float | None = None) -> int | None:
    """Block until the container is not running (or its next exit, or removed); its exit code
    (None once ``timeout`` seconds passed first). A created container is not running (0)."""
    cdir = ContainerDir(container_id)
    if condition == "removed":
        last = {"code": 0}

        def gone() -> bool:
            if not os.path.exists(cdir.path):
                return True
            last["code"] = current_state(cdir).get("ExitCode", 0)
            return False

        return last["code"] if wait_until(os.path.dirname(cdir.path), gone, timeout) else None
    if condition == "next-exit":
        finished = cdir.read_state().get("FinishedAt")
        state = wait_until(cdir.path, lambda: (s := current_state(cdir)).get("FinishedAt") != finished and s, timeout)
    elif condition == "not-running":
        state = wait_until(cdir.path, lambda: _ended(cdir), timeout)
    else:
        raise UsageError(f"invalid condition {condition!r}", hint="use not-running, next-exit or removed")
    return None if state is None else state.get("ExitCode", 0)


def _ended(cdir: ContainerDir) -> dict | None:
    """The state once the container is not running: a created one counts (docker's condition
    not-running returns its exit code at once), and so does one removed meanwhile."""
    state = _not_live(cdir)
    if state is None:
        return None
    return state or {"Status": "removed", "ExitCode": 0}


def prune(selected: Callable[[ContainerInfo], bool] | None = None) -> tuple[list[str], int]:
    """Remove every stopped container (created, exited, dead) that ``selected`` (prune's filters)
    keeps; the ids removed and the bytes their layers held (docker's ``SpaceReclaimed``)."""
    removed, reclaimed = [], 0
    for info in list_containers(all=True):
        if info.state in ("exited", "created", "dead") and (selected is None or selected(info)):
            try:
                reclaimed += container_sizes(ContainerDir(info.id).read_config())[0]
            except FileNotFoundError:
                continue  # removed meanwhile
            remove(info.id)
            removed.append(info.id)
    _finish_killed_removals()  # also when no container was removed
    return removed, reclaimed


# --- reading ----------------------------------------------------------------------------------
def resolve(name_or_id_prefix: str) -> str:
    """The id of the container with that name, id or unique id prefix (ContainerNotFound)."""
    return find_container(name_or_id_prefix).id


def list_containers(all: bool = True, labels: dict | None = None, describe=info_from) -> list:  # noqa: A002
    """Every container (only running ones unless ``all``; with ``labels``, a label filter as the
    engine's, only those matching, the others' state unread), oldest first, each as
    ``describe(config, state)`` (a ContainerInfo by default)."""
    if labels:
        from composer.engine.runtime.base import matches
    infos = []
    for container_id in list_container_ids():
        cdir = ContainerDir(container_id)
        try:
            config = cdir.read_config()
            if labels and not matches(config.get("labels") or {}, labels):
                continue
            state = current_state(cdir)
            info = describe(config, state)
        except (OSError, ValueError, KeyError):
            continue  # being created or removed right now
        if all or state.get("Status", "created") in LIVE:
            infos.append(info)
    return sorted(infos, key=lambda i: i.created)


def inspect(container_id: str, size: bool = False) -> dict:
    """docker's ``container inspect`` JSON of one container (``size``: with SizeRw and SizeRootFs)."""
    cdir = ContainerDir(container_id)
    try:
        config, state = cdir.read_config(), current_state(cdir)
    except FileNotFoundError:
        from composer.errors import ContainerNotFound

        raise ContainerNotFound(f"No such container: {container_id}") from None
    info = inspect_dict(config, state, sizes=container_sizes(config) if size else None)
    info["NetworkSettings"] = network_settings(config, state, _endpoints(container_id, state))
    return info


def _endpoints(container_id: str, state: dict) -> list:
    """The running container's (network, endpoint) pairs; none when it is not running."""
    if state.get("Status") not in LIVE:
        return []
    from composer.network.manager import NetworkManager

    return NetworkManager(dns=False).endpoints_of(container_id)


def running_pid(container_id: str) -> int:
    """PID 1 of a running container (ContainerStateError otherwise)."""
    state = current_state(ContainerDir(container_id))
    if state.get("Status") == "paused":
        raise ContainerStateError(f"Container {container_id} is paused, unpause the container before exec")
    if state.get("Status") != "running" or not state.get("Pid"):
        raise ContainerStateError(f"Container {container_id} is not running")
    return state["Pid"]


def require_live(container_id: str) -> None:
    """Attaching needs a running (or paused, restarting) container: docker's refusal otherwise."""
    if current_state(ContainerDir(container_id)).get("Status") not in LIVE:
        raise ContainerStateError("You cannot attach to a stopped container, start it first")


def attachable(container_id: str) -> bool:
    """Whether the container has an attach socket (run with -t or -i)."""
    config = _config(ContainerDir(container_id))
    return config.tty or config.stdin


def read_logs(container_id: str, *, follow: bool = False, tail: int | None = None, since: float | None = None,
              until: float | None = None, timestamps: bool = False, stdout: bool = True,
              stderr: bool = True) -> Iterator[LogLine]:
    """The container's log lines (``follow``: then new ones, until the container stops)."""
    for stream, stamp, text in read_logs_raw(container_id, follow=follow, tail=tail, since=since, until=until,
                                             stdout=stdout, stderr=stderr):
        yield LogLine(stream=stream, time=stamp, text=text.decode("utf-8", "replace"))


def read_logs_bulk(container_id: str) -> Iterator[tuple[str, bytes]]:
    """All of the log as (stream, bytes) batches: ``logs`` without options, at disk speed."""
    from composer.engine.runtime.logreader import bulk

    _check_log_driver(ContainerDir(container_id))
    return bulk(log_path(ContainerDir(container_id).path, container_id))


def _check_log_driver(cdir: ContainerDir) -> None:
    if _config(cdir).log_driver == "none":
        raise ContainerRuntimeError('configured logging driver does not support reading',
                                    hint='the container runs with --log-driver none', exit_code=1)


def read_logs_raw(container_id: str, *, follow: bool = False, tail: int | None = None,
                  since: float | None = None, until: float | None = None, stdout: bool = True,
                  stderr: bool = True) -> Iterator[tuple[str, str, bytes]]:
    """``read_logs`` as (stream, time, text bytes) tuples: the CLI's fast path (tens of MB/s)."""
    from composer.engine.runtime.logreader import iter_logs

    cdir = ContainerDir(container_id)
    _check_log_driver(cdir)
    streams = {s for s, wanted in (("stdout", stdout), ("stderr", stderr)) if wanted}
    return iter_logs(cdir, log_path(cdir.path, container_id), streams=streams, follow=follow, tail=tail,
                     since=since, until=until, running=lambda: current_state(cdir).get("Status") in LIVE)


def status_key(cdir: ContainerDir) -> str:
    """The container's health while it runs with a healthcheck, else its state."""
    state = current_state(cdir)
    health = (state.get("Health") or {}).get("Status")
    return health if state.get("Status") == "running" and health else state.get("Status", "created")


def wait_health_change(container_id: str, last: str, timeout: float) -> str:
    """Block (inotify) until ``status_key`` differs from ``last`` or ``timeout``; the key now."""
    cdir = ContainerDir(container_id)
    changed = wait_until(cdir.path, lambda: (key := status_key(cdir)) != last and key, timeout)
    return changed or status_key(cdir)


def recoverable() -> list[str]:
    """Containers a boot must bring back: ``always``, and ``unless-stopped`` unless stopped by hand."""
    found = []
    for info in list_containers(all=True):
        cdir = ContainerDir(info.id)
        policy = (cdir.read_config().get("restart_policy") or {}).get("Name", "no")
        stopped = cdir.read_state().get("ManuallyStopped")
        if info.state == "exited" and (policy == "always" or (policy == "unless-stopped" and not stopped)):
            found.append(info.id)
    return found
