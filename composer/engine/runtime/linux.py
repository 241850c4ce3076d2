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

from composer.engine.runtime import capabilities, libc, rootfs, trampoline
from composer.engine.runtime.cgroups import manager_for
from composer.engine.runtime.config import ContainerConfig, Mount
from composer.engine.runtime.etcfiles import write_etc_files
from composer.engine.runtime.init import LaunchPlan, enter_namespaces, fork_container
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


def network_joins(config: ContainerConfig) -> list[tuple[str, dict]]:
    """(network, join options) for ``config.network`` (unless none/host/private) and each endpoint;
    an endpoint naming ``config.network`` gives that first join its options (``--network-alias``)."""
    joins: list[tuple[str, dict]] = []
    if config.network not in ("none", "host", "private") and not config.network.startswith("container:"):
        joins.append(("bridge" if config.network == "default" else config.network, {}))
    for endpoint in config.endpoints:
        options = {"aliases": endpoint.aliases, "ipv4": endpoint.ipv4_address or None,
                   "ipv6": endpoint.ipv6_address or None, "mac": endpoint.mac_address or None,
                   "links": endpoint.links, "link_local_ips": endpoint.link_local_ips,
                   "ifname": endpoint.interface_name or None}
        if joins and endpoint.network == joins[0][0] and not joins[0][1]:
            joins[0] = (endpoint.network, options)
        else:
            joins.append((endpoint.network, options))
    return joins


def attach_network(config: ContainerConfig, pid: int, directory: str) -> bool:
    """THE networking seam: plug the container whose PID 1 is ``pid`` into its networks.

    Called once the container's network namespace exists (``/proc/<pid>/ns/net``) and before its
    entrypoint runs. none/host/private (loopback only) need nothing; any other ``config.network``
    (``bridge`` = the default network) and every ``config.endpoints`` entry is joined through
    ``composer.network`` (published ports on the first), and the container's hosts and
    resolv.conf in ``directory`` are rewritten in place (they are bind-mounted already).
    Returns True when an endpoint was made (``detach_network`` undoes it).
    """
    joins = network_joins(config)
    if not joins:
        return False
    from composer.network.manager import NetworkManager
    from composer.network.ports import parse_publish
    from composer.network.resolvconf import link_lines, render_hosts, render_resolv_conf

    manager = NetworkManager()
    ports = [binding for spec in config.publish for binding in parse_publish(spec)]
    attached = [manager.join(name, config.id, pid, name=config.name, ports=ports if index == 0 else (),
                             dns=config.dns, **options) for index, (name, options) in enumerate(joins)]
    networks = [net for net, _ep in attached]
    hosts = render_hosts(config.hostname, [attached[0][1].ipv4], extra_hosts=config.extra_hosts,
                         host_gateway=networks[0].gateway, links=link_lines(*attached[0]))
    resolv = render_resolv_conf(networks, dns=config.dns, dns_search=config.dns_search,
                                dns_options=config.dns_options)
    for name, text in (("hosts", hosts), ("resolv.conf", resolv)):
        with open(os.path.join(directory, name), "w") as handle:  # in place: the bind mount follows
            handle.write(text)
    return True


def write_bridged_etc_files(config: ContainerConfig, directory: str) -> bool:
    """For a container that ``attach_network`` will plug in: its hostname, and empty hosts and
    resolv.conf to bind-mount (attach_network writes them once the address is known); False for
    the other network modes (``write_etc_files`` then writes all three)."""
    if not network_joins(config):
        return False
    with open(os.path.join(directory, "hostname"), "w") as handle:
        handle.write(config.hostname + "\n")
    for name in ("hosts", "resolv.conf"):
        open(os.path.join(directory, name), "w").close()
    return True


def detach_network(config: ContainerConfig) -> None:
    """Release the container's endpoints (their veths went with the namespace)."""
    from composer.network.manager import NetworkManager

    manager = NetworkManager()
    for name, _ in network_joins(config):
        manager.disconnect(name, config.id, force=True)


def _shares(mode: str) -> bool:
    """True for a namespace mode that does not make a namespace of its own (host, container:X)."""
    return mode == "host" or mode.startswith("container:")


def clone_flags(config: ContainerConfig) -> int:
    """The namespaces to unshare for ``config``."""
    flags = libc.CLONE_NEWNS
    for flag, mode in ((libc.CLONE_NEWPID, config.pid_mode), (libc.CLONE_NEWCGROUP, config.cgroupns_mode),
                       (libc.CLONE_NEWUTS, config.uts_mode), (libc.CLONE_NEWIPC, config.ipc_mode),
                       (libc.CLONE_NEWNET, config.network)):
        if not _shares(mode):
            flags |= flag
    return flags


def host_cgroup_hierarchies() -> list[tuple[str, str, str]]:
    """The host's cgroup hierarchies, for the container's /sys/fs/cgroup (``rootfs.mount_cgroups``)."""
    with open("/proc/self/mounts") as handle:
        return rootfs.cgroup_hierarchies(handle.read())


def open_shared_namespaces(config: ContainerConfig) -> list[tuple[int, int]]:
    """(fd, type) of the namespaces that ``container:X`` modes join: X's PID 1's, in setns order."""
    wanted = [(mode.partition(":")[2], name, flag) for mode, name, flag in (
        (config.ipc_mode, "ipc", libc.CLONE_NEWIPC), (config.network, "net", libc.CLONE_NEWNET),
        (config.pid_mode, "pid", libc.CLONE_NEWPID)) if mode.startswith("container:")]
    if not wanted:
        return []
    if wanted[0][1] == "ipc":  # and its mount namespace, where the child copies /dev/shm from
        wanted.insert(1, (wanted[0][0], "mnt", libc.CLONE_NEWNS))
    from composer.engine.runtime.containers import resolve, running_pid

    fds: list[tuple[int, int]] = []
    try:
        for target, name, flag in wanted:
            target_id = resolve(target)  # compose gives names, the CLI ids
            pid = running_pid(target_id)
            if name == "ipc":  # (checked here only: at start, as docker does)
                check_ipc_donor(target_id)
            try:
                fds.append((os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag))
            except OSError as error:
                raise ContainerRuntimeError(f"cannot join the {name} namespace of container {target}: "
                                            f"{error.strerror}") from None
    except BaseException:
        for fd, _ in fds:
            os.close(fd)
        raise
    return fds


def check_ipc_donor(container_id: str) -> None:
    """docker's rule for ``--ipc container:X``: X's IPC namespace is given away only when X was
    made ``shareable`` (or uses the host's, or another shareable one); private is private."""
    mode = ContainerDir(container_id).read_config().get("ipc_mode") or ""
    if mode not in ("shareable", "host") and not mode.startswith("container:"):
        raise ContainerRuntimeError(f"container {container_id}: non-shareable IPC",
                                    hint="use IpcMode:shareable for the donor container "
                                         "(run it with --ipc shareable, or compose ipc: shareable)")


def copy_shared_etc_files(config: ContainerConfig, directory: str) -> bool:
    """``--network container:X`` also takes X's hostname, hosts and resolv.conf (as docker does);
    whether that changed ``config.hostname``."""
    if not config.network.startswith("container:"):
        return False
    from composer.engine.runtime.containers import resolve

    source = ContainerDir(resolve(config.network.partition(":")[2]))
    own, config.hostname = config.hostname, source.read_config().get("hostname") or config.hostname
    for name in ("hostname", "hosts", "resolv.conf"):
        with open(source.file(name), "rb") as handle:
            content = handle.read()
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(content)
    return config.hostname != own


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
            store.create(mount.source)  # idempotent: a volume removed meanwhile comes back empty
            if not mount.subpath and store.claim_population(mount.source) and not mount.volume_nocopy:
                populate.append((store.data_path(mount.source), mount.target))
            mount = Mount(type="volume", target=mount.target, source=store.data_path(mount.source),
                          readonly=mount.readonly, propagation=mount.propagation,
                          subpath=mount.subpath)  # bound like a bind
        resolved.append(mount)
    return resolved, populate


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
    except BaseException:
        release_name(config.name)
        cdir.remove()
        raise
    write_json_atomic(cdir.config, config.to_dict())
    write_json_atomic(cdir.state, {"Status": "created", "Running": False, "Pid": 0, "ExitCode": 0,
                                   "OOMKilled": False, "Created": now_iso()})


def make_user_namespace(uid_map: str, gid_map: str) -> int:
    """A new user namespace with these id maps, held by the returned fd (a helper child makes it)."""
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
    helper = os.fork()
    if helper == 0:
        os.close(hold_w)
        try:
            libc.unshare(libc.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(hold_r, 1)  # keeps the namespace alive until the parent holds it
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(hold_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise ContainerRuntimeError("cannot create a user namespace",
                                        hint="check /proc/sys/user/max_user_namespaces")
        for name, text in (("uid_map", uid_map), ("gid_map", gid_map)):
            with open(f"/proc/{helper}/{name}", "w") as handle:
                handle.write(text)
        return os.open(f"/proc/{helper}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        raise ContainerRuntimeError(f"cannot set up the user namespace: {error.strerror}") from None
    finally:
        os.close(hold_w)
        os.close(ready_r)
        os.waitpid(helper, 0)


def prepare_user_namespace(config: ContainerConfig, cdir: ContainerDir) -> tuple[int, list[int]]:
    """``--userns private``: container root is the first id of a block of composer's subordinate
    range that no other container maps (podman's --userns=auto); returns the namespace's fd and the
    image layers idmapped into it (detached mounts), and hands the state dir's writable parts to
    the mapped root."""
    from composer.engine.runtime.userdb import claim_id_block, subordinate_range

    uid, gid, size = claim_id_block(config.id, subordinate_range("/etc/subuid"), subordinate_range("/etc/subgid"))
    userns = make_user_namespace(f"0 {uid} {size}\n", f"0 {gid} {size}\n")
    fds: list[int] = []
    try:
        for index, layer in enumerate(config.layers):
            fds.append(libc.idmapped_tree(layer, userns))
            os.makedirs(cdir.file(f"lower/{index}"), exist_ok=True)
        os.chown(cdir.path, 0, gid)  # 0710: the mapped root may pass, not read
        for path in (cdir.upper, cdir.work):
            os.chown(path, uid, gid)
    except OSError as error:
        for fd in (userns, *fds):
            os.close(fd)
        raise ContainerRuntimeError(f"cannot map the image into the user namespace: {error.strerror}",
                                    hint="--userns private needs idmapped mounts (Linux 5.19+)") from None
    return userns, fds


def _single_threaded() -> bool:
    """No other Python thread could fork while our pid namespace is switched for our children."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


NEVER_STARTED = ("StartedAt", "PidStart", "SupervisorPid", "SupervisorStart")


class ForegroundRun:
    """One ``container run`` without ``-d``: owns the child processes and the cleanup."""

    records_start = True  # write the "running" state (False: a supervisor writes its own, once)
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
                          window_size=self.window_size, link_env=_link_env(config),
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
        if self.records_start:
            self._record_start()
        self.networking = True  # (docker's start: a refusal from here on leaves the container created)
        self.attached = attach_network(config, self.pid, self.cdir.path)

    def _record_start(self) -> None:
        """state.json: running, with PID 1 and us as its keeper (``SupervisorPid``)."""
        started, me = now_iso(), os.getpid()
        state = {"Status": "running", "Running": True, "Pid": self.pid, "PidStart": process_start_time(self.pid),
                 "ExitCode": 0, "OOMKilled": False,
                 "StartedAt": started, "SupervisorPid": me, "SupervisorStart": process_start_time(me)}
        if self.fresh:  # our own new directory: no other writer to lock out yet, nothing to merge
            write_json_atomic(self.cdir.state, {**state, "Created": started})
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
        if not self.config.auto_remove:  # with --rm the directory is about to go
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
            if self.attached:
                detach_network(self.config)
            if self.config.pid_mode:  # PID 1 was no namespace's init: what it left runs on (runc kills it)
                self.cgroup.kill_all()
            self.cgroup.remove()
        finally:
            if self.config.auto_remove:
                release_name(self.config.name)
                self.cdir.remove()
                remove_anonymous_volumes(self.config)


def check_link_targets(config: ContainerConfig) -> None:
    """docker refuses to start a container whose legacy ``--link`` (default bridge) leads to a
    container that does not run."""
    if config.network != "bridge" or not config.endpoints or not config.endpoints[0].links:
        return
    from composer.engine.runtime.containers import LIVE, current_state
    from composer.engine.runtime.state import find_container

    for link in config.endpoints[0].links:
        target, _, alias = link.partition(":")
        cdir = find_container(target)
        if current_state(cdir).get("Status") not in LIVE:
            target = cdir.read_config().get("name", target)
            raise ContainerRuntimeError(f"Cannot link to a non running container: /{target} AS "
                                        f"/{config.name}/{alias}", hint="start the linked container first")


def _link_env(config: ContainerConfig) -> list[str]:
    """docker's variables of the container's legacy links (``--link`` on the default bridge)."""
    if not config.endpoints:
        return []
    from composer.network.links import launch_env

    return launch_env(config)


def run_foreground(config: ContainerConfig, prepare_io=None) -> RunResult:
    """Run ``config`` to completion; ``prepare_io(run)`` may set ``run.console_fd``/``run.relay``."""
    run = ForegroundRun(config)
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
