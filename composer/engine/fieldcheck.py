"""Settings the Compose schema (and ``docker run``'s flags) accept but composer's runtime cannot
honour: refused with docker's error where docker refuses them on this kind of host (no GPU driver,
overlay without xfs quotas, Linux-only isolation, one runtime), else a create-time warning naming
what is not applied. Never silently ignored.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from composer.errors import PlanError, SourceLocation, UsageError

Refusal = tuple[str, str]  # (docker's message, composer's hint)


def _gpus(value: Any) -> Refusal:
    return ('could not select device driver "" with capabilities: [[gpu]]',
            "composer has no GPU device driver (NVIDIA container toolkit): remove gpus / the gpu device reservation")


def _storage_opt(value: Any) -> Refusal:
    return ("--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
            "composer's overlay has no per-container size quota: remove storage_opt")


def _isolation(value: Any) -> Refusal | None:
    if value in ("", "default"):
        return None
    return f"Invalid isolation: \"{value}\" - linux only supports 'default'", "remove isolation or set it to default"


def _runtime(value: Any) -> Refusal | None:
    if value in ("", "runc"):
        return None
    return (f"unknown or invalid runtime name: {value}",
            "composer is its own runtime (runc's behaviour): remove runtime")


def _swappiness(value: Any) -> Refusal | None:
    try:
        if -1 <= int(value) <= 100:
            return None
    except (TypeError, ValueError):
        pass
    return f"Invalid value: {value}, valid memory swappiness range is 0-100", "give mem_swappiness between 0 and 100"


def _provider(value: Any) -> Refusal:
    kind = value.get("type") if isinstance(value, Mapping) else value
    return (f"provider {kind!r}: composer does not run Compose provider services",
            "run the provider's service yourself and give this service an image instead")


def _models(value: Any) -> Refusal:
    return "models: composer has no model runner (Docker Model Runner)", "remove models from the service"


def _api_socket(value: Any) -> Refusal:
    return "use_api_socket: composer serves no Docker Engine API socket to share", "remove use_api_socket"


def _realtime(value: Any) -> Refusal | None:
    from composer.engine.runtime.cgroups import supports_realtime

    if not value or supports_realtime():
        return None
    return ("kernel does not support CPU real-time scheduler",
            "this host's cgroups have no real-time scheduler groups (cgroup v2, or no RT_GROUP_SCHED): "
            "remove cpu_rt_runtime and cpu_rt_period")


REFUSED: dict[str, Callable[[Any], Refusal | None]] = {
    "gpus": _gpus, "storage_opt": _storage_opt, "isolation": _isolation, "runtime": _runtime,
    "use_api_socket": _api_socket, "mem_swappiness": _swappiness, "provider": _provider, "models": _models,
    "cpu_rt_runtime": _realtime, "cpu_rt_period": _realtime,
}
# accepted, warned at each create (as docker warns of a limit the host cannot apply), no effect
NOT_APPLIED = {
    "cpu_count": "a Windows-only limit: ignored on Linux",
    "cpu_percent": "a Windows-only limit: ignored on Linux",
    "credential_spec": "a Windows-only setting: ignored on Linux",
    "cgroup_parent": "the container's cgroup stays under composer/",
}
NETWORK_NOT_APPLIED = {  # a service's settings on one of its networks
    "gw_priority": "the default route is the first network's (by priority)",
    "driver_opts": "no per-endpoint driver option is applied",
}
RUN_FLAGS = {"runtime": "runtime", "isolation": "isolation", "memory_swappiness": "mem_swappiness",
             "cgroup_parent": "cgroup_parent"}  # option: field


def check_fields(raw: Mapping[str, Any], service: str) -> tuple[str, ...]:
    """Raise PlanError for a field of service ``service`` docker would refuse here (see
    :func:`refuse`); the warnings of those not applied."""
    refuse(raw, service)
    networks = [(name, settings) for name, settings in (raw.get("networks") or {}).items() if settings]
    return _warnings(raw) + tuple(f"networks.{name}.{key} is not supported by composer: {effect}"
                                  for name, settings in networks for key, effect in NETWORK_NOT_APPLIED.items()
                                  if _is_set(settings.get(key)))


def refuse(raw: Mapping[str, Any], service: str) -> None:
    """PlanError for the first field of service ``service`` composer cannot run (the planner asks
    before anything is pulled or created)."""
    fields = dict(raw)
    if _gpu_reservations(raw):
        fields.setdefault("gpus", "all")
    for field, message, hint in _refusals(fields):
        raise PlanError(f"service {service!r}: {message}", location=SourceLocation(path=f"services.{service}.{field}"),
                        hint=hint)
    for index, volume in enumerate(raw.get("volumes") or ()):
        if volume.get("type") in ("npipe", "cluster"):  # Windows named pipes, Swarm cluster volumes
            raise PlanError(f"service {service!r}: mount type {volume['type']!r} is not supported on linux",
                            location=SourceLocation(path=f"services.{service}.volumes[{index}]"),
                            hint="use a bind, volume, tmpfs or image mount")
    for field, word in (("cpu_period", "Period"), ("cpu_quota", "Quota")):
        if _cpus(raw) and raw.get(field):
            raise PlanError(f"service {service!r}: Conflicting options: Nano CPUs and CPU {word} cannot both be set",
                            location=SourceLocation(path=f"services.{service}.{field}"),
                            hint="set either cpus or cpu_period/cpu_quota")


def refuse_network(raw: Mapping[str, Any], key: str) -> None:
    """PlanError for a project network composer cannot make: ``enable_ipv4: false`` (Docker
    28's IPv6-only network; composer's bridges always have IPv4)."""
    if raw.get("enable_ipv4") is False:
        raise PlanError(f'network "{key}": enable_ipv4: false asks for an IPv6-only network; composer\'s bridge '
                        "networks always have IPv4 (nothing was created)",
                        location=SourceLocation(path=f"networks.{key}.enable_ipv4"),
                        hint=f"delete enable_ipv4: false from networks.{key}; with enable_ipv6: true its containers "
                             "get an IPv6 address beside the IPv4 one")


def refuse_volume(raw: Mapping[str, Any], key: str, name: str) -> None:
    """PlanError for a project volume whose ``driver_opts`` the local driver refuses (docker's
    words, located: nothing is created): an unknown key, ``type`` without ``device`` ..."""
    if raw.get("driver_opts") and (raw.get("driver") or "local") == "local":
        from composer.engine.volumes import check_volume_options
        from composer.errors import VolumeError

        try:
            check_volume_options(name, {k: str(v) for k, v in raw["driver_opts"].items()})
        except VolumeError as error:
            raise PlanError(error.message, location=SourceLocation(path=f"volumes.{key}.driver_opts"),
                            hint="the local driver takes type, device and o (mount(8)'s -t, device and -o), "
                                 "type and device together") from None


def check_run_flags(options: Mapping[str, Any]) -> tuple[str, ...]:
    """``container run``'s ``--runtime``, ``--isolation`` and ``--memory-swappiness`` checked
    (UsageError as docker's); the warnings (``--cgroup-parent``)."""
    fields = {field: options[flag] for flag, field in RUN_FLAGS.items() if flag in options}
    for _, message, hint in _refusals(fields):
        raise UsageError(message, hint=hint)
    flags = {field: "--" + flag.replace("_", "-") for flag, field in RUN_FLAGS.items()}
    return _warnings(fields, flags)


def _refusals(fields: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field, message, hint) of each refused field that is set."""
    found = []
    for field, check in REFUSED.items():
        refusal = check(fields[field]) if _is_set(fields.get(field)) else None
        if refusal is not None:
            found.append((field, *refusal))
    return found


def _warnings(fields: Mapping[str, Any], names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """One warning per set field of NOT_APPLIED (named as ``names`` says: a flag's name)."""
    return tuple(f"{(names or {}).get(field, field)} is not supported by composer: {effect}"
                 for field, effect in NOT_APPLIED.items() if _is_set(fields.get(field)))


def _is_set(value: Any) -> bool:
    """Given a value that does something (``mem_swappiness: 0`` does, ``oom_kill_disable: false`` not)."""
    return value is not None and value is not False and value not in ("", [], {})


def _cpus(raw: Mapping[str, Any]) -> Any:
    return raw.get("cpus") or (((raw.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("cpus")


def _gpu_reservations(raw: Mapping[str, Any]) -> bool:
    """Whether ``deploy.resources.reservations.devices`` asks for a device driver (GPUs ...)."""
    reservations = (((raw.get("deploy") or {}).get("resources") or {}).get("reservations") or {})
    return bool(reservations.get("devices"))
