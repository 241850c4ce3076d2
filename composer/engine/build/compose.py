"""Building compose services: ``composer build`` and the engine's ``builder`` hook for ``up --build``.

A service's canonical ``build:`` mapping becomes a BuildRequest (``request.from_service``); the
image is tagged with the service's ``image:`` (or ``<project>-<service>``) and its ``build.tags``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from composer.engine.build.request import BuildRequest, NamedContext, from_service
from composer.engine.build.secrets import SshAgent
from composer.errors import BuildError
from composer.spec.model import thaw

Emit = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ComposeBuildOptions:
    """``composer build`` flags that override a service's ``build:``."""

    no_cache: bool = False
    pull: bool = False
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    quiet: bool = False
    ssh: tuple[SshAgent, ...] = ()  # --ssh: agents added to every service's build.ssh
    push: bool = False


def service_request(project: Any, service_name: str, ref: str | None = None,
                    options: ComposeBuildOptions | None = None) -> BuildRequest:
    """The BuildRequest of one service (``ref``, when given, is its first tag)."""
    service = project.services.get(service_name)
    if service is None:
        raise BuildError(f"no such service: {service_name}")
    if not service.build:
        raise BuildError(f"service {service_name!r} has no build section",
                         hint="add build: to the service, or pull its image instead")
    source = project.config_files[0] if project.config_files else None
    request = from_service(project.name, service_name, ref or service.image, thaw(service.build), source=source,
                           secrets=thaw(project.secrets), environ=getattr(project, "environment", None))
    options = options or ComposeBuildOptions()
    args = {**request.build_args, **{k: v for k, v in options.build_args.items()}}
    contexts = tuple(_image_of_service(project, c, service_name) if c.kind == "service" else c
                     for c in request.contexts)
    labels = {**request.labels, **_compose_labels(project.name, service_name)}
    return dataclasses.replace(request, build_args=args, labels=labels, no_cache=request.no_cache or options.no_cache,
                               pull=request.pull or options.pull, quiet=options.quiet,
                               ssh=(*request.ssh, *options.ssh), contexts=contexts)


def _compose_labels(project: str, service: str) -> dict[str, str]:
    """The labels Docker Compose puts on the images it builds (``watch --prune`` finds them by these)."""
    from composer.engine import labels as L

    return {L.VERSION: L.COMPOSE_VERSION, L.PROJECT: project, L.SERVICE: service}


def _image_of_service(project: Any, context: NamedContext, owner: str) -> NamedContext:
    """``additional_contexts: NAME: service:OTHER`` as the image OTHER's build tags."""
    other = project.services.get(context.value)
    if other is None:
        raise BuildError(f"service {owner!r}: additional context {context.name}=service:{context.value} "
                         "names no service of the project", hint="name a service defined in the compose file")
    return NamedContext(name=context.name, kind="image", value=other.image or f"{project.name}-{context.value}")


def context_services(project: Any, name: str) -> list[str]:
    """The services whose images ``name``'s build uses through ``service:`` additional contexts."""
    build = project.services[name].build or {}
    raw = build.get("additional_contexts") or {}
    values = raw.values() if isinstance(raw, Mapping) else [str(v).partition("=")[2] for v in raw]
    return [str(v).removeprefix("service:") for v in values if str(v).startswith("service:")]


def build_service(project: Any, service_name: str, ref: str | None = None,
                  options: ComposeBuildOptions | None = None, emit: Emit | None = None) -> str:
    """Build one service's image and tag it; returns the image id (the engine's builder hook).

    Services it uses through ``service:`` contexts are built first when their image is missing.
    """
    from composer.engine.build.executor import build

    try:
        for other in _build_order(project, [service_name])[:-1]:
            request = service_request(project, other, None, options)
            if not _has_image(request.tags[0]):
                build(request, emit=emit)
        return build(service_request(project, service_name, ref, options), emit=emit)
    except BuildError as error:
        raise BuildError(f"service {service_name!r} failed to build: {error.message}", location=error.location,
                         hint=error.hint) from None


def build_services(project: Any, names: tuple[str, ...], options: ComposeBuildOptions, emit: Emit,
                   *, with_dependencies: bool = False) -> dict[str, str]:
    """``composer build [SERVICE...]``: each buildable service built (and pushed with ``push``).

    Services that do not use each other's images build concurrently (as Docker Compose does),
    their progress lines prefixed with the service name; the first failure is raised once the
    others of its wave have finished.
    """
    order = _build_order(project, buildable(project, names, with_dependencies=with_dependencies))
    ids: dict[str, str] = {}
    for wave in _waves(project, order):
        if len(wave) == 1:
            ids[wave[0]] = _build_one(project, wave[0], options, emit)
            continue
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(wave), 4), thread_name_prefix="compose-build") as pool:
            futures = {name: pool.submit(_build_one, project, name, options, _prefixed(emit, name))
                       for name in wave}
        for name, future in futures.items():
            ids[name] = future.result()
    return ids


def _build_one(project: Any, name: str, options: ComposeBuildOptions, emit: Emit) -> str:
    request = service_request(project, name, None, options)
    emit(f"Building {name} ({', '.join(request.tags)})")
    image_id = build_service(project, name, None, options, emit)
    emit(f"Service {name}  Built")
    if options.push:
        _push(request.tags, emit)
    return image_id


def _waves(project: Any, order: list[str]) -> list[list[str]]:
    """``order`` (context services first) grouped so no service waits on one of its own wave."""
    level: dict[str, int] = {}
    for name in order:
        level[name] = 1 + max((level[o] for o in context_services(project, name) if o in level), default=-1)
    return [[n for n in order if level[n] == depth] for depth in range(max(level.values(), default=-1) + 1)]


def _prefixed(emit: Emit, name: str) -> Emit:
    return lambda line: emit(line if line.startswith(("Building ", "Service ", "Push")) else f"{name} {line}")


def _push(tags: tuple[str, ...], emit: Emit) -> None:
    from composer.engine.images.push import push

    for tag in tags:
        emit(f"Pushing {tag}")
        push(tag)
        emit(f"Pushed {tag}")


def _build_order(project: Any, names: list[str]) -> list[str]:
    """``names`` with the services their ``service:`` contexts use before them (a cycle is an error)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise BuildError("build contexts form a cycle: " + " -> ".join((*path[path.index(name):], name)),
                             hint="an additional_contexts service: entry cannot refer back to the service")
        if name in order:
            return
        for other in context_services(project, name):
            if project.services.get(other) is not None and project.services[other].build:
                visit(other, (*path, name))
        order.append(name)

    for name in names:
        visit(name, ())
    return order


def _has_image(reference: str) -> bool:
    from composer.engine.images.store import ImageStore
    from composer.errors import ImageNotFound

    try:
        ImageStore().resolve(reference)
    except ImageNotFound:
        return False
    return True


def buildable(project: Any, names: tuple[str, ...] = (), *, with_dependencies: bool = False) -> list[str]:
    """The services ``composer build [SERVICE...]`` builds: those with a ``build:`` section.

    ``with_dependencies``: also the services the named ones depend on, dependencies first.
    """
    unknown = [n for n in names if n not in project.services]
    if unknown:
        raise BuildError(f"no such service: {unknown[0]}")
    chosen = names or tuple(project.services)
    if with_dependencies and names:
        from composer.engine.reconcile import select

        chosen = tuple(select(project, names, with_deps=True))
    return [n for n in chosen if project.services[n].build]


def make_builder(project: Any, options: ComposeBuildOptions | None = None,
                 emit: Emit | None = None) -> Callable[[str, str], str]:
    """The engine's ``Builder`` hook (``builder(service, reference) -> image id``) for ``project``."""
    return lambda service, reference: build_service(project, service, reference, options, emit)
