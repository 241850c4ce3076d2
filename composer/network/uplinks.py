"""Forwarding on the host's uplinks, shared by every state root.

Forwarding is decided per *input* interface (IPv4's ``forwarding``, IPv6's ``force_forwarding``),
so replies coming back to containers through a host interface need it on that interface. composer
turns it on for routed interfaces that had it off and turns it off again when no network needs it.
Several state roots may share an interface (the real root, tests' temporary roots, other
``COMPOSER_ROOT``s): ``/run/composer-uplinks.json`` records which state folders claim each
interface, changed under the host-wide lock, so that one root removing its last network never cuts
the others' way out, and the last one out switches it off. Claims of folders that no longer exist
(a root deleted without teardown) are dropped, and their interfaces switched off when unclaimed.
"""

from __future__ import annotations

import os

from composer.network.firewall import FORWARDING, read_sysctl, routed_interfaces, write_sysctl
from composer.engine.runtime.state import read_json, write_json_atomic
from composer.network.store import host_locked

REGISTRY = "/run/composer-uplinks.json"


def _load(family: str) -> tuple[dict, dict[str, list[str]]]:
    """The registry and its claims for ``family``, without folders that are gone (interfaces
    nobody claims any more are switched off here)."""
    try:
        data = read_json(REGISTRY)
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data[""] = repr(data)  # as read: ``_save`` writes only a change
    claims = data.setdefault(family, {})
    for name, folders in list(claims.items()):
        folders[:] = [folder for folder in folders if os.path.isdir(folder)]
        if read_sysctl(name, FORWARDING[family], family) is None:  # the interface is gone
            del claims[name]
        elif not folders:
            _switch(name, family, "0")
            del claims[name]
    return data, claims


def _switch(name: str, family: str, value: str) -> None:
    if read_sysctl(name, FORWARDING[family], family) is not None:
        write_sysctl(name, FORWARDING[family], value, family)


def _save(data: dict) -> None:
    if data.pop("") == repr(data):
        return
    if any(data.values()):
        write_json_atomic(REGISTRY, data)
    elif os.path.exists(REGISTRY):
        os.unlink(REGISTRY)


def claim(folder: str, ours: set[str], family: str = "ipv4", already: list[str] = ()) -> list[str]:
    """Forwarding on for every routed interface (not ``ours``, not lo) that had it off or that
    another root claims; return the interfaces ``folder`` now claims (``already``: the ones it
    switched on itself before this registry existed, claimed too)."""
    with host_locked():
        data, claims = _load(family)
        for name in already:
            if folder not in claims.get(name, []) and read_sysctl(name, FORWARDING[family], family) is not None:
                claims.setdefault(name, []).append(folder)
        everywhere = family == "ipv6" and read_sysctl("all", "forwarding", "ipv6") == "1"
        for name in [] if everywhere else routed_interfaces(family):
            if name in ours or name == "lo" or _composer_bridge(name):
                continue
            value = read_sysctl(name, FORWARDING[family], family)
            if value == "0":
                if not _switched_on(name, family):
                    continue  # gone meanwhile
            elif value != "1" or name not in claims:  # on by the host's own choice: none of ours
                continue
            if folder not in claims.setdefault(name, []):  # on already for another root: claimed too
                claims[name].append(folder)
        _save(data)
        return sorted(name for name, folders in claims.items() if folder in folders)


def _composer_bridge(name: str) -> bool:
    """A bridge of some state root (being deleted, or another root's): never an uplink."""
    return name.startswith("cm") or name == "composer0"


def _switched_on(name: str, family: str) -> bool:
    """Forwarding on for ``name``; False when the interface went away meanwhile."""
    from composer.errors import NetworkError

    try:
        write_sysctl(name, FORWARDING[family], "1", family)
    except NetworkError:
        if read_sysctl(name, FORWARDING[family], family) is None:
            return False
        raise
    return True


def drop_abandoned() -> None:
    """Drop the claims of state folders that no longer exist, switching forwarding off where
    nobody else claims it (a root deleted without teardown). The caller holds the host-wide lock
    (``orphans.sweep_abandoned``, under ``NetworkManager.create``'s)."""
    for family in FORWARDING:
        data, _ = _load(family)
        _save(data)


def release(folder: str, family: str = "ipv4") -> None:
    """Drop ``folder``'s claims; switch forwarding off where nobody else claims it."""
    with host_locked():
        data, claims = _load(family)
        for name, folders in list(claims.items()):
            if folder in folders:
                folders.remove(folder)
            if not folders:
                _switch(name, family, "0")
                del claims[name]
        _save(data)
