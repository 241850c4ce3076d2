"""Pure: one debounced batch of file changes -> the actions per service.

Every rule that sees a changed path contributes: ``sync*`` rules copy it into the container at
``target`` (or delete it there when it is gone on the host), ``sync+restart`` and ``restart``
restart the service, ``sync+exec`` runs a command, ``rebuild`` builds the image and recreates the
service. A rebuild replaces the containers, so a service being rebuilt is not synced as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from composer.engine.watch.rules import ExecSpec, WatchRule


@dataclass
class ServiceActions:
    """What one batch asks of one service."""

    service: str
    copies: dict[str, str] = field(default_factory=dict)  # container path -> host path
    deletes: set[str] = field(default_factory=set)  # container paths
    restart: bool = False
    rebuild: bool = False
    execs: list[ExecSpec] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # the host paths behind these actions

    @property
    def syncs(self) -> bool:
        return bool(self.copies or self.deletes)


def plan_batch(rules: Iterable[WatchRule], changes: Iterable[tuple[str, bool]]) -> list[ServiceActions]:
    """``changes`` are ``(host path, deleted)`` pairs; the actions, by service in rule order."""
    changes = sorted(set(changes))
    by_service: dict[str, ServiceActions] = {}
    for rule in rules:
        for host_path, deleted in changes:
            rel = rule.relative(host_path)
            if rel is None:
                continue
            actions = by_service.setdefault(rule.service, ServiceActions(rule.service))
            actions.changed.add(host_path)
            _add(actions, rule, rel, host_path, deleted)
    for actions in by_service.values():
        if actions.rebuild:
            actions.copies.clear()
            actions.deletes.clear()
            actions.restart = False
            actions.execs.clear()
    return list(by_service.values())


def _add(actions: ServiceActions, rule: WatchRule, rel: str, host_path: str, deleted: bool) -> None:
    if rule.action == "rebuild":
        actions.rebuild = True
        return
    if rule.action == "restart":
        actions.restart = True
        return
    container_path = rule.container_path(rel)
    if deleted:
        actions.copies.pop(container_path, None)
        actions.deletes.add(container_path)
    else:
        actions.deletes.discard(container_path)
        actions.copies[container_path] = host_path
    if rule.action == "sync+restart":
        actions.restart = True
    elif rule.exec is not None and rule.exec not in actions.execs:
        actions.execs.append(rule.exec)
