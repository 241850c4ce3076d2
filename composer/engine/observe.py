"""Actual state: a project's containers, networks, volumes and images, found by their labels."""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

from composer.engine import labels as L
from composer.engine.prestart import HOOK_LABEL
from composer.engine.runtime.base import (
    EMPTY, ContainerSummary, NetworkSummary, Runtime, VolumeSummary, matches,
)


class ObservedState(NamedTuple):
    """What exists now for one project (rebuilt on every command, never cached)."""

    project: str
    containers: tuple[ContainerSummary, ...] = ()
    networks: tuple[NetworkSummary, ...] = ()
    volumes: tuple[VolumeSummary, ...] = ()
    images: Mapping[str, str | None] = EMPTY  # reference -> id or None
    platforms: Mapping[str, str] = EMPTY  # reference -> its platform, for the present images asked so
    by_service: Mapping[tuple[str, bool], tuple[ContainerSummary, ...]] | None = None  # see _index()
    other_networks: frozenset[str] = frozenset()  # names taken by networks of no/another project
    other_volumes: frozenset[str] = frozenset()

    def service_containers(self, service: str, *, oneoff: bool = False) -> list[ContainerSummary]:
        """A service's containers, by container number then creation time."""
        index = self.by_service if self.by_service is not None else _index(self.containers)
        return list(index.get((service, oneoff), ()))

    def orphans(self, known: Iterable[str]) -> list[ContainerSummary]:
        """Containers of services the project does not (or no longer) define, and finished
        one-off containers (as Compose's ``isOrphaned``), newest first (as the daemon lists them)."""
        names = set(known)
        return sorted((c for c in self.containers if HOOK_LABEL not in c.labels  # kept pre_start hooks: not orphans
                       and (c.state in ("exited", "dead") if c.labels.get(L.ONEOFF) == "True"
                            else c.labels.get(L.SERVICE) not in names)),
                      key=lambda c: (-c.created, c.name))

    def network(self, name: str) -> NetworkSummary | None:
        return next((n for n in self.networks if n.name == name), None)

    def volume(self, name: str) -> VolumeSummary | None:
        return next((v for v in self.volumes if v.name == name), None)


def _index(containers: Iterable[ContainerSummary]) -> dict[tuple[str, bool], tuple[ContainerSummary, ...]]:
    """Containers by (service, one-off), each group by container number then creation time."""
    groups: dict[tuple[str, bool], list[ContainerSummary]] = {}
    for c in containers:
        groups.setdefault((c.labels.get(L.SERVICE, ""), c.labels.get(L.ONEOFF) == "True"), []).append(c)
    return {key: tuple(sorted(group, key=lambda c: (L.container_number(c.labels), c.created, c.name)))
            for key, group in groups.items()}


def observe(runtime: Runtime, project: str, *, images: Iterable[str] = (), platforms: Iterable[str] = (),
            networks: bool = True, volumes: bool = True) -> ObservedState:
    """Ask the runtime for everything labelled with ``project`` (and the ids of ``images``); the
    names of networks and volumes that are not the project's are kept to detect clashes."""
    wanted = L.project_filter(project)
    containers = tuple(runtime.list_containers(wanted, all=True))
    every_network = runtime.list_networks({}) if networks else []
    every_volume = runtime.list_volumes({}) if volumes else []
    return ObservedState(
        project=project,
        containers=containers,
        by_service=_index(containers),
        networks=tuple(n for n in every_network if matches(n.labels, wanted)),
        volumes=tuple(v for v in every_volume if matches(v.labels, wanted)),
        other_networks=frozenset(n.name for n in every_network if not matches(n.labels, wanted)),
        other_volumes=frozenset(v.name for v in every_volume if not matches(v.labels, wanted)),
        images={ref: runtime.image_id(ref) for ref in dict.fromkeys(images)},
        platforms={ref: found for ref in dict.fromkeys(platforms) if (found := runtime.image_platform(ref))},
    )
