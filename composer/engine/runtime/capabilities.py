"""Linux capability names, docker's default set and ``--cap-add/--cap-drop`` arithmetic."""

from __future__ import annotations

from composer.errors import ContainerRuntimeError

NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)
NUMBERS = {name: number for number, name in enumerate(NAMES)}

DEFAULT = ("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
           "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE")


def last_cap() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except OSError:
        return len(NAMES) - 1


def _number(name: str) -> int:
    key = name.upper().removeprefix("CAP_")
    if key not in NUMBERS:
        raise ContainerRuntimeError(f"unknown capability: {name!r}", hint="use names such as NET_ADMIN or CAP_NET_ADMIN")
    return NUMBERS[key]


def permitted_here() -> int:
    """The capabilities this process may hand out (its bounding set; CapBnd in /proc/self/status)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("CapBnd:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return (1 << (last_cap() + 1)) - 1


def effective_mask(cap_add: list[str], cap_drop: list[str], privileged: bool = False) -> int:
    """The capability bit mask of a container (docker's default set, adjusted)."""
    everything = ((1 << (last_cap() + 1)) - 1) & permitted_here()
    if privileged:
        return everything
    mask = 0
    for name in DEFAULT:
        mask |= 1 << NUMBERS[name]
    for name in cap_add:
        mask = everything if name.upper() in ("ALL", "CAP_ALL") else mask | (1 << _number(name))
    for name in cap_drop:
        mask = 0 if name.upper() in ("ALL", "CAP_ALL") else mask & ~(1 << _number(name))
    return mask & everything
