"""Process-wide settings read from the environment (one place, so tests can override them)."""

from __future__ import annotations

import os
TYPE_CHECKING = False  # typing itself is not imported on the hot path
if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_STATE_ROOT = "/var/lib/composer"


def state_root_dir() -> str:
    """The state root as a string: for hot paths that should not import pathlib."""
    return os.environ.get("COMPOSER_ROOT") or DEFAULT_STATE_ROOT


def state_root() -> "Path":
    """The directory that holds all of composer's state (``COMPOSER_ROOT`` overrides it)."""
    from pathlib import Path

    return Path(state_root_dir())


REGISTRY_CERTS_ENV = "COMPOSER_REGISTRY_CERTS_DIR"


def registry_certs_dirs() -> list[str]:
    """Where ``<host[:port]>/`` TLS directories live (ca.crt, client.cert/.key), as docker's certs.d.

    ``$COMPOSER_REGISTRY_CERTS_DIR`` replaces the defaults (tests use a private one).
    """
    override = os.environ.get(REGISTRY_CERTS_ENV)
    return [override] if override else ["/etc/docker/certs.d", "/etc/containers/certs.d"]


DOCKER_DAEMON_CONFIG_ENV = "COMPOSER_DOCKER_DAEMON_CONFIG"


def docker_daemon_config() -> str:
    """docker's ``daemon.json``, read for ``insecure-registries`` (``$COMPOSER_DOCKER_DAEMON_CONFIG``
    overrides the path; tests use a private one)."""
    return os.environ.get(DOCKER_DAEMON_CONFIG_ENV) or "/etc/docker/daemon.json"


LOCK_WAIT_ENV = "COMPOSER_LOCK_WAIT"


def lock_wait() -> float:
    """How long (seconds) a copy or a supervisor waits for a container's mount lock before it
    gives up (``$COMPOSER_LOCK_WAIT``, default 30; tests use a short one)."""
    try:
        return float(os.environ.get(LOCK_WAIT_ENV) or 30)
    except ValueError:
        return 30.0
