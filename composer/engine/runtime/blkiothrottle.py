"""Per-device I/O limits: ``--device-read-bps /dev/vda:1mb`` (and write-bps, read-iops,
write-iops), ``--blkio-weight-device /dev/vda:200``, Compose's ``blkio_config.device_read_bps:
[{path, rate}]`` and ``weight_device: [{path, weight}]``. The device path is resolved to its
numbers when the container is created (docker's ``Path``/``Rate`` kept for inspect); the cgroup
gets v1 ``blkio.throttle.<kind>_device`` lines and ``blkio.weight_device``, or v2 ``io.max``
and ``io[.bfq].weight``.
"""

from __future__ import annotations

import os
import stat

from composer.errors import ComposerError, ContainerRuntimeError, UsageError

KINDS = ("read_bps", "write_bps", "read_iops", "write_iops")  # and "weight"
FLAGS = {"device_read_bps": "read_bps", "device_write_bps": "write_bps", "device_read_iops": "read_iops",
         "device_write_iops": "write_iops", "blkio_weight_device": "weight"}  # container run's options
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
        path = entry.get("Path", entry.get("path"))  # (the canonical form's keys are Go's)
        rate = entry.get("Weight", entry.get("weight")) if kind == "weight" else entry.get("Rate", entry.get("rate"))
        return str(path), int(parse_bytes(rate)) if kind.endswith("bps") else int(rate)

    blkio = blkio_config or {}
    fields = {f"device_{kind}": kind for kind in KINDS} | {"weight_device": "weight"}
    return {kind: tuple(pair(kind, entry) for entry in blkio[field])
            for field, kind in fields.items() if blkio.get(field)}


def from_options(options: dict) -> Throttles:
    """``container run``'s ``--device-*-bps/iops`` and ``--blkio-weight-device`` options, resolved."""
    return resolve({kind: [parse_flag(kind, value) for value in options[flag]]
                    for flag, kind in FLAGS.items() if flag in options})


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
    flag = "--blkio-weight-device" if kind == "weight" else "--device-" + kind.replace("_", "-")
    if not sep or not path.startswith("/"):
        raise UsageError(f"invalid argument {value!r} for \"{flag}\" flag: bad format: {value}",
                         hint=f"use {flag} /dev/sda:{'1mb' if kind.endswith('bps') else '1000'}")
    try:
        number = int(parse_bytes(rate)) if kind.endswith("bps") else int(rate)
    except (ValueError, ComposerError):
        raise UsageError(f"invalid argument {value!r} for \"{flag}\" flag: invalid rate {rate!r}") from None
    if kind == "weight" and not 10 <= number <= 1000:
        raise UsageError(f"invalid argument {value!r} for \"{flag}\" flag: invalid weight for device: {value}",
                         hint="a weight is between 10 and 1000")
    return path, number


def v1_writes(throttles: Throttles) -> list[tuple[str, str]]:
    """(file in the cgroup's blkio directory, line) of each limit (the weights: CFQ's
    ``blkio.weight_device``; a host without it had them discarded at create, as docker)."""
    return ([(f"blkio.throttle.{kind}_device", f"{numbers} {rate}")
             for kind in KINDS for _, numbers, rate in throttles.get(kind, ())]
            + [("blkio.weight_device", f"{numbers} {weight}") for _, numbers, weight in throttles.get("weight", ())])


def v2_writes(throttles: Throttles, cgroup_dir: str) -> list[tuple[str, str]]:
    """``io.max`` lines, one per device with all its limits; the weights in ``io.bfq.weight``
    where BFQ offers it, else ``io.weight``."""
    per_device: dict[str, list[str]] = {}
    for kind in KINDS:
        for _, numbers, rate in throttles.get(kind, ()):
            per_device.setdefault(numbers, []).append(f"{V2_KEYS[kind]}={rate}")
    weight_file = "io.bfq.weight" if os.path.exists(os.path.join(cgroup_dir, "io.bfq.weight")) else "io.weight"
    return ([("io.max", f"{numbers} {' '.join(limits)}") for numbers, limits in per_device.items()]
            + [(weight_file, f"{numbers} {weight}") for _, numbers, weight in throttles.get("weight", ())])


def inspect(throttles: Throttles) -> dict:
    """docker's HostConfig keys (``[{Path, Rate}]`` or null; the weights ``[{Path, Weight}]``)."""
    shown: dict = {"BlkioWeightDevice": [{"Path": path, "Weight": weight}
                                         for path, _, weight in throttles.get("weight", ())]}
    for kind in KINDS:
        shown[INSPECT_KEYS[kind]] = [{"Path": path, "Rate": rate} for path, _, rate in throttles.get(kind, ())] or None
    return shown
