"""The ``com.docker.compose.*`` labels, exactly as Docker Compose v2 puts them on its objects.

Observed state is rebuilt from these labels on every run, so ``composer ps`` and
``docker compose ps`` describe the same objects the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from composer import __version__

if TYPE_CHECKING:
    from composer.spec.model import Project, Service

PREFIX = "com.docker.compose"
PROJECT = f"{PREFIX}.project"
SERVICE = f"{PREFIX}.service"
CONFIG_HASH = f"{PREFIX}.config-hash"
CONTAINER_NUMBER = f"{PREFIX}.container-number"
VOLUME = f"{PREFIX}.volume"
NETWORK = f"{PREFIX}.network"
WORKING_DIR = f"{PREFIX}.project.working_dir"
CONFIG_FILES = f"{PREFIX}.project.config_files"
ENVIRONMENT_FILE = f"{PREFIX}.project.environment_file"
ONEOFF = f"{PREFIX}.oneoff"
SLUG = f"{PREFIX}.slug"
IMAGE = f"{PREFIX}.image"
DEPENDS_ON = f"{PREFIX}.depends_on"
VERSION = f"{PREFIX}.version"
IMAGE_BUILDER = f"{PREFIX}.image.builder"
REPLACE = f"{PREFIX}.replace"

COMPOSE_VERSION = __version__


def project_filter(project: str, *, oneoff: bool | None = None) -> dict[str, str | None]:
    """The label filter selecting a project's objects (optionally only/never one-off containers)."""
    wanted: dict[str, str | None] = {PROJECT: project}
    if oneoff is not None:
        wanted[ONEOFF] = "True" if oneoff else "False"
    return wanted


def depends_on_value(service: "Service") -> str:
    """``db:service_healthy:true,cache:service_started:false`` (name:condition:restart)."""
    return ",".join(f"{name}:{dep.condition}:{str(dep.restart).lower()}"
                    for name, dep in service.depends_on.items())


def parse_depends_on(value: str) -> dict[str, tuple[str, bool]]:
    """The inverse of :func:`depends_on_value`: ``{service: (condition, restart)}``.

    Like Compose, a bare name means ``service_started`` and a missing restart flag means true.
    """
    result: dict[str, tuple[str, bool]] = {}
    for item in filter(None, value.split(",")):
        name, _, rest = item.partition(":")
        condition, _, restart = rest.partition(":")
        result[name] = (condition or "service_started", restart.lower() != "false")
    return result


def project_labels(project: "Project", env_files: tuple[str, ...] = ()) -> dict[str, str]:
    """The project-wide labels of every container."""
    labels = {
        PROJECT: project.name,
        WORKING_DIR: project.working_dir,
        CONFIG_FILES: ",".join(project.config_files),
        VERSION: COMPOSE_VERSION,
    }
    if env_files:
        labels[ENVIRONMENT_FILE] = ",".join(env_files)
    return labels


def container_labels(project: "Project", service: "Service", *, number: int, config_hash: str,
                     image_id: str, oneoff: bool = False, env_files: tuple[str, ...] = (),
                     slug: str | None = None, replace: str | None = None) -> dict[str, str]:
    """A service container's labels: the service's own, then Compose's (which win)."""
    labels = dict(service.labels)
    labels.update(project_labels(project, env_files))
    labels.update({
        SERVICE: service.name,
        CONTAINER_NUMBER: str(number),
        ONEOFF: "True" if oneoff else "False",
        CONFIG_HASH: config_hash,
        DEPENDS_ON: depends_on_value(service),
        IMAGE: image_id,
    })
    if slug:
        labels[SLUG] = slug
    if replace:
        labels[REPLACE] = replace
    return labels


def network_labels(project: str, key: str, own: Mapping[str, str] | None = None) -> dict[str, str]:
    """A project network's labels (``key`` is the name in the compose file, e.g. ``default``)."""
    return {**(own or {}), PROJECT: project, NETWORK: key, VERSION: COMPOSE_VERSION}


def volume_labels(project: str, key: str, own: Mapping[str, str] | None = None) -> dict[str, str]:
    """A project volume's labels (``key`` is the name in the compose file)."""
    return {**(own or {}), PROJECT: project, VOLUME: key, VERSION: COMPOSE_VERSION}


def container_number(labels: Mapping[str, str]) -> int:
    """The container-number label as an int (0 when missing or malformed)."""
    try:
        return int(labels.get(CONTAINER_NUMBER, "0"))
    except ValueError:
        return 0
