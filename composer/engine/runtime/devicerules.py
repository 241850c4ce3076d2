"""``--device-cgroup-rule`` / Compose's ``device_cgroup_rules``: extra devices cgroup rules
(``c 1:3 mr``, ``b 8:* rwm``, ``a *:* r``), checked as docker's CLI checks them before any reach
the cgroup (v1 devices.allow, v2 the device filter program)."""

from __future__ import annotations

import re
from typing import Iterable

from composer.errors import ContainerRuntimeError

RULE = re.compile(r"([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})")


def check_device_cgroup_rules(rules: Iterable[str]) -> None:
    """Refuse a rule that is not ``TYPE MAJOR:MINOR ACCESS``."""
    for rule in rules:
        if not RULE.fullmatch(rule):
            raise ContainerRuntimeError(f"invalid device cgroup format '{rule}'",
                                        hint="write TYPE MAJOR:MINOR ACCESS: type a|b|c, numbers or *, access of rwm")
