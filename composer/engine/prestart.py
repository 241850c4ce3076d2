"""``pre_start`` lifecycle hooks (Compose spec; docker/compose ``pkg/compose/pre_start.go``).

A service's ``pre_start`` hooks run once per service, in their declared order, before its
containers start, and only when none of its replicas is running (a first ``up``, a recreation,
``--force-recreate``; not an unchanged ``up`` nor a scale-up). Each hook is an ephemeral container
of the hook's ``image`` (default: the service's), with the service's environment plus the hook's,
the volumes of the service's lowest-numbered replica (``volumes_from``) and its networks. A hook
that exits non-zero stops the service's start; its container is kept for ``logs``/``inspect``
(labelled ``com.docker.compose.hook=pre_start``) and removed by the next run or by ``down``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

from composer.engine import labels as L
from composer.errors import PlanError

if TYPE_CHECKING:
    from composer.engine.runtime.base import ContainerSpec, HookSpec, Runtime

HOOK_LABEL = f"{L.PREFIX}.hook"
TAIL_LINES = 10


class PreStartHook(NamedTuple):
    """One ``pre_start`` entry: the command (as a lifecycle hook) and its image ("" = the service's)."""

    hook: "HookSpec"
    image: str = ""


def pre_start_hooks(raw: Mapping[str, Any]) -> tuple[PreStartHook, ...]:
    """A service's ``pre_start`` hooks from its canonical dict (``per_replica: true`` refused)."""
    from composer.engine.convert import hooks

    entries = raw.get("pre_start") or ()
    for index, entry in enumerate(entries):
        if entry.get("per_replica"):
            raise PlanError(f"service {raw.get('name', '')!r} pre_start[{index}]: per_replica is not supported",
                            hint="remove per_replica or set it to false")
    return tuple(PreStartHook(hook, entry.get("image") or "") for hook, entry in zip(hooks(raw, "pre_start"), entries))


def hook_spec(template: "ContainerSpec", hook: PreStartHook, index: int, replica: str) -> "ContainerSpec":
    """The ephemeral container of one hook: the replica's image, env, networks and volumes."""
    from composer.engine.runtime.base import EndpointSpec

    labels = {L.PROJECT: template.labels.get(L.PROJECT, ""), L.SERVICE: template.labels.get(L.SERVICE, ""),
              L.VERSION: template.labels.get(L.VERSION, ""), L.ONEOFF: "True", HOOK_LABEL: "pre_start"}
    endpoints = tuple(EndpointSpec(e.network, priority=e.priority) for e in template.endpoints)  # no fixed address
    return template._replace(
        name=f"{template.name}-pre_start-{index}", image=hook.image or template.image, labels=labels,
        env=template.env + hook.hook.env, entrypoint=None if hook.image else template.entrypoint,
        command=hook.hook.command, user=hook.hook.user, working_dir=hook.hook.working_dir,
        privileged=hook.hook.privileged, mounts=(), volumes_from=(replica,), endpoints=endpoints, ports=(),
        healthcheck=None, restart=template.restart._replace(name="no", max_retries=0), auto_remove=False,
        tty=False, stdin_open=False, hostname="")


def run_pre_start(runtime: "Runtime", call: Callable[..., Any], template: "ContainerSpec",
                  hooks: tuple[PreStartHook, ...], replica: str,
                  wait: Callable[[str], int] | None = None) -> None:
    """Remove hook containers a failed run left, then run each hook to its end in order; the
    first failing one raises (its container kept), a succeeding one is removed. ``wait`` blocks
    until a hook container ends (default: ``call(runtime.wait_container, id)``)."""
    service = template.labels.get(L.SERVICE, "")
    stale = call(runtime.list_containers, {L.PROJECT: template.labels.get(L.PROJECT, ""), L.SERVICE: service,
                                           HOOK_LABEL: "pre_start"}, all=True)
    for container in stale:
        call(runtime.remove_container, container.id, force=True, volumes=True)
    for index, hook in enumerate(hooks):
        spec = hook_spec(template, hook, index, replica)
        cid = call(runtime.create_container, spec)
        try:
            call(runtime.start_container, cid)
        except BaseException:
            call(runtime.remove_container, cid, force=True, volumes=True)
            raise
        code = wait(cid) if wait is not None else call(runtime.wait_container, cid)
        if code != 0:
            tail = _tail(runtime, cid)
            raise PlanError(f"service {service!r} pre_start[{index}] exited with code {code}"
                            + (f": {tail}" if tail else ""),
                            hint=f"hook container {cid[:12]} retained for inspection (composer logs, "
                                 "composer container inspect); fix the hook's command")
        call(runtime.remove_container, cid, volumes=True)


def _tail(runtime: Any, cid: str) -> str:
    """The last lines of a hook's output (stderr first), if the runtime can read logs."""
    read_logs = getattr(runtime, "read_logs", None)
    if read_logs is None:
        return ""
    lines = list(read_logs(cid, tail=TAIL_LINES))
    chosen = [line for line in lines if getattr(line, "stream", "") == "stderr"] or lines
    return " ".join(getattr(line, "text", str(line)).strip() for line in chosen).strip()
