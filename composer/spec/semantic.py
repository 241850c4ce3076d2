"""After the schema: profiles, env_file folding, and the checks that need the whole project."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from composer.errors import ComposerError, SemanticError, SourceLocation
from composer.spec.source import Mark, Path, locate

if TYPE_CHECKING:
    from composer.spec.loader import ProjectOptions


class Located:
    """Finds the nearest recorded position for a tree path."""

    def __init__(self, positions: Mapping[Path, Mark]) -> None:
        self.positions = positions

    def at(self, *path: str | int) -> SourceLocation:
        return locate(self.positions, path)

    def error(self, path: tuple[str | int, ...], message: str, hint: str) -> SemanticError:
        return SemanticError(message, location=self.at(*path), hint=hint)


def has_profile(service: dict[str, Any], active: tuple[str, ...]) -> bool:
    """Whether ``service`` is enabled with the ``active`` profiles."""
    profiles = service.get("profiles") or []
    if not profiles:
        return True
    return "*" in active or any(p in active for p in profiles)


def finish(model: dict[str, Any], options: "ProjectOptions", environment: Mapping[str, str],
           positions: Mapping[Path, Mark]) -> dict[str, Any]:
    """Apply profiles, fold env files, run the consistency checks; the model to bind."""
    from composer.spec.normalize import apply_label_files

    services = model.get("services") or {}
    enabled = {n: s for n, s in services.items() if has_profile(s, options.profiles)}
    model["services"] = enabled
    model["x-composer-disabled"] = {n: s for n, s in services.items() if n not in enabled}
    located = Located(positions)
    for service in enabled.values():
        apply_label_files(service)
    if options.resolve_env_files:
        folded = model["x-composer-env-files"] = {}
        missing = model[ENV_FILE_ERRORS] = {}
        for name, service in enabled.items():
            folded[name], error = _fold_env_files(name, service, environment, located)
            if error is not None:
                missing[name] = error
    if options.consistency:
        check(model, located)
    return model


ENV_FILE_ERRORS = "x-composer-env-file-errors"
"""Per service, why its ``env_file`` could not be read (a missing required file ...)."""


def _fold_env_files(name: str, service: dict[str, Any], environment: Mapping[str, str],
                    located: Located) -> tuple[tuple[list[Any], Any], ComposerError | None]:
    """Fold a service's env files (``normalize.apply_env_files``); on failure the service keeps its
    own environment and the error is returned, not raised: as Docker Compose, only the commands
    that create that service's containers (or print its configuration) fail with it."""
    from composer.spec.normalize import apply_env_files

    unfolded = (list(service.get("env_file") or []), service.get("environment"))
    try:
        return apply_env_files(service, environment), None
    except ComposerError as error:
        service.pop("env_file", None)
        if error.location is None:
            error.location = located.at("services", name, "env_file")
        return unfolded, error


def raise_env_file_error(errors: Mapping[str, Exception], names: Iterable[str]) -> None:
    """Raise the env_file error of the first of ``names`` that has one."""
    for name in names:
        if name in errors:
            raise errors[name]


def printed(model: dict[str, Any], positions: Mapping[Path, Mark]) -> dict[str, Any]:
    """The printed form of ``model``; a bad duration or byte size is reported where it was written."""
    from composer.spec.dump import to_output

    try:
        return to_output(model)
    except SemanticError as error:
        path = getattr(error, "tree_path", None)
        if path:
            error.location = Located(positions).at(*path)
        raise


def check(model: dict[str, Any], located: Located) -> None:
    """Every cross-reference and exclusivity rule of Compose."""
    services: dict[str, Any] = model.get("services") or {}
    disabled = model.get("x-composer-disabled") or {}
    for name, service in services.items():
        _check_service(name, service, model, located, disabled)
    for name, volume in (model.get("volumes") or {}).items():
        if isinstance(volume, dict) and volume.get("external") is True:
            for option in ("driver", "driver_opts", "labels"):
                if volume.get(option):
                    raise located.error(("volumes", name, option), f'conflicting parameters "external" and '
                                        f'"{option}" specified for volume "{name}"',
                                        f"remove {option} (an external volume is created elsewhere)")
    for name, secret in (model.get("secrets") or {}).items():
        if secret.get("file") and secret.get("environment"):
            raise located.error(("secrets", name), f"secret {name!r} declares both `file` and `environment`",
                                "keep only one of them")
        if not secret.get("external") and not secret.get("file") and not secret.get("environment"):
            raise located.error(("secrets", name), f"secret {name!r} must declare either `file` or `environment`",
                                "add file: PATH or environment: VAR")
    cycle = find_cycle({n: list((s.get("depends_on") or {})) for n, s in services.items()})
    if cycle:
        raise located.error(("services", cycle[0], "depends_on"),
                            "dependency cycle detected: " + " -> ".join(cycle),
                            "remove one of these depends_on (or links/network_mode/volumes_from) edges")


def _check_service(name: str, service: dict[str, Any], model: dict[str, Any], located: Located,
                   disabled: dict[str, Any]) -> None:
    at = ("services", name)
    services = model.get("services") or {}
    if "build" not in service and not service.get("image") and "provider" not in service:
        raise located.error(at, f'service "{name}" has neither an image nor a build context specified',
                            "add image: NAME or build: DIR")
    build = service.get("build") or {}
    if build.get("dockerfile_inline") and build.get("dockerfile"):
        raise located.error((*at, "build"), f"service {name!r} declares mutually exclusive dockerfile and "
                            "dockerfile_inline", "keep only one of them")
    if service.get("network_mode") and service.get("networks"):
        raise located.error((*at, "network_mode"), f"service {name!r} declares mutually exclusive "
                            "`network_mode` and `networks`", "keep only one of them")
    _check_references(name, service, model, located)
    for dependency, condition in (service.get("depends_on") or {}).items():
        if dependency in services:
            continue
        if dependency in disabled and not (condition or {}).get("required", True):
            continue
        hint = f"enable its profile ({', '.join(disabled[dependency].get('profiles', []))})" \
            if dependency in disabled else f"define service {dependency!r} or fix the name"
        field = _dependency_field(service, dependency)
        raise located.error((*at, field, dependency) if field == "depends_on" else (*at, field),
                            f'service "{name}" depends on undefined service "{dependency}" (via {field})', hint)
    mode = service.get("network_mode") or ""
    if mode.startswith("service:") and mode[8:] not in services:
        raise located.error((*at, "network_mode"), f"service {mode[8:]!r} not found for network_mode "
                            f"'service:{mode[8:]}'", "define that service or fix the name")
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise located.error((*at, "healthcheck", "test"), 'healthcheck.test must start either by '
                            '"CMD", "CMD-SHELL" or "NONE"', 'write ["CMD", "prog", "arg"] or a string')
    _check_scale(name, service, located)
    _check_resources(name, service, located)
    _check_mounts(name, service, located)


def _check_references(name: str, service: dict[str, Any], model: dict[str, Any], located: Located) -> None:
    at = ("services", name)
    for network in service.get("networks") or {}:
        if network not in (model.get("networks") or {}):
            raise located.error((*at, "networks", network), f'service "{name}" refers to undefined network '
                                f"{network}", f"declare it under the top-level networks: ({network}: {{}})")
    for i, volume in enumerate(service.get("volumes") or []):
        source = volume.get("source")
        if volume.get("type") == "volume" and source and source not in (model.get("volumes") or {}):
            raise located.error((*at, "volumes", i), f'service "{name}" refers to undefined volume {source}',
                                f"declare it under the top-level volumes: ({source}: {{}})")
    for kind in ("secrets", "configs"):
        for i, mount in enumerate(service.get(kind) or []):
            if mount.get("source") not in (model.get(kind) or {}):
                raise located.error((*at, kind, i), f'service "{name}" refers to undefined '
                                    f"{kind[:-1]} {mount.get('source')}", f"declare it under the top-level {kind}:")
    for i, mount in enumerate((service.get("build") or {}).get("secrets") or []):
        if mount.get("source") not in (model.get("secrets") or {}):
            raise located.error((*at, "build", "secrets", i), f'service "{name}" refers to undefined build '
                                f"secret {mount.get('source')}", "declare it under the top-level secrets:")


def _dependency_field(service: dict[str, Any], dependency: str) -> str:
    """Which field made ``dependency`` a dependency (links, volumes_from, network_mode ...)."""
    if any(str(link).split(":")[0] == dependency for link in service.get("links") or []):
        return "links"
    if any(str(source).split(":")[0] == dependency for source in service.get("volumes_from") or []):
        return "volumes_from"
    for namespace in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        if service.get(namespace) == f"service:{dependency}":
            return namespace
    return "depends_on"


# (service field, deploy.resources field, how to compare the values) that must agree when both are set
_RESOURCE_TWINS = (("cpus", "limits.cpus", float), ("mem_limit", "limits.memory", "bytes"),
                   ("mem_reservation", "reservations.memory", "bytes"), ("pids_limit", "limits.pids", int))


def _check_resources(name: str, service: dict[str, Any], located: Located) -> None:
    from composer.spec.dump import parse_bytes

    resources = (service.get("deploy") or {}).get("resources") or {}
    for field, twin, kind in _RESOURCE_TWINS:
        section, key = twin.split(".")
        ours, theirs = service.get(field), (resources.get(section) or {}).get(key)
        if ours is None or theirs is None:
            continue
        convert = parse_bytes if kind == "bytes" else kind
        try:
            distinct = convert(ours) != convert(theirs)
        except (ComposerError, ValueError):
            raise located.error(("services", name, field), f"invalid value {ours!r} or {theirs!r} of "
                                f"'deploy.resources.{twin}'", "write a number or a size such as 512m") from None
        if distinct:
            raise located.error(("services", name, field), f"can't set distinct values on {field!r} and "
                                f"'deploy.resources.{twin}'", "keep only one of them")


def _check_scale(name: str, service: dict[str, Any], located: Located) -> None:
    at = ("services", name)
    scale = service.get("scale")
    replicas = (service.get("deploy") or {}).get("replicas")
    if scale is not None and replicas is not None and scale != replicas:
        raise located.error((*at, "scale"), "can't set distinct values on 'scale' and "
                            "'deploy.replicas'", "keep only one of them")
    if scale is not None and scale < 0:
        raise located.error((*at, "scale"), "must be greater than or equal to 0",
                            "use 0 or more")
    count = scale if scale is not None else replicas
    if count is not None and count > 1 and service.get("container_name"):
        raise located.error((*at, "container_name"), "can't set container_name and "
                            f"{'scale' if scale is not None else 'deploy.replicas'} as container name must be "
                            "unique", "remove container_name")


def _check_mounts(name: str, service: dict[str, Any], located: Located) -> None:
    mounts: dict[str, str] = {}
    tmpfs = service.get("tmpfs") or []
    for i, entry in enumerate([tmpfs] if isinstance(tmpfs, str) else tmpfs):
        mounts.setdefault(str(entry).split(":")[0], f"services.{name}.tmpfs[{i}]")
    for i, volume in enumerate(service.get("volumes") or []):
        target = volume.get("target")
        if target in mounts:
            raise located.error(("services", name, "volumes", i), f"target {target} already mounted as "
                                f"{mounts[target]}", "use a different target path")
        mounts[target] = f"services.{name}.volumes[{i}]"
        mode = (volume.get("tmpfs") or {}).get("mode")
        if isinstance(mode, str):
            raise located.error(("services", name, "volumes", i, "tmpfs", "mode"), f"tmpfs mode must be a "
                                f"number, not the string {mode!r}", "write the mode unquoted, such as 0o755")


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as ``[a, b, c, a]``, or None (iterative DFS, no networkx)."""
    state: dict[str, int] = {}
    for root in sorted(edges):
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        trail: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                trail.append(node)
            children = sorted(edges.get(node, []))
            if index < len(children):
                stack.append((node, index + 1))
                child = children[index]
                if state.get(child) == 1:
                    return trail[trail.index(child):] + [child]
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                trail.pop()
    return None
