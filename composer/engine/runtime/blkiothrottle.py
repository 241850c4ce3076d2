"""Per-device I/O throttles: ``--device-read-bps /dev/vda:1mb`` (and write-bps, read-iops,
write-iops), Compose's ``blkio_config.device_read_bps: [{path, rate}]``. The device path is
resolved to its numbers when the container is created (docker's ``Path``/``Rate`` kept for
inspect); the cgroup gets v1 ``blkio.throttle.<kind>_device`` lines or v2 ``io.max``.
"""

from __future__ import annotations

import os
import stat

from composer.errors import ComposerError, ContainerRuntimeError, UsageError

KINDS = ("read_bps", "write_bps", "read_iops", "write_iops")
V2_KEYS = {"read_bps": "rbps", "write_bps": "wbps", "read_iops": "riops", "write_iops": "wiops"}
INSPECT_KEYS = {"read_bps": "BlkioDeviceReadBps", "write_bps": "BlkioDeviceWriteBps",
                "read_iops": "BlkioDeviceReadIOps", "write_iops": "BlkioDeviceWriteIOps"}

Throttles = dict  # kind -> [[path, "major:minor", rate], ...]


def resolve(limits: dict[str, list[tuple[str, int]] | tuple[tuple[str, int], ...]]) -> Throttles:
    """(path, rate) pairs by kind -> the runtime's record, each path a block device's numbers."""
    resolved: Throttles = {}
    for kind, pairs in limits.items():
        for path, rate in pairs:
            resolved.setdefault(kind, []).append([path, _numbers(path), int(rate)])
    return resolved


def compose_limits(blkio_config: dict | None) -> dict[str, tuple[tuple[str, int], ...]]:
    """Compose's ``blkio_config.device_<kind>: [{path, rate}]`` as (path, rate) pairs by kind."""
    from composer.spec.dump import parse_bytes

    def pair(kind: str, entry: dict) -> tuple[str, int]:
        path, rate = entry.get("Path", entry.get("path")), entry.get("Rate", entry.get("rate"))  # (canonical: Path)
        return str(path), int(parse_bytes(rate)) if kind.endswith("bps") else int(rate)

    blkio = blkio_config or {}
    return {kind: tuple(pair(kind, entry) for entry in blkio[f"device_{kind}"])
            for kind in KINDS if blkio.get(f"device_{kind}")}


def _numbers(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError as error:
        raise ContainerRuntimeError(f"error gathering device information while adding custom device {path!r}: "
                                    f"{error.strerror}", hint="give the path of a block device of this host") from None
    if not stat.S_ISBLK(info.st_mode):
        raise ContainerRuntimeError(f"{path} is not a block device", hint="give the path of a block device (/dev/sda)")
    return f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"


def parse_flag(kind: str, value: str) -> tuple[str, int]:
    """``--device-read-bps PATH:RATE`` (bytes with a unit for bps, a number for iops)."""
    from composer.spec.dump import parse_bytes

    path, sep, rate = value.rpartition(":")
    flag = "--device-" + kind.replace("_", "-")
    if not sep or not path.startswith("/"):
        raise UsageError(f"invalid argument {value!r} for \"{flag}\" flag: bad format: {value}",
                         hint=f"use {flag} /dev/sda:{'1mb' if kind.endswith('bps') else '1000'}")
    try:
        return path, int(parse_bytes(rate)) if kind.endswith("bps") else int(rate)
    except (ValueError, ComposerError):
        raise UsageError(f"invalid argument {value!r} for \"{flag}\" flag: invalid rate {rate!r}") from None


def v1_writes(throttles: Throttles) -> list[tuple[str, str]]:
    """(file under the blkio hierarchy, line) of each throttle."""
    return [(f"blkio.throttle.{kind}_device", f"{numbers} {rate}")
            for kind in KINDS for _, numbers, rate in throttles.get(kind, ())]


def v2_writes(throttles: Throttles) -> list[tuple[str, str]]:
    """``io.max`` lines, one per device with all its limits."""
    per_device: dict[str, list[str]] = {}
    for kind in KINDS:
        for _, numbers, rate in throttles.get(kind, ()):
            per_device.setdefault(numbers, []).append(f"{V2_KEYS[kind]}={rate}")
    return [("io.max", f"{numbers} {' '.join(limits)}") for numbers, limits in per_device.items()]


def inspect(throttles: Throttles) -> dict:
    """docker's HostConfig keys (``[{Path, Rate}]`` or null)."""
    return {INSPECT_KEYS[kind]: [{"Path": path, "Rate": rate} for path, _, rate in throttles.get(kind, ())] or None
            for kind in KINDS}
