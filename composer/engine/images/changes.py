"""``--change`` instructions (Dockerfile syntax) applied to an image config, as `docker import` does."""

from __future__ import annotations

import json
import shlex
from typing import Any, Sequence

from composer.errors import ImageError

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR",
             "STOPSIGNAL")


def _json_or_shell(value: str, shell: bool) -> list[str]:
    """Exec form (``["a","b"]``) as given, shell form wrapped in ``/bin/sh -c``."""
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return parsed
    return ["/bin/sh", "-c", value] if shell else shlex.split(value)


def _pairs(value: str, instruction: str) -> list[tuple[str, str]]:
    """``k=v k2="v 2"`` or the legacy ``k v`` form."""
    words = shlex.split(value)
    if words and "=" not in words[0]:
        key, _, rest = value.partition(" ")
        return [(key, rest.strip())]
    pairs = []
    for word in words:
        key, eq, item = word.partition("=")
        if not eq or not key:
            raise ImageError(f"--change {instruction}: {word!r} is not KEY=VALUE")
        pairs.append((key, item))
    return pairs


def apply_change(config: dict[str, Any], change: str) -> None:
    """Apply one instruction like ``CMD ["sh"]`` or ``ENV A=1`` to the container ``config``."""
    instruction, _, value = change.strip().partition(" ")
    instruction, value = instruction.upper(), value.strip()
    if instruction not in SUPPORTED:
        raise ImageError(f"--change {change!r}: {instruction or 'empty'} is not supported",
                         hint=f"use one of {', '.join(SUPPORTED)}")
    if instruction in ("CMD", "ENTRYPOINT"):
        config["Cmd" if instruction == "CMD" else "Entrypoint"] = _json_or_shell(value, shell=True)
    elif instruction == "ENV":
        env = [item for item in config.get("Env") or []]
        for key, item in _pairs(value, instruction):
            env = [entry for entry in env if entry.split("=", 1)[0] != key] + [f"{key}={item}"]
        config["Env"] = env
    elif instruction == "LABEL":
        config.setdefault("Labels", {}).update(dict(_pairs(value, instruction)))
    elif instruction == "EXPOSE":
        for port in value.split():
            config.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
    elif instruction == "VOLUME":
        for path in _json_or_shell(value, shell=False):
            config.setdefault("Volumes", {})[path] = {}
    elif instruction == "ONBUILD":
        config.setdefault("OnBuild", []).append(value)
    else:
        key = {"USER": "User", "WORKDIR": "WorkingDir", "STOPSIGNAL": "StopSignal"}[instruction]
        config[key] = value


def apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """``config`` with every change applied in order (a new dict)."""
    result = json.loads(json.dumps(config))
    for change in changes:
        apply_change(result, change)
    return result
