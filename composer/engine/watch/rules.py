"""A project's ``develop.watch`` rules, validated and typed.

Each entry of ``services.<name>.develop.watch`` (Compose Specification, "Develop"):
``path`` (host path, made absolute by the loader), ``action`` (``sync``, ``rebuild``,
``sync+restart``, ``sync+exec``, ``restart``), ``target`` (container path, for the sync actions),
``ignore`` / ``include`` (.dockerignore-style patterns relative to ``path``), ``initial_sync``
and ``exec`` (``command``, ``user``, ``privileged``, ``working_dir``, ``environment``).
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
from dataclasses import dataclass, field
from typing import Any, Mapping

from composer.errors import SourceLocation, SpecError

ACTIONS = ("sync", "rebuild", "sync+restart", "sync+exec", "restart")
SYNC_ACTIONS = ("sync", "sync+restart", "sync+exec")
# Files editors and tools write beside the real one (vim swap and its 4913 probe, emacs locks,
# backups, GoLand's safe-write copies, kate's swap, go's temp files): never worth an action, as in
# Docker Compose (its EphemeralPathMatcher). ``.git`` and GoLand's ``.idea`` directories neither.
EPHEMERAL = ("*.swp", "*.swx", "*.swo", "*.swn", "*~", ".#*", "#*#", "4913", ".DS_Store", "*___jb_old___",
             "*___jb_tmp___", "*.kate-swp", "*-go-tmp-umask")
IGNORED_DIRECTORIES = (".git", ".idea")


@dataclass(frozen=True)
class ExecSpec:
    """The command ``sync+exec`` runs in each container after syncing."""

    command: tuple[str, ...]
    user: str = ""
    working_dir: str = ""
    environment: tuple[str, ...] = ()
    privileged: bool = False


@dataclass(frozen=True)
class WatchRule:
    """One ``develop.watch`` entry of ``service``."""

    service: str
    action: str
    path: str
    target: str = ""
    ignore: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    initial_sync: bool = False
    exec: ExecSpec | None = None
    index: int = 0
    _matchers: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def syncs(self) -> bool:
        return self.action in SYNC_ACTIONS

    def relative(self, host_path: str) -> str | None:
        """``host_path`` relative to the rule's path ("." for the path itself), or None when the
        rule does not see it (outside the path, ignored, not included, an editor's temp file)."""
        path = os.path.normpath(host_path)
        if path != self.path and not path.startswith(self.path.rstrip("/") + "/"):
            return None
        rel = os.path.relpath(path, self.path)
        parts = rel.split("/")
        if any(part in IGNORED_DIRECTORIES for part in parts) or any(fnmatch.fnmatch(parts[-1], p) for p in EPHEMERAL):
            return None
        if rel != "." and self._matcher("ignore").excluded(rel):
            return None
        if self.include and rel != "." and not self._matcher("include").excluded(rel):
            return None
        return rel

    def container_path(self, rel: str) -> str:
        """Where the host file ``rel`` (relative to ``path``) lives in the container."""
        return self.target if rel == "." else posixpath.join(self.target, rel)

    def _matcher(self, kind: str) -> Any:
        if kind not in self._matchers:
            from composer.engine.build.dockerignore import Matcher

            self._matchers[kind] = Matcher(getattr(self, kind), f"develop.watch[{self.index}].{kind}")
        return self._matchers[kind]


def rules_for(project: Any, services: tuple[str, ...] = ()) -> list[WatchRule]:
    """The watch rules of ``services`` (default: every service), in file order."""
    rules = []
    for name in services or tuple(project.services):
        develop = project.services[name].raw.get("develop") or {}
        if not isinstance(develop, Mapping):
            raise _error(project, name, "develop", "must be a mapping", "e.g. develop: {watch: [...]}")
        entries = develop.get("watch") or []
        if not isinstance(entries, (list, tuple)):
            raise _error(project, name, "develop.watch", "must be a list of rules",
                         "each rule is {path: ..., action: sync|rebuild|sync+restart|sync+exec}")
        rules += [parse_rule(project, name, index, entry) for index, entry in enumerate(entries)]
    return rules


def split_bind_mounted(project: Any, rules: list[WatchRule]) -> tuple[list[WatchRule], list[WatchRule]]:
    """(rules kept, sync rules left out): as Docker Compose, a sync rule whose path is a bind mount
    of its service (or inside one) is not watched: the container sees the host's files already,
    and a sync would only rewrite them through the mount (as root)."""
    kept, left_out = [], []
    for rule in rules:
        mounted = rule.syncs and any(_inside(rule.path, volume.get("source"))
                                     for volume in project.services[rule.service].raw.get("volumes") or ()
                                     if isinstance(volume, Mapping) and volume.get("type") == "bind")
        (left_out if mounted else kept).append(rule)
    return kept, left_out


def _inside(path: str, directory: Any) -> bool:
    if not isinstance(directory, str) or not directory:
        return False
    directory = os.path.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def parse_rule(project: Any, service: str, index: int, entry: Any) -> WatchRule:
    """One entry, checked: a SpecError names the service, the rule and the fix."""
    where = f"develop.watch[{index}]"
    if not isinstance(entry, Mapping):
        raise _error(project, service, where, "must be a mapping", "give path and action")
    action, path = entry.get("action"), entry.get("path")
    if action not in ACTIONS:
        raise _error(project, service, f"{where}.action", f"unknown action {action!r}",
                     f"use one of {', '.join(ACTIONS)}")
    if not isinstance(path, str) or not path:
        raise _error(project, service, f"{where}.path", "is missing", "the host file or directory to watch")
    target = entry.get("target") or ""
    if action in SYNC_ACTIONS and not (isinstance(target, str) and target.startswith("/")):
        raise _error(project, service, f"{where}.target", f"{action} needs an absolute container path",
                     "e.g. target: /app")
    if action == "rebuild" and not project.services[service].raw.get("build"):
        raise _error(project, service, f"{where}.action", f"rebuild: can't watch service {json.dumps(service)} "
                     "with action rebuild without a build context", "give the service a build section, or sync")
    return WatchRule(service=service, action=action, index=index,
                     path=os.path.normpath(os.path.join(project.working_dir, path)), target=target,
                     ignore=_patterns(entry.get("ignore")), include=_patterns(entry.get("include")),
                     initial_sync=bool(entry.get("initial_sync")),
                     exec=_exec_spec(project, service, where, entry) if action == "sync+exec" else None)


def _exec_spec(project: Any, service: str, where: str, entry: Mapping[str, Any]) -> ExecSpec:
    spec = entry.get("exec") or {}
    command = spec.get("command") if isinstance(spec, Mapping) else None
    if isinstance(command, str):
        command = ["/bin/sh", "-c", command]
    if not command or not all(isinstance(word, str) for word in command):
        raise _error(project, service, f"{where}.exec.command", "sync+exec needs a command",
                     "e.g. exec: {command: [kill, -HUP, '1']}")
    environment = spec.get("environment") or {}
    if isinstance(environment, Mapping):
        environment = [f"{key}={'' if value is None else value}" for key, value in environment.items()]
    return ExecSpec(command=tuple(command), user=str(spec.get("user") or ""),
                    working_dir=str(spec.get("working_dir") or ""), environment=tuple(environment),
                    privileged=bool(spec.get("privileged")))


def _patterns(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(item) for item in value)


def _error(project: Any, service: str, key: str, problem: str, hint: str) -> SpecError:
    files = getattr(project, "config_files", ()) or ("compose.yaml",)
    return SpecError(f"services.{service}.{key} {problem}",
                     location=SourceLocation(files[0], path=f"services.{service}.{key}"), hint=hint)
