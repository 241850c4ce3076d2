"""``run``/``create`` flags whose effect depends on the host, checked as docker's CLI and daemon
check them on a Linux host: the real-time budget (``--cpu-rt-period``/``--cpu-rt-runtime``,
applied by the cgroup v1 backend), ``--kernel-memory`` (recorded, with docker's deprecation
warning), ``--mac-address``, ``--volume-driver`` (``local`` only), and the flags a Linux daemon
refuses: Windows' ``--cpu-count``/``--cpu-percent``/``--io-maxbandwidth``/``--io-maxiops``,
``--gpus`` (no device driver), ``--storage-opt`` (overlay over xfs only), ``--use-api-socket``.
"""

from __future__ import annotations

import os

from composer.cli.run_flags import parse_bytes
from composer.errors import PlatformFlagError, UsageError

WINDOWS_ONLY = {"cpu_count": ("--cpu-count", "int"), "cpu_percent": ("--cpu-percent", "int"),
                "io_maxbandwidth": ("--io-maxbandwidth", "size"), "io_maxiops": ("--io-maxiops", "int")}
MIN_KERNEL_MEMORY = 6 * 1024 * 1024  # dockerd's create (its update takes 4MB)
KERNEL_MEMORY_FILE = "/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes"
GPU_KEYS = ("count", "device", "driver", "capabilities", "options")


def flag_error(value: str, flag: str, reason: str) -> UsageError:
    """pflag's wording of a value it cannot parse (docker run: exit 125)."""
    from composer.cli.render import invalid_argument

    return UsageError(invalid_argument(flag, value, reason), hint="See 'composer container run --help'.",
                      exit_code=125)


def _int(options: dict, name: str, flag: str) -> int:
    from composer.cli.render import syntax_error

    try:
        return int(options[name])
    except ValueError:
        raise flag_error(options[name], flag, syntax_error(options[name], "integer")) from None


def _size(options: dict, name: str, flag: str) -> int:
    value = options[name]
    try:
        size = parse_bytes(value, flag)
    except UsageError:
        size = -1
    if size < 0:
        raise flag_error(value, flag, f"invalid size: '{value}'")
    return size


def refuse_windows_only(options: dict) -> None:
    """docker's CLI: a Windows daemon's flag on a Linux one (its value parsed first; any value,
    0 too), exit 1."""
    for name, (flag, kind) in WINDOWS_ONLY.items():
        if name in options:
            _int(options, name, flag) if kind == "int" else _size(options, name, flag)
            raise PlatformFlagError(f'"{flag}" is only supported on a Docker daemon running on windows, but the '
                                    "Docker daemon is running on linux")


def apply_host_flags(options: dict, config) -> list[str]:
    """The host-dependent flags onto ``config`` (the Windows-only ones were refused before:
    ``refuse_windows_only``); docker's create-time warnings."""
    _check_gpus(options.get("gpus"))
    _check_storage_opts(options.get("storage_opt", []))
    if options.get("use_api_socket"):
        raise UsageError("--use-api-socket: composer has no Docker API socket to share with a container",
                         hint="leave out --use-api-socket")
    if "mac_address" in options:
        _apply_mac_address(options["mac_address"], config)
    return _apply_kernel_memory(options, config.resources) + _apply_realtime(options, config.resources)


def check_volume_driver(driver: str, mounts: list) -> None:
    """``--volume-driver``: a named or anonymous volume needs the ``local`` driver (the only one)."""
    if driver and driver != "local" and any(mount.type == "volume" for mount in mounts):
        raise UsageError(f'error looking up volume plugin {driver}: plugin "{driver}" not found',
                         hint="use --volume-driver local (composer has no volume plugins)")


def _apply_kernel_memory(options: dict, resources) -> list[str]:
    """``--kernel-memory``: recorded (inspect's KernelMemory), deprecated as in docker."""
    if "kernel_memory" not in options:
        return []
    from composer.engine.runtime.update import KERNEL_MEMORY_DEPRECATED, KERNEL_MEMORY_DISCARDED

    resources.kernel_memory = _size(options, "kernel_memory", "--kernel-memory")
    if not resources.kernel_memory:
        return []
    if not os.path.exists(KERNEL_MEMORY_FILE):
        resources.kernel_memory = 0
        return [KERNEL_MEMORY_DEPRECATED, KERNEL_MEMORY_DISCARDED]
    if resources.kernel_memory < MIN_KERNEL_MEMORY:
        raise UsageError("Minimum kernel memory limit allowed is 6MB")
    return [KERNEL_MEMORY_DEPRECATED]


def _apply_realtime(options: dict, resources) -> list[str]:
    """``--cpu-rt-period``/``--cpu-rt-runtime`` (microseconds): discarded with dockerd's warning
    where the kernel has no real-time group scheduling; the runtime above the period refused."""
    warnings = []
    for name, word in (("cpu_rt_period", "period"), ("cpu_rt_runtime", "runtime")):
        if name not in options:
            continue
        setattr(resources, name, _int(options, name, "--" + name.replace("_", "-")))
        if getattr(resources, name) > 0:
            from composer.engine.runtime.cgroups import supports_realtime

            if not supports_realtime():
                setattr(resources, name, 0)
                warnings.append(f"Your kernel does not support cgroup cpu real-time {word}. "
                                f"{word.capitalize()} discarded.")
    if resources.cpu_rt_period and resources.cpu_rt_runtime and resources.cpu_rt_runtime > resources.cpu_rt_period:
        raise UsageError("cpu real-time runtime cannot be higher than cpu real-time period")
    return warnings


def _apply_mac_address(mac: str, config) -> None:
    """``--mac-address``: the address of the container's interface on its ``--network``."""
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(part) == 2 and all(c in "0123456789abcdefABCDEF" for c in part)
                                  for part in parts):
        raise UsageError(f"{mac} is not a valid mac address")
    if config.network in ("none", "host", "private") or config.network.startswith("container:"):
        raise UsageError("conflicting options: mac-address and the network mode",
                         hint="use --mac-address with a bridge network")
    from composer.engine.runtime.config import Endpoint

    primary = next((e for e in config.endpoints if e.network == config.network), None)
    if primary is None:
        primary = Endpoint(network=config.network)
        config.endpoints = [primary, *config.endpoints]
    primary.mac_address = mac.lower()


def _check_gpus(value: str | None) -> None:
    """``--gpus all|N|count=N,driver=D,"capabilities=C,D",...``: parsed as docker's CLI does (a
    CSV record), then refused as a daemon without a GPU device driver refuses it."""
    if value is None:
        return
    import csv

    fields = next(csv.reader([value]), [])
    driver, capabilities = "", []
    if len(fields) == 1 and "=" not in fields[0]:
        if fields[0] != "all" and not fields[0].isdigit():
            raise flag_error(value, "--gpus", f'invalid count ({fields[0]}): value must be either "all" or an '
                             "integer: invalid syntax")
    for field in fields if len(fields) > 1 or "=" in value else ():
        key, _, found = field.partition("=")
        if key not in GPU_KEYS:
            raise flag_error(value, "--gpus", f"unexpected key '{key}' in '{field}'")
        if key == "driver":
            driver = found
        elif key == "capabilities":
            capabilities += found.split(",")
    capabilities.append("gpu")
    raise UsageError(f'could not select device driver "{driver}" with capabilities: [[{" ".join(capabilities)}]]',
                     hint="composer has no GPU device driver: leave out --gpus")


def _check_storage_opts(values: list[str]) -> None:
    """``--storage-opt KEY=VALUE``: well formed (docker's CLI), then refused as dockerd's overlay2
    refuses it outside xfs with project quotas (composer's layers have no quota)."""
    if not values:
        return
    if any("=" not in value for value in values):
        raise UsageError("invalid storage option")
    raise UsageError("--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
                     hint="leave out --storage-opt")
