"""The typed, immutable project model the engine consumes (built once by :func:`bind_project`).

Its classes are ``Record``s (named tuples: ``project._replace(services=...)`` makes a changed copy)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from composer.records import Record

if TYPE_CHECKING:
    from composer.spec.loader import LoadedModel

EMPTY: Mapping[str, Any] = MappingProxyType({})  # the default of every mapping field


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


class Dependency(Record):
    """One ``depends_on`` edge."""

    condition: str = "service_started"
    required: bool = True
    restart: bool = False


class Service(Record):
    """A service in its canonical (long) form; ``raw`` holds every field as Compose prints it."""

    name: str
    image: str | None = None
    build: Mapping[str, Any] | None = None
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str | None] = EMPTY
    ports: tuple[Mapping[str, Any], ...] = ()
    volumes: tuple[Mapping[str, Any], ...] = ()
    networks: Mapping[str, Mapping[str, Any] | None] = EMPTY
    network_mode: str | None = None
    depends_on: Mapping[str, Dependency] = EMPTY
    links: tuple[str, ...] = ()
    volumes_from: tuple[str, ...] = ()
    healthcheck: Mapping[str, Any] | None = None
    restart: str | None = None
    deploy: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = EMPTY
    user: str | None = None
    working_dir: str | None = None
    hostname: str | None = None
    container_name: str | None = None
    profiles: tuple[str, ...] = ()
    scale: int | None = None
    raw: Mapping[str, Any] = EMPTY


class Project(Record):
    """A loaded compose project."""

    name: str
    working_dir: str
    config_files: tuple[str, ...] = ()
    services: Mapping[str, Service] = EMPTY
    networks: Mapping[str, Mapping[str, Any]] = EMPTY
    volumes: Mapping[str, Mapping[str, Any]] = EMPTY
    secrets: Mapping[str, Mapping[str, Any]] = EMPTY
    configs: Mapping[str, Mapping[str, Any]] = EMPTY
    environment: Mapping[str, str] = EMPTY
    disabled_services: Mapping[str, Service] = EMPTY
    profiles: tuple[str, ...] = ()
    output: Mapping[str, Any] = EMPTY
    config_hashes: Mapping[str, str] = EMPTY
    """Per service, the ``com.docker.compose.config-hash`` Docker Compose would compute."""
    resource_hashes: Mapping[str, str] = EMPTY
    """The same of each network and volume the project makes, by ``network:KEY``/``volume:KEY``."""
    env_file_errors: Mapping[str, Exception] = EMPTY
    """Per service, why its ``env_file`` could not be read; raised by :meth:`check_env_files`."""

    def check_env_files(self, names: Iterable[str]) -> None:
        """Raise the env_file error of the first of ``names`` that has one (as Docker Compose,
        only commands creating containers of such a service fail, not every command)."""
        from composer.spec.semantic import raise_env_file_error

        raise_env_file_error(self.env_file_errors, names)

    def to_dict(self) -> dict[str, Any]:
        """The canonical compose JSON (what ``composer config --format json`` prints)."""
        return thaw(self.output)


def thaw(value: Any) -> Any:
    """Plain dicts and lists again from the model's frozen mappings and tuples (``_frozen``'s inverse)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def bind_service(name: str, raw: dict[str, Any]) -> Service:
    """A Service from its printed (shaped) dict."""
    depends = {n: Dependency(condition=d.get("condition", "service_started"), required=d.get("required", True),
                             restart=d.get("restart", False)) for n, d in (raw.get("depends_on") or {}).items()}
    return Service(
        name=name, image=raw.get("image"), build=_frozen(raw.get("build")),
        command=_frozen(raw.get("command")), entrypoint=_frozen(raw.get("entrypoint")),
        environment=_frozen(raw.get("environment") or {}), ports=_frozen(raw.get("ports") or []),
        volumes=_frozen(raw.get("volumes") or []), networks=_frozen(raw.get("networks") or {}),
        network_mode=raw.get("network_mode"), depends_on=MappingProxyType(depends),
        links=tuple(raw.get("links") or ()), volumes_from=tuple(raw.get("volumes_from") or ()),
        healthcheck=_frozen(raw.get("healthcheck")), restart=raw.get("restart"), deploy=_frozen(raw.get("deploy")),
        labels=_frozen(raw.get("labels") or {}), user=raw.get("user"), working_dir=raw.get("working_dir"),
        hostname=raw.get("hostname"), container_name=raw.get("container_name"),
        profiles=tuple(raw.get("profiles") or ()), scale=raw.get("scale"), raw=_frozen(raw),
    )


class _Hashes(Mapping[str, str]):
    """Config hashes computed at first use (``down`` never uses them, and their renderer's import
    costs milliseconds), or ``known`` (stored with a cached load)."""

    def __init__(self, compute: Callable[[], dict[str, str]], known: Mapping[str, str] | None = None) -> None:
        self._compute = compute
        self._hashes: dict[str, str] | None = None if known is None else dict(known)

    def _all(self) -> dict[str, str]:
        if self._hashes is None:
            self._hashes = self._compute()
        return self._hashes

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _service_hashes(output: Mapping[str, Any], unfolded: Mapping[str, Any]) -> dict[str, str]:
    from composer.spec.render import service_hash

    return {n: service_hash(n, s, unfolded.get(n)) for n, s in (output.get("services") or {}).items()}


def _resource_hashes(project_name: str, output: Mapping[str, Any]) -> dict[str, str]:
    """The config hash of each non-external network and volume, by ``network:KEY``/``volume:KEY``."""
    return {f"{kind}:{key}": resource_hash(project_name, kind, key, raw or {})
            for kind in ("network", "volume") for key, raw in (output.get(f"{kind}s") or {}).items()
            if not (raw or {}).get("external")}


def resource_hash(project_name: str, kind: str, key: str, raw: Mapping[str, Any]) -> str:
    """The config hash of the ``kind`` (network or volume) ``key`` of a project: its rendered
    config, named (``<project>_<key>`` unless it has a ``name``)."""
    from composer.spec import render

    return getattr(render, f"{kind}_hash")({**raw, "name": raw.get("name") or f"{project_name}_{key}"})


def bind_project(loaded: "LoadedModel", profiles: tuple[str, ...] = ()) -> Project:
    """The frozen Project of a loaded model."""
    from composer.spec.semantic import ENV_FILE_ERRORS

    disabled = loaded.model.get("x-composer-disabled") or {}
    output = loaded.output
    services = {n: bind_service(n, s) for n, s in (output.get("services") or {}).items()}
    known = getattr(loaded, "hashes", None) or {}
    unfolded = loaded.model.get("x-composer-env-files") or {}
    hashes = _Hashes(lambda: _service_hashes(output, unfolded), known.get("services"))
    resource_hashes = _Hashes(lambda: _resource_hashes(loaded.name, output), known.get("resources"))
    if disabled:
        from composer.spec.dump import shape
    return Project(
        name=loaded.name, working_dir=loaded.working_dir, config_files=tuple(loaded.files),
        services=MappingProxyType(services),
        networks=_frozen(output.get("networks") or {}), volumes=_frozen(output.get("volumes") or {}),
        secrets=_frozen(output.get("secrets") or {}), configs=_frozen(output.get("configs") or {}),
        environment=MappingProxyType(dict(loaded.environment)),
        disabled_services=MappingProxyType({n: bind_service(n, shape(s, ("services", n)))
                                            for n, s in disabled.items()}),
        profiles=profiles, output=_frozen(output), config_hashes=hashes, resource_hashes=resource_hashes,
        env_file_errors=MappingProxyType(dict(loaded.model.get(ENV_FILE_ERRORS) or {})),
    )
