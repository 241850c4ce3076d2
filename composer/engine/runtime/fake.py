"""FakeRuntime: the Runtime protocol in memory, for tests of the engine.

It records every call (method, target, start and end times, thread), simulates states, health
transitions and exits deterministically from per-service ``Behaviour`` scripts, and can be told
to fail a call or take time (to observe concurrency).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from composer.engine import labels as L
from composer.engine.images.platforms import mismatch
from composer.engine.runtime.base import (
    ContainerSpec, ContainerSummary, HealthStatus, HookSpec, NetworkSpec, NetworkSummary, PullCallback,
    VolumeSpec, VolumeSummary, matches,
)
from composer.errors import (
    ContainerNotFound, ContainerRuntimeError, ContainerStateError, ImageNotFound, NetworkError,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """How a service's containers behave once started.

    ``health``: the health values the container goes through, one per ``wait_health`` call
    (only with a healthcheck); ``exit_code``: None to keep running, else the code it exits with
    when waited on; ``fail``: method names that raise ContainerRuntimeError; ``delay``: seconds
    each create/start/stop takes; ``output``: the last healthcheck output; ``warnings``: its
    create's warnings (limits a host could not apply).
    """

    health: tuple[str, ...] = ("starting", "healthy")
    exit_code: int | None = None
    fail: frozenset[str] = frozenset()
    delay: float = 0.0
    output: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Call:
    method: str
    target: str
    start: float
    end: float = 0.0


class _PreparedStart:
    """The fake's prepared start: ``go`` is ``start_container``."""

    def __init__(self, fake: "FakeRuntime", container_id: str) -> None:
        self.fake, self.container_id = fake, container_id

    def go(self) -> None:
        self.fake.start_container(self.container_id)

    def abandon(self) -> None:
        self.fake._record("abandon", self.fake._find(self.container_id).summary.name, lambda: None)


@dataclass(slots=True)
class _Container:
    summary: ContainerSummary
    spec: ContainerSpec | None
    health_script: list[str] = field(default_factory=list)


class FakeRuntime:
    """An in-memory Runtime (see ``composer.engine.runtime.base.Runtime``)."""

    def __init__(self, *, images: Mapping[str, str] | None = None,
                 behaviours: Mapping[str, Behaviour] | None = None, pullable: bool = True) -> None:
        self.images: dict[str, str] = dict(images or {})
        self.platforms: dict[str, str] = {}  # reference -> its image's platform (absent: linux/amd64)
        self.behaviours: dict[str, Behaviour] = dict(behaviours or {})
        self.pullable = pullable
        self.containers: dict[str, _Container] = {}
        self.networks: dict[str, NetworkSummary] = {}
        self.volumes: dict[str, VolumeSummary] = {}
        self.calls: list[Call] = []
        self.execs: list[tuple[str, tuple[str, ...]]] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._clock = itertools.count(1)

    # --- bookkeeping ---------------------------------------------------------------------------
    def _behaviour(self, cid: str) -> Behaviour:
        return self.behaviours.get(self.containers[cid].summary.labels.get(L.SERVICE, ""), Behaviour())

    def _record(self, method: str, target: str, work: Callable[[], Any]) -> Any:
        call = Call(method, target, time.monotonic())
        with self._cond:
            self.calls.append(call)
        try:
            return work()
        finally:
            call.end = time.monotonic()

    def _container_call(self, method: str, cid: str, work: Callable[[_Container], Any]) -> Any:
        def run() -> Any:
            with self._cond:
                box = self._find(cid)
                behaviour = self._behaviour(box.summary.id)
            if behaviour.delay and method in ("create", "start", "stop"):
                time.sleep(behaviour.delay)
            if method in behaviour.fail:
                raise ContainerRuntimeError(f"{method} {box.summary.name}: simulated failure")
            with self._cond:
                value = work(box)
                self._cond.notify_all()
                return value
        return self._record(method, self._find(cid).summary.name, run)

    def _find(self, ref: str) -> _Container:
        box = self.containers.get(ref) or next((c for c in self.containers.values() if c.summary.name == ref), None)
        if box is None:
            raise ContainerNotFound(f"no such container: {ref}")
        return box

    def _set(self, box: _Container, **changes: Any) -> None:
        box.summary = box.summary._replace(**changes)

    def add_container(self, summary: ContainerSummary) -> None:
        """Seed an existing container (as a previous run would have left it)."""
        self.containers[summary.id] = _Container(summary, None)

    def names(self) -> list[str]:
        return sorted(c.summary.name for c in self.containers.values())

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- containers ------------------------------------------------------------------------------
    def list_containers(self, labels: Mapping[str, str | None], *, all: bool = True) -> list[ContainerSummary]:
        with self._cond:
            return [c.summary for c in self.containers.values() if matches(c.summary.labels, labels)
                    and (all or c.summary.state in ("running", "paused", "restarting"))]

    def create_warnings(self, container_id: str) -> tuple[str, ...]:
        with self._cond:
            service = self.containers[container_id].summary.labels.get(L.SERVICE, "")
        return self.behaviours.get(service, Behaviour()).warnings

    def create_container(self, spec: ContainerSpec) -> str:
        def run() -> str:
            behaviour = self.behaviours.get(spec.labels.get(L.SERVICE, ""), Behaviour())
            if behaviour.delay:
                time.sleep(behaviour.delay)
            if "create" in behaviour.fail:
                raise ContainerRuntimeError(f"create {spec.name}: simulated failure")
            with self._cond:
                if any(c.summary.name == spec.name for c in self.containers.values()):
                    raise ContainerStateError(f"the container name {spec.name!r} is already in use")
                if spec.image not in self.images:
                    raise ImageNotFound(f"no such image: {spec.image}")
                refused = mismatch(spec.image, spec.platform, self.platforms.get(spec.image, "linux/amd64"))
                if refused:
                    raise ImageNotFound(refused)
                cid = f"{next(self._ids):064x}"
                self.containers[cid] = _Container(ContainerSummary(
                    id=cid, name=spec.name, image=spec.image, image_id=self.images[spec.image],
                    labels=dict(spec.labels), state="created", created=float(next(self._clock)),
                    command=" ".join((spec.entrypoint or ()) + (spec.command or ())),
                    networks=tuple(e.network for e in spec.endpoints), ports=spec.ports,
                    mounts=tuple(m.source for m in spec.mounts if m.source)),
                    spec._replace(mounts=tuple(m._replace(source=f"anon-{next(self._ids)}")
                                               if m.type == "volume" and not m.source else m
                                               for m in spec.mounts)))
                return cid
        return self._record("create", spec.name, run)

    def prepare_start(self, container_id: str) -> "_PreparedStart":
        """A prepared start (recorded as ``prepare``): ``go()`` starts, ``abandon()`` records ``abandon``."""
        self._record("prepare", self._find(container_id).summary.name, lambda: None)
        return _PreparedStart(self, container_id)

    def start_container(self, container_id: str) -> None:
        def work(box: _Container) -> None:
            if box.summary.state == "running":
                return
            for network in box.summary.networks:  # joined at start, as the kernel runtime does
                if network not in self.networks:
                    raise NetworkError(f"network {network} not found")
            checked = box.spec is not None and box.spec.healthcheck is not None
            box.health_script = list(self._behaviour(box.summary.id).health) if checked else []
            self._set(box, state="running", health="starting" if checked else "none", exit_code=0,
                      started_at=time.time())
        self._container_call("start", container_id, work)

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        def work(box: _Container) -> None:
            if box.summary.state in ("running", "paused", "restarting"):
                self._set(box, state="exited", exit_code=0, finished_at=time.time())
        self._container_call("stop", container_id, work)

    def kill_container(self, container_id: str, signal: str = "SIGKILL") -> None:
        def work(box: _Container) -> None:
            if box.summary.state != "running":
                raise ContainerStateError(f"container {box.summary.name} is not running")
            self._set(box, state="exited", exit_code=137, finished_at=time.time())
        self._container_call("kill", container_id, work)

    def remove_container(self, container_id: str, *, force: bool = False, volumes: bool = False) -> None:
        def work(box: _Container) -> None:
            if box.summary.state in ("running", "paused") and not force:
                raise ContainerStateError(f"cannot remove running container {box.summary.name}",
                                          hint="stop it first or use force")
            del self.containers[box.summary.id]
        self._container_call("remove", container_id, work)

    def pause_container(self, container_id: str) -> None:
        self._container_call("pause", container_id, lambda box: self._set(box, state="paused"))

    def unpause_container(self, container_id: str) -> None:
        self._container_call("unpause", container_id, lambda box: self._set(box, state="running"))

    def rename_container(self, container_id: str, new_name: str) -> None:
        self._container_call("rename", container_id, lambda box: self._set(box, name=new_name))

    def wait_container(self, container_id: str, timeout: float | None = None) -> int | None:
        def run() -> int | None:
            with self._cond:
                box = self._find(container_id)
                code = self._behaviour(box.summary.id).exit_code
                if code is not None and box.summary.state == "running":
                    self._set(box, state="exited", exit_code=code, finished_at=time.time())
                    self._cond.notify_all()
                if not self._cond.wait_for(lambda: box.summary.state not in ("running", "paused", "restarting"),
                                           timeout):
                    return None
                return box.summary.exit_code
        return self._record("wait", self._find(container_id).summary.name, run)

    def wait_health(self, container_id: str, last: HealthStatus | None, timeout: float) -> HealthStatus:
        def run() -> HealthStatus:
            with self._cond:
                box = self._find(container_id)
                code = self._behaviour(box.summary.id).exit_code
                if code is not None and box.summary.state == "running" and not box.health_script:
                    self._set(box, state="exited", exit_code=code, finished_at=time.time())
                elif last is not None and box.summary.state == "running" and box.health_script:
                    self._set(box, health=box.health_script.pop(0))
                elif last is not None:
                    self._cond.wait_for(lambda: self._status(box) != last, timeout=timeout)
                return self._status(box)
        return self._record("wait_health", self._find(container_id).summary.name, run)

    def _status(self, box: _Container) -> HealthStatus:
        s = box.summary
        output = self._behaviour(s.id).output if s.health == "unhealthy" else ""
        return HealthStatus(state=s.state, health=s.health, exit_code=s.exit_code, output=output)

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        with self._cond:
            s = self._find(container_id).summary
            spec = self._find(container_id).spec
            mounts = [{"Type": m.type, "Name": m.source, "Destination": m.target}
                      for m in (spec.mounts if spec else ()) if m.type == "volume"]
            return {"Id": s.id, "Name": "/" + s.name, "Image": s.image_id, "Mounts": mounts,
                    "State": {"Status": s.state, "ExitCode": s.exit_code, "Health": {"Status": s.health}},
                    "Config": {"Image": s.image, "Labels": dict(s.labels)}}

    def exec_container(self, container_id: str, hook: HookSpec) -> tuple[int, str]:
        def work(box: _Container) -> tuple[int, str]:
            if box.summary.state != "running":
                raise ContainerStateError(f"container {box.summary.name} is not running")
            self.execs.append((box.summary.name, hook.command))
            return (1, "hook failed\n") if "exec" in self._behaviour(box.summary.id).fail else (0, "")
        return self._container_call("exec_container", container_id, work)

    # --- networks, volumes, images ------------------------------------------------------------------
    def ensure_network(self, spec: NetworkSpec) -> NetworkSummary:
        def run() -> NetworkSummary:
            with self._cond:
                return self.networks.setdefault(spec.name, NetworkSummary(
                    id=f"net{len(self.networks) + 1}", name=spec.name, labels=dict(spec.labels)))
        return self._record("ensure_network", spec.name, run)

    def remove_network(self, name: str) -> None:
        def run() -> None:
            with self._cond:
                if any(e.network == name for c in self.containers.values()  # running ones: a stopped one
                       if c.spec and c.summary.state in ("running", "paused", "restarting")  # joins on start
                       for e in c.spec.endpoints):
                    raise NetworkError(f"network {name} has active endpoints")
                self.networks.pop(name, None)
        self._record("remove_network", name, run)

    def list_networks(self, labels: Mapping[str, str | None]) -> list[NetworkSummary]:
        return [n for n in list(self.networks.values()) if matches(n.labels, labels)]

    def ensure_volume(self, spec: VolumeSpec) -> VolumeSummary:
        def run() -> VolumeSummary:
            with self._cond:
                return self.volumes.setdefault(spec.name, VolumeSummary(name=spec.name, labels=dict(spec.labels)))
        return self._record("ensure_volume", spec.name, run)

    def remove_volume(self, name: str) -> None:
        self._record("remove_volume", name, lambda: self.volumes.pop(name, None))

    def list_volumes(self, labels: Mapping[str, str | None]) -> list[VolumeSummary]:
        return [v for v in list(self.volumes.values()) if matches(v.labels, labels)]

    def image_id(self, reference: str) -> str | None:
        return self.images.get(reference)

    def image_platform(self, reference: str) -> str | None:
        return self.platforms.get(reference, "linux/amd64") if reference in self.images else None

    def pull_image(self, reference: str, on_event: PullCallback | None = None, platform: str = "") -> str:
        def run() -> str:
            if not self.pullable:
                raise ImageNotFound(f"pull access denied for {reference}: repository does not exist")
            if on_event:
                on_event("Pulling fs layer", {})
            with self._cond:
                if platform:
                    self.platforms[reference] = platform
                return self.images.setdefault(reference, f"sha256:{abs(hash(reference)):064x}"[:71])
        return self._record("pull", reference, run)

    def remove_image(self, reference: str) -> None:
        def run() -> None:
            if self.images.pop(reference, None) is None:
                raise ImageNotFound(f"no such image: {reference}")
        self._record("remove_image", reference, run)
