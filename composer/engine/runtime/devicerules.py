"""``--device-cgroup-rule`` / Compose's ``device_cgroup_rules``: extra devices cgroup rules
(``c 1:3 mr``, ``b 8:* rwm``, ``a *:* r``), checked as docker's CLI checks them before any reach
the cgroup (v1 devices.allow, v2 the device filter program)."""

from __future__ import annotations

from composer.errors import ContainerRuntimeError


def check_device_cgroup_rules(rules: list[str]) -> None:
    """Refuse a rule that is not ``TYPE MAJOR:MINOR ACCESS`` (docker's pattern: type a, b or c;
    each number digits or ``*``; access 1-3 of rwm; checked without importing ``re``)."""
    for rule in rules:
        if not _valid(rule):
            raise ContainerRuntimeError(f"invalid device cgroup format '{rule}'",
                                        hint="write TYPE MAJOR:MINOR ACCESS: type a|b|c, numbers or *, access of rwm")


def _valid(rule: str) -> bool:
    parts = rule.split(" ")
    if len(parts) != 3 or parts[0] not in ("a", "b", "c"):
        return False
    numbers, access = parts[1].split(":"), parts[2]
    return (len(numbers) == 2 and all(n == "*" or (n.isascii() and n.isdigit()) for n in numbers)
            and 1 <= len(access) <= 3 and set(access) <= set("rwm"))
