"""Service fields the Compose schema accepts but composer's runtime cannot honour: refused with
docker's error where docker refuses them on this kind of host (no GPU driver, overlay without
xfs quotas, Linux-only isolation, one runtime), else a create-time warning naming what is not
applied. Never silently ignored.
"""

from __future__ import annotations

from typing import Any, Mapping

from composer.errors import PlanError, SourceLocation

# (field, what is not applied): accepted, warned at each create (as docker warns of a limit the
# host cannot apply), and otherwise without effect
NOT_APPLIED = (
    ("mem_swappiness", "memory swappiness discarded"),
    ("oom_kill_disable", "the OOM killer stays enabled"),
    ("cpu_count", "a Windows-only limit: ignored on Linux"),
    ("cpu_percent", "a Windows-only limit: ignored on Linux"),
    ("credential_spec", "a Windows-only setting: ignored on Linux"),
    ("device_cgroup_rules", "no extra device access is granted (use devices: to give a device)"),
)
BLKIO_NOT_APPLIED = ("weight_device", "device_read_bps", "device_write_bps", "device_read_iops",
                     "device_write_iops")


def check_fields(raw: Mapping[str, Any], service: str) -> tuple[str, ...]:
    """Raise PlanError for a field docker would refuse here; the warnings of those not applied."""
    _refuse(raw, service)
    warnings = [f"{field} is not supported by composer: {effect}"
                for field, effect in NOT_APPLIED if _is_set(raw.get(field))]
    blkio = raw.get("blkio_config") or {}
    warnings += [f"blkio_config.{key} is not supported by composer: no per-device I/O limit is set"
                 for key in BLKIO_NOT_APPLIED if blkio.get(key)]
    return tuple(warnings)


def _is_set(value: Any) -> bool:
    """Given a value that does something (``mem_swappiness: 0`` does, ``oom_kill_disable: false`` not)."""
    return value is not None and value is not False and value not in ("", [], {})


def _refuse(raw: Mapping[str, Any], service: str) -> None:
    def fail(field: str, message: str, hint: str) -> None:
        raise PlanError(f"service {service!r}: {message}",
                        location=SourceLocation(path=f"services.{service}.{field}"), hint=hint)

    if raw.get("gpus") or _gpu_reservations(raw):
        fail("gpus", 'could not select device driver "" with capabilities: [[gpu]]',
             "composer has no GPU device driver (NVIDIA container toolkit): remove gpus / the gpu device reservation")
    if raw.get("storage_opt"):
        fail("storage_opt", "--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
             "composer's overlay has no per-container size quota: remove storage_opt")
    if raw.get("isolation") not in (None, "", "default"):
        fail("isolation", f"Invalid isolation: {raw['isolation']!r} - linux only supports 'default'",
             "remove isolation or set it to default")
    if raw.get("runtime") not in (None, "", "runc"):
        fail("runtime", f"unknown or invalid runtime name: {raw['runtime']}",
             "composer is its own OCI-like runtime (runc's behaviour): remove runtime")
    cpus = raw.get("cpus") or (((raw.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("cpus")
    for field, word in (("cpu_period", "Period"), ("cpu_quota", "Quota")):
        if cpus and raw.get(field):
            fail(field, f"Conflicting options: Nano CPUs and CPU {word} cannot both be set",
                 "set either cpus or cpu_period/cpu_quota")
    if raw.get("use_api_socket"):
        fail("use_api_socket", "use_api_socket: composer serves no Docker Engine API socket to share",
             "remove use_api_socket")


def _gpu_reservations(raw: Mapping[str, Any]) -> bool:
    """Whether ``deploy.resources.reservations.devices`` asks for a device driver (GPUs ...)."""
    reservations = (((raw.get("deploy") or {}).get("resources") or {}).get("reservations") or {})
    return bool(reservations.get("devices"))
