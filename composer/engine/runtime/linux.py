"""Running a container on the Linux kernel, in the foreground: prepare, fork, wait, clean up.

The caller's process (the CLI) stays the parent: it becomes a child subreaper, forks the
namespace creator (``init.enter_namespaces``), adopts the container's PID 1 when that creator
exits, forwards signals to it, and removes the cgroup (and, with ``--rm``, the state directory)
in ``finally`` blocks. Every mount lives in the container's own mount namespace and vanishes with
it, so no error path can leave a mount behind on the host.
"""

from __future__ import annotations

import gc
import os
import sys
import _signal as signal  # the C module: signal.py's enum classes cost a millisecond at start-up

from composer.engine import object_events
from composer.engine.runtime import capabilities, libc, rootfs, trampoline
from composer.engine.runtime.cgroups import manager_for
from composer.engine.runtime.config import ContainerConfig, Mount
from composer.engine.runtime.etcfiles import write_etc_files
from composer.engine.runtime.init import LaunchPlan, enter_namespaces, fork_container
from composer.engine.runtime.namespaces import clone_flags, open_shared_namespaces, prepare_user_namespace
from composer.engine.runtime.netjoin import (attach_network, check_link_targets, copy_shared_etc_files, detach_network,
                                             link_env, write_bridged_etc_files)
from composer.engine.runtime.record import Record
from composer.engine.runtime.state import (ContainerDir, claim_name, now_iso, process_start_time, release_name,
                                            write_json_atomic)
from composer.errors import ContainerRuntimeError, ProgramExecFailed

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT)


class RunResult(Record):
    """How a foreground container ended."""

    exit_code: int
    oom_killed: bool


def host_cgroup_hierarchies() -> list[tuple[str, str, str]]:
    """The host's cgroup hierarchies, for the container's /sys/fs/cgroup (``rootfs.mount_cgroups``)."""
    with open("/proc/self/mounts") as handle:
        return rootfs.cgroup_hierarchies(handle.read())


def seccomp_program(config: ContainerConfig, cap_mask: int) -> bytes | None:
    """The compiled filter for ``--security-opt seccomp=...`` (None when unconfined)."""
    profile = config.security.seccomp
    if config.security.privileged or profile == "unconfined":
        return None
    from composer.engine.runtime.seccomp import DEFAULT_PROFILE, filter_for

    return filter_for(DEFAULT_PROFILE if profile in ("", "default") else profile, cap_mask)


def resolve_mounts(config: ContainerConfig) -> tuple[list[Mount], list[tuple[str, str]]]:
    """Host sources for every mount (volumes created on first use) and the volumes to pre-fill."""
    resolved, populate = [], []
    store = None
    for mount in config.mounts:
        if mount.type == "bind":
            from composer.engine.runtime.mounts import check_bind_source

            check_bind_source(mount)
        elif mount.type == "volume":
            from composer.engine.volumes import VolumeStore

            store = store or VolumeStore()
            meta = store.ensure(mount.source)  # a volume removed meanwhile comes back empty
            # (mounted first when it has mount options; volume.json read once for all three)
            data = store.attach(mount.source, config.id, meta.get("Options") or {})
            object_events.volume_mounted(mount.source, config.id, mount)
            if not mount.subpath and store.claim_population(mount.source, meta) and not mount.volume_nocopy:
                populate.append((data, mount.target))
                import shutil  # noqa: F401 (the child's copy_tree needs it: under --userns private it
                # runs as a mapped root that may no longer read the host's standard library)
            mount = Mount(type="volume", target=mount.target, source=data,
                          readonly=mount.readonly, propagation=mount.propagation,
                          subpath=mount.subpath)  # bound like a bind
        resolved.append(mount)
    return resolved, populate


def release_volumes(config: ContainerConfig) -> None:
    """The container stopped: its mounted volumes (local driver options) lose a user; the last one
    unmounts them (errors are ignored, as docker does: the next start mounts again)."""
    names = config.volume_names()
    if not names:
        return
    from composer.engine.volumes import VolumeStore
    from composer.errors import ComposerError

    store = VolumeStore()
    for name in names:
        try:
            store.detach(name, config.id)
        except (ComposerError, OSError):
            pass


def create_named_volumes(config: ContainerConfig) -> None:
    """The container's named volumes exist from its creation, as docker makes them (and logs a
    volume ``create`` event for each, made now or before, as dockerd does)."""
    named = config.volume_names(anonymous=False)
    if named:
        from composer.engine.volumes import VolumeStore

        store = VolumeStore()
        for name in named:
            if store.exists(name):
                object_events.volume_event("create", name)
            else:
                store.create(name)


def name_anonymous_volumes(config: ContainerConfig) -> bool:
    """Name and create the container's anonymous volumes (docker does at create, so that they stay
    the same across restarts and ``rm -v`` finds them); whether there were any."""
    anonymous = [mount for mount in config.mounts if mount.type == "volume" and not mount.source]
    if anonymous:
        from composer.engine.volumes import VolumeStore

        store = VolumeStore()
        for mount in anonymous:
            mount.source, mount.anonymous = store.create_anonymous(), True
    return bool(anonymous)


def remove_anonymous_volumes(config: ContainerConfig) -> None:
    """``--rm`` also removes the container's anonymous volumes (as docker does)."""
    anonymous = [m.source for m in config.mounts if m.type == "volume" and m.source and m.anonymous]
    if anonymous:
        from composer.engine.volumes import VolumeStore

        store = VolumeStore()
        for name in anonymous:
            store.remove(name)


def claim_state_dir(config: ContainerConfig, cdir: ContainerDir) -> None:
    """Claim the container's name and make its state directory (the name is released on failure).
    Every create comes here: limits this host cannot apply are dropped, with docker's warnings
    (``config.warnings``, for the caller to show)."""
    if config.security.sysctls:  # a global one would be written into the host's kernel
        from composer.engine.runtime.sysctls import check_sysctls

        check_sysctls(config.security.sysctls, network=config.network, ipc_mode=config.ipc_mode,
                      uts_mode=config.uts_mode, container=config.name)
    if config.device_cgroup_rules:
        from composer.engine.runtime.devicerules import check_device_cgroup_rules

        check_device_cgroup_rules(config.device_cgroup_rules)
    r = config.resources  # limits a host may lack (a stat or two)
    if r.blkio_weight or r.memory or r.memory_swappiness >= 0 or r.oom_kill_disable or r.blkio_throttle:
        from composer.engine.runtime.cgroups import discard_unsupported

        config.warnings = tuple(config.warnings) + tuple(discard_unsupported(config.resources))
    claim_name(config.name, config.id)
    try:
        cdir.create()
    except BaseException:
        release_name(config.name)
        raise


def create_state(config: ContainerConfig, cdir: ContainerDir) -> None:
    """Claim the name, make the state directory, name the anonymous volumes (so that config.json is
    written once, with their names), write config.json and a "created" state.json."""
    claim_state_dir(config, cdir)
    try:
        name_anonymous_volumes(config)
        create_named_volumes(config)
    except BaseException:
        release_name(config.name)
        cdir.remove()
        raise
    write_json_atomic(cdir.config, config.to_dict())
    write_json_atomic(cdir.state, {"Status": "created", "Running": False, "Pid": 0, "ExitCode": 0,
                                   "OOMKilled": False, "Created": now_iso()})


def _single_threaded() -> bool:
    """No other Python thread could fork while our pid namespace is switched for our children."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


NEVER_STARTED = ("StartedAt", "PidStart", "SupervisorPid", "SupervisorStart")


class ForegroundRun:
    """One ``container run`` without ``-d``: owns the child processes and the cleanup."""

    records_start = True  # write the "running" state (False: a supervisor writes its own, once)
    client_attached = False  # our caller's stdio is its (``run_foreground``): dockerd's ``attach`` event
    never_started = NEVER_STARTED  # what a refused start drops from state.json (a launcher keeps its supervisor's)

    def __init__(self, config: ContainerConfig) -> None:
        self.config = config
        self.cdir = ContainerDir(config.id)
        self.cgroup = manager_for(config.id)
        self.pid = 0
        self.console_fd = -1
        self.window_size = b""  # -t on a terminal: its size, given to the pty before the program runs
        self.relay = None  # a callable that copies the pty until the container exits (-t)
        self.created = False
        self.fresh = False  # a state dir made by prepare() (not by ``container create``)
        self.created_at = ""  # when prepare() made it
        self.config_changed = False  # config.json needs writing (always for a fresh state dir)
        self.attached = False
        self.networking = False  # attaching its networks: docker's start (see ``_refused``)
        self.device_rules: tuple[str, ...] = ()
        self._previous_handlers: dict = {}
        self._pending: list[int] = []
        self.was_subreaper = True  # until start() finds out (then restored by cleanup)
        self.warn = None  # a callable given docker's create-time warnings (before the container starts)

    def prepare(self) -> LaunchPlan:
        """Name, state dir, /etc files, seccomp: everything the children need before fork."""
        claim_state_dir(self.config, self.cdir)
        self.created = self.fresh = True
        self.created_at = now_iso()  # (its start is recorded once the network is attached)
        if self.config.warnings and self.warn is not None:
            self.warn(self.config.warnings)
        return self.prepare_launch()

    def prepare_launch(self) -> LaunchPlan:
        """For an existing state dir: volumes, /etc files, capabilities, seccomp."""
        config = self.config
        self.created = True
        self.config_changed = name_anonymous_volumes(config)  # a foreground run's (create named them already)
        resolved, populate = resolve_mounts(config)
        if not write_bridged_etc_files(config, self.cdir.path):
            resolv = None
            if config.dns or config.dns_search or config.dns_options:
                from composer.engine.runtime.etcfiles import host_resolv_conf, resolv_conf_text

                resolv = resolv_conf_text(host_resolv_conf(), config.dns, config.dns_search, config.dns_options)
            write_etc_files(self.cdir.path, config.hostname, config.network, config.extra_hosts, resolv_conf=resolv)
        self.config_changed |= copy_shared_etc_files(config, self.cdir.path)
        devices = [] if config.security.privileged or not config.devices else rootfs.device_nodes(config.devices)
        self.device_rules = tuple(node.cgroup_rule() for node in devices) + tuple(config.device_cgroup_rules)
        mask = capabilities.effective_mask(config.security.cap_add, config.security.cap_drop,
                                           config.security.privileged)
        flags = clone_flags(config)
        return LaunchPlan(config=config, cdir=self.cdir, clone_flags=flags, mounts=resolved, populate=populate,
                          cgroup_files=self.cgroup.self_join_files(), devices=devices, cap_mask=mask,
                          seccomp_bpf=seccomp_program(config, mask), console_fd=self.console_fd, tty=config.tty,
                          window_size=self.window_size, link_env=link_env(config),
                          cgroup_hierarchies=host_cgroup_hierarchies() if flags & libc.CLONE_NEWCGROUP else [])

    def start(self, plan: LaunchPlan) -> None:
        """Fork the namespace creator; while it builds the container: cgroup, config.json, state,
        network; then let it exec and wait for that."""
        try:
            check_link_targets(self.config)
        except ContainerRuntimeError as error:
            self._refused(error, starting=True)
            raise
        self._open_sources(plan)
        error_r, plan.error_fd = os.pipe2(os.O_CLOEXEC)
        pid_r, plan.pid_fd = os.pipe2(os.O_CLOEXEC)
        plan.go_fd, go_w = os.pipe2(os.O_CLOEXEC)
        self.go_w = go_w  # "c" (cgroup made: PID 1 joins it) in _while_building, "1" (go) here
        self.was_subreaper = libc.get_child_subreaper()
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
        self._previous_handlers = {number: signal.signal(number, self._forward) for number in FORWARDED_SIGNALS}
        creator = 0
        if not gc.isenabled():  # container run's start-up (it disabled gc) ends here; a long-lived
            gc.freeze()  # caller (supervisor, build) is never frozen: its garbage would stay for good
            gc.enable()  # the children never scan (and so never copy) the parent's objects
        if plan.userns_fd < 0 and _single_threaded():
            self.pid = fork_container(plan)
        else:
            creator = os.fork()
            if creator == 0:
                enter_namespaces(plan)
        for fd in (plan.error_fd, plan.pid_fd, plan.go_fd, plan.userns_fd, *plan.layer_fds, *plan.mount_fds,
                   *(fd for fd, _ in plan.namespace_fds)):
            if fd >= 0:
                os.close(fd)
        try:
            # Wait until PID 1's namespaces exist: before that, /proc/PID/ns/net is still the
            # host's, and the network would be attached to the host.
            if creator:
                pid_text = os.read(pid_r, 64)
                os.waitpid(creator, 0)
                self.pid = int(pid_text) if pid_text.strip() else 0
                ready = True
            else:
                ready = bool(os.read(pid_r, 64).strip())  # EOF: PID 1 failed, its error follows
            if self.pid and ready:
                try:
                    self._while_building(plan)
                except BaseException as error:
                    self._refused(error, starting=self.networking)
                    raise
                try:
                    os.write(go_w, b"1")
                except BrokenPipeError:
                    pass  # PID 1 failed while we were building: its error is on error_r
                for number in self._pending:  # signals that came before PID 1 existed
                    self._forward(number, None)
            os.close(go_w)
            go_w = -1
            self._check_exec(error_r)
        finally:
            for fd in (error_r, pid_r, go_w):
                if fd >= 0:
                    os.close(fd)

    def _open_sources(self, plan: LaunchPlan) -> None:
        """The fds the children need from the host: other containers' namespaces, pinned volume
        subpaths, the user namespace and its mapped layers (a fresh state dir goes on failure)."""
        try:
            plan.namespace_fds = open_shared_namespaces(self.config)
            if self.config.userns_mode == "private":
                self._map_into_user_namespace(plan)
            elif any(mount.subpath or mount.type == "image" for mount in plan.mounts):
                from composer.engine.runtime.mounts import pin_subpaths

                plan.mount_fds = pin_subpaths(plan.mounts)
        except BaseException:
            for fd, _ in plan.namespace_fds:
                os.close(fd)
            if self.fresh:  # never fully created: nothing stays behind
                self.abort()
            raise

    def _map_into_user_namespace(self, plan: LaunchPlan) -> None:
        """``--userns private``: the namespace, the idmapped layers and the detached mount sources."""
        plan.userns_fd, plan.layer_fds = prepare_user_namespace(self.config, self.cdir)
        try:
            from composer.engine.runtime.mounts import detach_bind_sources

            plan.mount_fds = detach_bind_sources(plan.mounts, plan.userns_fd)
        except BaseException:
            for fd in (plan.userns_fd, *plan.layer_fds):
                os.close(fd)
            raise
        plan.cgroup_files = []  # the mapped root may not write the host's cgroup files: we join it

    def _while_building(self, plan: LaunchPlan) -> None:
        """The parent's part, in parallel with PID 1's mounts: cgroup, config.json, state, network."""
        config = self.config
        self.cgroup.create(config.resources, config.security.privileged, self.device_rules)
        if not plan.cgroup_files:  # else PID 1 joins itself (cheaper)
            self.cgroup.join(self.pid)
        try:
            os.write(self.go_w, b"c")  # PID 1 joins its cgroup and pivots while the network is plugged in
        except BrokenPipeError:
            pass  # PID 1 failed: its error is on error_r
        if self.fresh or self.config_changed:  # else ``create`` wrote it, and nothing changed since
            write_json_atomic(self.cdir.config, config.to_dict())
        self.networking = True  # (docker's start: a refusal from here on leaves the container created)
        self.attached = attach_network(config, self.pid, self.cdir.path) or \
            object_events.predefined_network_event("connect", config)  # (none, host: dockerd's too)
        if self.records_start:  # after the network, as dockerd's start (its event follows the connect)
            self._record_start()

    def _record_start(self) -> None:
        """state.json: running, with PID 1 and us as its keeper (``SupervisorPid``)."""
        started, me = now_iso(), os.getpid()
        state = {"Status": "running", "Running": True, "Pid": self.pid, "PidStart": process_start_time(self.pid),
                 "ExitCode": 0, "OOMKilled": False,
                 "StartedAt": started, "SupervisorPid": me, "SupervisorStart": process_start_time(me)}
        if self.fresh:  # our own new directory: no other writer to lock out yet, nothing to merge
            attached = {"AttachedAt": self.created_at} if self.client_attached else {}  # (docker run: at once)
            write_json_atomic(self.cdir.state, {**state, "Created": self.created_at, **attached})
        else:
            self.cdir.write_state(**state)

    def _check_exec(self, error_r: int) -> None:
        """Block until exec (EOF) or a failure message from the children."""
        chunks = []
        while chunk := os.read(error_r, 4096):
            chunks.append(chunk)
        if not chunks:
            return
        report = b"".join(chunks)
        code, _, message = report.decode(errors="replace").partition(" ")
        exit_code = int(code) if code.isdigit() else 125
        failed = trampoline.failure(report)  # the program's execve failed (docker: "exec PATH: ...", 1)
        if failed:
            exit_code, message = failed
        if self.pid:
            self._reap()
        # docker keeps a container that failed to start as "created"; a program whose execve
        # failed under a supervisor (records_start off) ran: the supervisor records that life
        # (written here, SupervisorPid 0 made the live supervisor look dead to every reader)
        if not self.config.auto_remove and not (failed and not self.records_start):
            self.cdir.write_state(Status="created", Running=False, Pid=0, SupervisorPid=0, ExitCode=exit_code,
                                  Error=message)
        raise (ProgramExecFailed if failed else ContainerRuntimeError)(message, exit_code=exit_code)

    def wait(self) -> RunResult:
        """Forward signals until PID 1 exits; its status as docker reports it."""
        if self.relay is not None:
            self.relay(self.pid)
        status = self._reap()
        code = os.waitstatus_to_exitcode(status)
        exit_code = 128 - code if code < 0 else code
        oom = self.cgroup.oom_killed()
        # also with --rm: readers (``system events``) see the die before the cleanup's disconnect
        self.cdir.write_state(Status="exited", Pid=0, Running=False, ExitCode=exit_code, OOMKilled=oom,
                              FinishedAt=now_iso())
        return RunResult(exit_code=exit_code, oom_killed=oom)

    def _forward(self, number: int, _frame: object) -> None:
        """Pass a signal on to PID 1 (kept for later while it does not exist yet)."""
        if not self.pid:
            self._pending.append(number)
        else:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def _reap(self) -> int:
        """waitpid PID 1 (and any orphan the subreaper adopted); returns PID 1's status."""
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == self.pid:
                self.pid = 0
                return status

    def _refused(self, error: BaseException, starting: bool) -> None:
        """``starting``: docker's start was refused (a link, a network's refusal, a port taken):
        the container stays "created" with the error and exit code 128, unless it goes with
        ``--rm``. Else (docker's create errors: limits, an interruption) a fresh one goes."""
        from composer.errors import ComposerError

        if self.config.auto_remove or not starting or not isinstance(error, ComposerError):
            if self.fresh:
                self.abort()
            return
        if self.fresh and not os.path.exists(self.cdir.config):
            write_json_atomic(self.cdir.config, self.config.to_dict())
        with self.cdir.lock():  # (a fresh one's "running" record goes: it never started)
            previous = self.cdir.read_state()
            if previous.get("Status") == "restarting":  # a restarted life: its supervisor records the refusal
                return
            state = {key: value for key, value in previous.items() if key not in self.never_started}
            state.update(Status="created", Running=False, Pid=0, ExitCode=128, Error=getattr(error, "message", str(error)))
            write_json_atomic(self.cdir.state, {"Created": now_iso(), **state})

    def abort(self) -> None:
        """Undo a failed ``prepare``: nothing half-created stays behind, even without ``--rm``."""
        self.config.auto_remove = True

    def cleanup(self) -> None:
        """Kill what is left, remove the cgroup, and the state dir with ``--rm``."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                self._reap()
            except (ProcessLookupError, ChildProcessError):
                pass
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        if not self.was_subreaper:
            libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 0)
        if not self.created:
            return
        try:
            if self.attached and not object_events.predefined_network_event("disconnect", self.config):
                detach_network(self.config)
            if self.config.pid_mode:  # PID 1 was no namespace's init: what it left runs on (runc kills it)
                self.cgroup.kill_all()
            self.cgroup.remove()
        finally:
            object_events.volumes_unmounted(self.config)
            release_volumes(self.config)
            if self.config.auto_remove:
                release_name(self.config.name)
                self.cdir.remove()
                remove_anonymous_volumes(self.config)


def run_foreground(config: ContainerConfig, prepare_io=None) -> RunResult:
    """Run ``config`` to completion; ``prepare_io(run)`` may set ``run.console_fd``/``run.relay``."""
    run = ForegroundRun(config)
    run.client_attached = True
    try:
        if prepare_io is not None:
            prepare_io(run)
        try:
            plan = run.prepare()
        except BaseException:
            run.abort()
            raise
        run.start(plan)
        return run.wait()
    finally:
        run.cleanup()
