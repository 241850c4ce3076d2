"""Registry credentials in docker's ``config.json`` (``auths``), as `docker login` keeps them."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from composer.engine.images.content import atomic_write
from composer.errors import ImageError

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or identity token) for one registry."""

    username: str
    password: str


def config_path() -> Path:
    """``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return Path(base) / "config.json"


def _read_config(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ImageError(f"cannot read {path}: {error}", hint="fix or remove the file") from None


def config_key(domain: str) -> str:
    """The ``auths`` key docker uses for ``domain``."""
    return DOCKER_HUB_KEYS[0] if domain in DOCKER_HUB_KEYS else domain


def _candidates(domain: str) -> list[str]:
    keys = list(DOCKER_HUB_KEYS) if domain in DOCKER_HUB_KEYS else [domain]
    return keys + [f"https://{key}" for key in keys] + [f"http://{key}" for key in keys]


def lookup(domain: str, path: Path | None = None) -> Credentials | None:
    """Stored credentials for the registry ``domain`` (None when there are none)."""
    auths = _read_config(path or config_path()).get("auths") or {}
    for key in _candidates(domain):
        entry = auths.get(key)
        if not entry:
            continue
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except ValueError:
                raise ImageError(f"the stored credentials for {key} are not valid base64",
                                 hint=f"composer login {domain}") from None
            return Credentials(user, password)
        if entry.get("username"):
            return Credentials(entry["username"], entry.get("password", ""))
    return None


def store(domain: str, credentials: Credentials, path: Path | None = None) -> Path:
    """Save ``credentials`` for ``domain`` (mode 0600); returns the file written."""
    path = path or config_path()
    config = _read_config(path)
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    config.setdefault("auths", {})[config_key(domain)] = {"auth": token}
    atomic_write(path, json.dumps(config, indent="\t").encode() + b"\n")
    os.chmod(path, 0o600)
    return path


def remove(domain: str, path: Path | None = None) -> bool:
    """Forget the credentials of ``domain``; False when there were none."""
    path = path or config_path()
    config = _read_config(path)
    auths = config.get("auths") or {}
    found = [key for key in _candidates(domain) if key in auths]
    for key in found:
        del auths[key]
    if found:
        atomic_write(path, json.dumps(config, indent="\t").encode() + b"\n")
    return bool(found)
