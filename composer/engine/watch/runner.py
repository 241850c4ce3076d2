"""Apply watch actions to a running project, and drive them from inotify events.

:class:`Watcher` talks to the engine only through :class:`composer.engine.api.ProjectService`
(``ps``, ``restart``, ``up --build``) and its runtime (``exec_container``); files travel in one tar
stream per container (``transfer.send_files``, replaceable for tests). Each action is reported as
one line through ``say`` in Docker Compose 2.40's words (``Syncing service "api" after 1 changes
were detected``, ``service(s) ["api"] restarted``); a failed action is reported through ``warn``
(``Error handling changed files: ...``, Compose's warning) and watching goes on.
"""

from __future__ import annotations

import json
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from composer.engine.watch.batch import ServiceActions, plan_batch
from composer.engine.watch.rules import WatchRule
from composer.errors import ComposerError, SpecError, SourceLocation

if TYPE_CHECKING:
    from composer.engine.api import ProjectService
    from composer.spec.model import Project

Say = Callable[[str], None]
SendFiles = Callable[[str, Mapping[str, str]], None]
# watchfiles groups the events of one save: a batch closes after STEP_MS without a new event
# (or after DEBOUNCE_MS in any case), so an editor's write + rename + chmod is one action.
STEP_MS = 100
DEBOUNCE_MS = 1000
TICK_MS = 250  # an empty yield this often: "Watch enabled" is said once the watches are in place


def _default_send(container_id: str, files: Mapping[str, str]) -> None:
    from composer.engine.watch.transfer import send_files

    send_files(container_id, files)


def go_quoted(names: Iterable[str]) -> str:
    """Names as Go's ``%q`` prints a ``[]string`` (Compose's ``service(s) ["api" "web"] restarted``)."""
    return "[" + " ".join(json.dumps(name) for name in names) + "]"


class Watcher:
    """The actions of ``rules`` on ``project``'s running containers."""

    def __init__(self, project: "Project", engine: "ProjectService", rules: list[WatchRule], say: Say,
                 send: SendFiles = _default_send, prune: bool = False, warn: Say | None = None) -> None:
        self.project, self.engine, self.rules, self.say, self.send = project, engine, rules, say, send
        self.warn = warn or say
        self.enabled = threading.Event()  # set once the watches are in place ("Watch enabled" said)
        self.prune = prune  # remove the images a rebuild leaves dangling (``watch --prune``)

    # --- the loop ------------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        """The directories to watch: each rule's path (a file's directory: editors replace files)."""
        roots = set()
        for rule in self.rules:
            if not os.path.exists(rule.path):
                raise SpecError(f"services.{rule.service}.develop.watch[{rule.index}].path: {rule.path} does not exist",
                                location=SourceLocation(path=f"services.{rule.service}.develop.watch[{rule.index}]"),
                                hint="create it, or fix the path (relative to the project directory)")
            roots.add(rule.path if os.path.isdir(rule.path) else os.path.dirname(rule.path))
        return sorted(r for r in roots if not any(r.startswith(o.rstrip("/") + "/") for o in roots if o != r))

    def run(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set (Ctrl-C in the main thread: KeyboardInterrupt): one batch of
        changes -> one round of actions."""
        from watchfiles import Change, watch

        roots = self.roots()
        announced = False
        for changes in watch(*roots, stop_event=stop, step=STEP_MS, debounce=DEBOUNCE_MS, rust_timeout=TICK_MS,
                             yield_on_timeout=True, raise_interrupt=True, force_polling=False):
            if not announced:  # the first yield: the inotify watches exist now, edits are seen
                self.say("Watch enabled")
                self.enabled.set()
                announced = True
            if changes:
                batch = expand((path, change == Change.deleted) for change, path in changes)
                self.apply(plan_batch(self.rules, batch))

    def initial_sync(self) -> None:
        """Copy every file of the ``initial_sync`` rules into their services' containers (silently,
        as Docker Compose)."""
        rules = [rule for rule in self.rules if rule.syncs and rule.initial_sync]
        for actions in plan_batch(rules, expand((rule.path, False) for rule in rules)):
            actions.restart, actions.execs = False, []
            self._sync(actions, announce=False)

    # --- one batch -----------------------------------------------------------------------------------
    def apply(self, batch: Iterable[ServiceActions]) -> None:
        """Carry out each service's actions; report each, and each failure."""
        for actions in batch:
            try:
                if actions.rebuild:
                    self._rebuild(actions)
                    continue
                if actions.syncs:
                    self._sync(actions)
                for spec in actions.execs:
                    self._exec(actions.service, spec)
                if actions.restart:
                    self._restart(actions.service)
            except ComposerError as error:
                self.warn(f"Error handling changed files: {error.message}")

    def _containers(self, service: str) -> list[Any]:
        from composer.engine import labels as L
        from composer.engine.options import PsOptions

        found = self.engine.ps(self.project.name, PsOptions(services=(service,)))
        return [c for c in found if c.labels.get(L.ONEOFF) != "True"]

    def _sync(self, actions: ServiceActions, announce: bool = True) -> None:
        """Copy and delete the changed files in each of the service's containers (announced first,
        as Compose's ``writeWatchSyncMessage``)."""
        if announce:
            changes = len(actions.changed)
            self.say(f"Syncing service {json.dumps(actions.service)} after {changes} changes were detected")
        containers = self._containers(actions.service)
        if not containers:
            self.warn(f"service {json.dumps(actions.service)} has no running container: "
                      f"{len(actions.changed)} changes not synced")
        for container in containers:
            if actions.copies:
                self.send(container.id, actions.copies)
            if actions.deletes:
                self._run_in(container.id, ("rm", "-rf", "--", *sorted(actions.deletes)), user="0:0")

    def _exec(self, service: str, spec: Any) -> None:
        for container in self._containers(service):
            code = self._run_in(container.id, spec.command, spec.user, spec.working_dir, spec.environment,
                                spec.privileged, check=False)
            self.say(f"Exec {' '.join(spec.command)!r} in {container.name}: exit code {code}")

    def _restart(self, service: str) -> None:
        from composer.engine.options import LifecycleOptions

        self.engine.restart(self.project, LifecycleOptions(services=(service,)))
        self.say(f"service(s) {go_quoted([service])} restarted")

    def _rebuild(self, actions: ServiceActions) -> None:
        from composer.engine.options import UpOptions

        services = go_quoted([actions.service])
        self.say(f"Rebuilding service(s) {services} after changes were detected...")
        self.engine.up(self.project, UpOptions(services=(actions.service,), build=True, no_deps=True,
                                               recreate="force"))
        self.say(f"service(s) {services} successfully built")
        if self.prune:
            self._prune(actions.service)

    def _prune(self, service: str) -> None:
        """Remove the project's dangling images, sparing the one ``service`` was just rebuilt into."""
        from composer.engine.convert import image_reference
        from composer.engine.watch.prune import prune_dangling

        built = self.engine.runtime.image_id(image_reference(self.project.name, self.project.services[service]))
        for image_id in prune_dangling(self.project.name, keep=[built] if built else []):
            self.say(f"Removed dangling image {image_id[7:19]} (after the rebuild of {service!r})")

    def _run_in(self, container_id: str, command: tuple[str, ...], user: str = "", working_dir: str = "",
                env: tuple[str, ...] = (), privileged: bool = False, check: bool = True) -> int:
        from composer.engine.runtime.base import HookSpec

        hook = HookSpec(command=tuple(command), user=user, working_dir=working_dir, env=env, privileged=privileged)
        code, _ = self.engine.runtime.exec_container(container_id, hook)
        if check and code != 0:
            raise ComposerError(f"{command[0]} in container {container_id[:12]} exited with {code}")
        return code


def expand(changes: Iterable[tuple[str, bool]]) -> set[tuple[str, bool]]:
    """Directories that exist become the files below them (new directories arrive whole)."""
    expanded = set()
    for path, deleted in changes:
        if deleted or not os.path.isdir(path):
            expanded.add((path, deleted or not os.path.lexists(path)))
            continue
        for directory, _dirs, files in os.walk(path):
            expanded.update((os.path.join(directory, name), False) for name in files)
    return expanded
