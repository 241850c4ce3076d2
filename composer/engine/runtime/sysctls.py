"""Which sysctls a container may set: only those of a namespace it does not share with the host
(runc's rule; docker's ``--sysctl`` and Compose's ``sysctls``). Any other one would be written
through the container's /proc/sys into the host's kernel (``vm.swappiness``, ``kernel.pid_max``),
and a ``net.*`` one with the host's network into the host's network stack.
"""

from __future__ import annotations

from composer.errors import ComposerError, ContainerRuntimeError

IPC_SYSCTLS = frozenset({"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                         "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"})
UTS_SYSCTLS = frozenset({"kernel.domainname", "kernel.hostname"})


def namespace_of(key: str) -> str | None:
    """The namespace (``ipc``, ``net``, ``uts``) whose sysctl ``key`` is, None for a global one."""
    if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return "ipc"
    if key.startswith("net."):
        return "net"
    if key in UTS_SYSCTLS:
        return "uts"
    return None


def check_sysctls(sysctls: dict[str, str], *, network: str, ipc_mode: str, uts_mode: str,
                  container: str = "") -> None:
    """Refuse a sysctl that is global, of a namespace the container shares with the host, or not a
    plain dotted name (``/`` and ``..`` would climb out of /proc/sys/<namespace>)."""
    shared = {"net": _host_network(network), "ipc": ipc_mode == "host", "uts": uts_mode == "host"}
    where = f"container {container}: " if container else ""
    for key in sysctls:
        parts = key.split(".")
        if "/" in key or "" in parts or ".." in key:
            raise ContainerRuntimeError(f"{where}invalid sysctl name {key!r}",
                                        hint="write it dotted, as net.ipv4.ip_forward")
        namespace = namespace_of(key)
        if namespace is None:
            raise ContainerRuntimeError(f'{where}sysctl "{key}" is not in a separate kernel namespace',
                                        hint="only ipc (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), "
                                             "net.* and kernel.hostname/domainname can be set per container")
        if shared[namespace]:
            raise ContainerRuntimeError(f'{where}sysctl "{key}" is not allowed: the container shares the '
                                        f"host's {namespace} namespace",
                                        hint=f"drop the sysctl or the {namespace} host mode")


def _host_network(network: str) -> bool:
    """Whether the network mode is the host's: ``host``, or another container's that is."""
    if not network.startswith("container:"):
        return network == "host"
    from composer.engine.runtime.state import find_container

    try:
        return find_container(network.split(":", 1)[1]).read_config().get("network") == "host"
    except (ComposerError, OSError, ValueError):
        return False  # no such donor: its start fails anyway
