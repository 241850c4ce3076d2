"""The frozen options of every project command (what the CLI flags become)."""

from __future__ import annotations

from typing import Callable, Literal, Mapping

from composer.engine.runtime.base import EMPTY, MountSpec, PortSpec
from composer.records import Record

Recreate = Literal["diverged", "force", "never"]


class UpOptions(Record):
    """``up`` and ``create``. ``services`` empty = all; ``recreate`` is ``--force-recreate``
    (force) / ``--no-recreate`` (never); ``always_recreate_deps`` force-recreates the
    dependencies of the named services (Compose's ``RecreateDependencies``)."""

    services: tuple[str, ...] = ()
    no_deps: bool = False
    recreate: Recreate = "diverged"
    always_recreate_deps: bool = False
    scale: Mapping[str, int] = EMPTY
    remove_orphans: bool = False
    no_start: bool = False
    pull: str | None = None  # always | missing | never; None: each service's pull_policy
    build: bool = False
    renew_anon_volumes: bool = False
    timeout: float | None = None
    wait: bool = False
    wait_timeout: float | None = None
    parallel: int = 0  # 0: unbounded
    env_files: tuple[str, ...] = ()
    all_resources: bool = False  # --all-resources: also the networks and volumes no service uses
    assume_yes: bool = False  # -y: recreate volumes whose definition changed (their data is lost)
    confirm: Callable[[str], bool] | None = None  # without -y: asks whether to do that (None: no)
    no_build: bool = False  # --no-build: a missing image is pulled (when named) or refused, never built
    quiet_pull: bool = False  # --quiet-pull: the pulls' lines without their layers'


class DownOptions(Record):
    """``down``: ``volumes`` is ``-v``, ``rmi`` is ``--rmi local|all``."""

    services: tuple[str, ...] = ()
    volumes: bool = False
    rmi: str | None = None
    remove_orphans: bool = False
    timeout: float | None = None
    parallel: int = 0


class PsOptions(Record):
    """``ps``: ``all`` is ``-a``; ``status`` filters by state."""

    services: tuple[str, ...] = ()
    all: bool = False
    status: tuple[str, ...] = ()


class LifecycleOptions(Record):
    """``start``/``stop``/``restart``/``kill``/``pause``/``unpause``/``rm``."""

    services: tuple[str, ...] = ()
    timeout: float | None = None
    signal: str = "SIGKILL"
    no_deps: bool = False
    stop: bool = False  # rm -s: stop first
    volumes: bool = False  # rm -v
    parallel: int = 0


class RunOptions(Record):
    """``run``: a one-off container of ``service`` (None fields keep the service's value)."""

    service: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str] = EMPTY
    name: str | None = None
    no_deps: bool = False
    remove: bool = False  # --rm
    user: str | None = None
    workdir: str | None = None
    service_ports: bool = False
    publish: tuple[PortSpec, ...] = ()
    volumes: tuple[MountSpec, ...] = ()
    labels: Mapping[str, str] = EMPTY
    tty: bool = True
    interactive: bool = True
    use_aliases: bool = False
    pull: str | None = None  # --pull always|missing|never (None: the service's pull_policy)
    build: bool = False  # --build: the service's and its dependencies' images, each once
    remove_orphans: bool = False  # --remove-orphans: stopped and removed first, as up's
    quiet_pull: bool = False  # --quiet-pull: the pulls' lines without their layers' (dependencies' too)
