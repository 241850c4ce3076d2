"""Registry credentials as `docker login` keeps them: ``config.json``'s ``auths``, or a credential
helper (``credHelpers`` per registry, ``credsStore`` for all) run as ``docker-credential-<name>``.

The helper protocol: ``get``/``erase`` read the server URL on stdin, ``store`` reads
``{"ServerURL", "Username", "Secret"}``; ``get`` prints that JSON or fails with
"credentials not found".
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from composer.engine.images.content import atomic_write
from composer.errors import ImageError

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


IDENTITY_TOKEN_USER = "<token>"  # docker's user name for an identity (OAuth2 refresh) token


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password, or ``IDENTITY_TOKEN_USER`` and an identity token, for one registry."""

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


_HELPER_PREFIX = "docker-credential-"
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_FOUND = "credentials not found"


def helper_for(config: dict, domain: str, path: Path) -> str | None:
    """The credential helper configured for ``domain`` (``credHelpers`` first, then ``credsStore``)."""
    helpers = config.get("credHelpers") or {}
    name = next((helpers[key] for key in _candidates(domain) if helpers.get(key)), None)
    name = name or config.get("credsStore") or None
    if name is not None and not _HELPER_NAME.fullmatch(name):
        raise ImageError(f"invalid credential helper name {name!r} in {path}",
                         hint="credsStore/credHelpers name a docker-credential-<name> program")
    return name


def _run_helper(name: str, action: str, payload: str, path: Path) -> str | None:
    """Run ``docker-credential-<name> <action>``; its stdout, or None when it has no credentials."""
    import shutil
    import subprocess

    program = shutil.which(_HELPER_PREFIX + name)
    if program is None:
        raise ImageError(f"credential helper {_HELPER_PREFIX}{name} is not on PATH (configured in {path})",
                         hint="install it, or remove credsStore/credHelpers from the file")
    try:
        result = subprocess.run([program, action], input=payload, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ImageError(f"credential helper {_HELPER_PREFIX}{name} {action} failed: {error}") from None
    if result.returncode != 0:
        message = (result.stdout.strip() or result.stderr.strip())[:300]
        if _NOT_FOUND in message.lower():
            return None
        raise ImageError(f"credential helper {_HELPER_PREFIX}{name} {action} failed: {message}")
    return result.stdout


def _helper_get(name: str, domain: str, path: Path) -> Credentials | None:
    answer = _run_helper(name, "get", config_key(domain), path)
    if answer is None:
        return None
    try:
        document = json.loads(answer)
        return Credentials(document["Username"], document["Secret"])
    except (ValueError, KeyError, TypeError):
        raise ImageError(f"credential helper {_HELPER_PREFIX}{name} answered something other than "
                         '{"Username": .., "Secret": ..}') from None


def lookup(domain: str, path: Path | None = None) -> Credentials | None:
    """Stored credentials for the registry ``domain`` (None when there are none)."""
    path = path or config_path()
    config = _read_config(path)
    helper = helper_for(config, domain, path)
    if helper is not None:
        found = _helper_get(helper, domain, path)
        if found is not None:
            return found
    return _lookup_auths(config.get("auths") or {}, domain)


def _lookup_auths(auths: dict, domain: str) -> Credentials | None:
    for key in _candidates(domain):
        entry = auths.get(key)
        if not entry:
            continue
        if entry.get("identitytoken"):
            return Credentials(IDENTITY_TOKEN_USER, entry["identitytoken"])
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


def _write_config(path: Path, config: dict) -> None:
    atomic_write(path, json.dumps(config, indent="\t").encode() + b"\n")
    os.chmod(path, 0o600)


def store(domain: str, credentials: Credentials, path: Path | None = None) -> Path:
    """Save ``credentials`` for ``domain`` (its helper, else the file, mode 0600); returns the file."""
    path = path or config_path()
    config = _read_config(path)
    helper = helper_for(config, domain, path)
    if helper is not None:
        secret = {"ServerURL": config_key(domain), "Username": credentials.username, "Secret": credentials.password}
        _run_helper(helper, "store", json.dumps(secret), path)
        entry: dict = {}  # docker keeps an empty entry so `docker login` lists the registry
    else:
        entry = {"auth": base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()}
    config.setdefault("auths", {})[config_key(domain)] = entry
    _write_config(path, config)
    return path


def kept_in_file(domain: str, path: Path | None = None) -> bool:
    """Whether ``domain``'s credentials go to the file itself (no credential helper): docker warns."""
    path = path or config_path()
    return helper_for(_read_config(path), domain, path) is None


def remove(domain: str, path: Path | None = None) -> bool:
    """Forget the credentials of ``domain`` (in its helper too); False when there were none."""
    path = path or config_path()
    config = _read_config(path)
    helper = helper_for(config, domain, path)
    erased = helper is not None and _run_helper(helper, "erase", config_key(domain), path) is not None
    auths = config.get("auths") or {}
    found = [key for key in _candidates(domain) if key in auths]
    for key in found:
        del auths[key]
    if found:
        _write_config(path, config)
    return bool(found) or erased
