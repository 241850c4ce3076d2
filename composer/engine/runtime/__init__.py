"""composer's own container runtime: namespaces, overlay rootfs, cgroups, security, init child.

A foreground ``container run`` (``linux.run_foreground``), by module:

- ``config``     ContainerConfig / Mount / Resources / Security (``record.Record``: no dataclass cost)
- ``state``      ``state_root()/containers/<id>/`` (config.json, state.json atomically), names index
- ``imagecache`` resolutions of the image store, valid while images.json is unchanged
- ``mounts``     ``-v`` / ``--mount`` / ``--tmpfs`` parsing; ``paths.secure_join`` for every path
- ``cgroups``    ``detect_setup()`` -> v1 (legacy/hybrid) or v2, one ``CgroupManager`` interface
- ``capabilities``, ``seccomp`` (profile -> cached BPF), ``libc`` (the only ctypes user)
- ``linux``      the parent: prepare, fork, move PID 1 into its cgroup, attach the network
                 (``attach_network``: the seam for bridges), forward signals, wait, clean up
- ``init``       the children: unshare + fork PID 1; PID 1 builds the rootfs (``rootfs``),
                 drops privileges and execs; failures come back on a close-on-exec pipe
- ``tty``        ``-t``: a pty from the container's own devpts, relayed by the parent

Everything a container mounts lives in its own mount namespace and disappears with it.

Detached containers (``containers``: the lifecycle API the compose adapter and the CLI use):

- ``containers`` create/start/stop/kill/restart/pause/unpause/remove/wait/list/inspect/
                 read_logs/wait_health_change over the state on disk (no daemon)
- ``sessions``   exec_in/attach/run_attached: a process or our stdio in a running container
- ``supervisor`` one process per running container: PID 1's parent (subreaper), json-file logs,
                 exit records, restart policy with docker's back-off, healthchecks
- ``zygote``     the frozen parent supervisors are forked from (shared pages; gone when idle)
- ``attach``     ``-t``/``-i`` containers: the supervisor holds the pty master / stdin pipe and
                 serves ``attach.sock``; ``tty.attach_relay`` is the client (detach keys)
- ``logs``/``logreader`` json-file writer (rotation) and reader (tail/since/until/follow, fast path)
- ``health``     healthcheck scheduling; ``execute`` exec via setns; ``copy`` ``container cp``
- ``watch``      inotify waits on a container directory; ``describe`` ls/inspect shapes

Boot recovery: composer has no daemon, so ``composer system start`` (e.g. a oneshot systemd unit
run at boot) restarts ``always`` and not-manually-stopped ``unless-stopped`` containers.
"""
