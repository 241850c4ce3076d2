"""``${VAR}`` interpolation of every string value, with Compose's type casts afterwards."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from composer.errors import InterpolationError
from composer.spec.source import Mark, Path, locate
from composer.spec.treepath import Cursor, Rules, cursor

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_OPERATORS = (":?", "?", ":-", "-", ":+", "+")
Lookup = Callable[[str], "str | None"]


class _TemplateError(Exception):
    """Raised inside the substitution; turned into a located InterpolationError."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose body starts at ``start`` (-1 if none)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def substitute(text: str, lookup: Lookup) -> str:
    """``text`` with every ``$VAR``/``${VAR...}`` replaced and ``$$`` unescaped."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        dollar = text.find("$", i)
        if dollar < 0:
            out.append(text[i:])
            break
        out.append(text[i:dollar])
        following = text[dollar + 1: dollar + 2]
        if following == "$":
            out.append("$")
            i = dollar + 2
        elif following == "{":
            end = _closing_brace(text, dollar + 2)
            if end < 0:
                raise _TemplateError(f"invalid interpolation format: {text!r}",
                                     "close the ${ with } or write $$ for a literal $")
            out.append(_braced(text[dollar + 2: end], text, lookup))
            i = end + 1
        else:
            name = _NAME.match(text, dollar + 1)
            if name is None:
                raise _TemplateError(f"invalid interpolation format: {text!r}",
                                     "write $$ for a literal $")
            out.append(lookup(name.group()) or "")
            i = name.end()
    return "".join(out)


def _braced(body: str, whole: str, lookup: Lookup) -> str:
    """The value of one ``${...}`` body."""
    name = _NAME.match(body)
    if name is None:
        raise _TemplateError(f"invalid interpolation format: {whole!r}",
                             "a variable name starts with a letter or _")
    variable, rest = name.group(), body[name.end():]
    if not rest:
        return lookup(variable) or ""
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise _TemplateError(f"invalid interpolation format: {whole!r}",
                             "use one of :- - :? ? :+ + after the name")
    argument = rest[len(operator):]
    value = lookup(variable)
    empty_counts = operator.startswith(":")
    missing = value is None or (empty_counts and value == "")
    if operator.endswith("?"):
        if missing:
            reason = substitute(argument, lookup)
            message = f"required variable {variable} is missing a value"
            raise _TemplateError(f"{message}: {reason}" if reason else message,
                                 f"set {variable} in the environment or the .env file")
        return value or ""
    if operator.endswith("-"):
        return substitute(argument, lookup) if missing else (value or "")
    return "" if missing else substitute(argument, lookup)


def variables_in(text: str, found: dict[str, dict[str, Any]]) -> None:
    """Record every variable ``text`` uses: name, default, alternate (presence) value, required."""
    i = text.find("$")
    while 0 <= i < len(text) - 1:
        following = text[i + 1]
        if following == "$":
            i = text.find("$", i + 2)
            continue
        if following == "{":
            end = _closing_brace(text, i + 2)
            body = text[i + 2: end] if end > 0 else ""
            name = _NAME.match(body)
            if name is not None:
                rest = body[name.end():]
                operator = next((op for op in _OPERATORS if rest.startswith(op)), "")
                argument = rest[len(operator):]
                entry = found.setdefault(name.group(), {"Name": name.group(), "DefaultValue": "",
                                                        "PresenceValue": "", "Required": False})
                if operator.endswith("-"):
                    entry["DefaultValue"] = argument
                elif operator.endswith("+"):
                    entry["PresenceValue"] = argument
                elif operator.endswith("?"):
                    entry["Required"] = True
                variables_in(argument, found)
            i = text.find("$", end + 1) if end > 0 else -1
            continue
        name = _NAME.match(text, i + 1)
        if name is not None:
            found.setdefault(name.group(), {"Name": name.group(), "DefaultValue": "", "PresenceValue": "",
                                            "Required": False})
        i = text.find("$", i + 1)


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "y", "yes", "on"):
        return True
    if lowered in ("false", "n", "no", "off"):
        return False
    raise ValueError(f"invalid boolean: {text}")


_CASTS: list[tuple[str, Callable[[str], Any]]] = [
    *((f"services.*.{k}", int) for k in (
        "cpu_count", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares",
        "deploy.replicas", "deploy.update_config.parallelism", "deploy.rollback_config.parallelism",
        "deploy.restart_policy.max_attempts", "deploy.placement.max_replicas_per_node",
        "healthcheck.retries", "oom_score_adj", "pids_limit", "ports.[].target", "scale",
        "ulimits.*", "ulimits.*.hard", "ulimits.*.soft")),
    *((f"services.*.{k}", float) for k in (
        "cpu_percent", "cpus", "deploy.update_config.max_failure_ratio",
        "deploy.rollback_config.max_failure_ratio")),
    *((f"services.*.{k}", _to_bool) for k in (
        "init", "depends_on.*.required", "depends_on.*.restart", "healthcheck.disable",
        "oom_kill_disable", "privileged", "read_only", "stdin_open", "tty",
        "volumes.[].read_only", "volumes.[].volume.nocopy")),
    *((f"networks.*.{k}", _to_bool) for k in (
        "external", "internal", "attachable", "enable_ipv4", "enable_ipv6")),
    *((f"{kind}.*.external", _to_bool) for kind in ("volumes", "secrets", "configs")),
]


_CAST_RULES: Rules[Callable[[str], Any]] = Rules(dict(_CASTS))



def interpolate(data: Any, environment: Mapping[str, str], file: str | None = None,
                positions: Mapping[Path, Mark] | None = None) -> Any:
    """A copy of ``data`` with every string interpolated from ``environment`` and cast."""
    lookup: Lookup = environment.get

    def walk(value: Any, path: Path, at: Cursor[Callable[[str], Any]]) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, (*path, key), at.child(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*path, i), at.child(i)) for i, item in enumerate(value)]
        if not isinstance(value, str):
            return value
        try:
            result: Any = substitute(value, lookup)
            cast = at.value
            if cast is not None and isinstance(result, str):
                result = cast(result)
            return result
        except _TemplateError as error:
            raise InterpolationError(str(error), location=locate(positions, path, file),
                                     hint=error.hint) from None
        except ValueError as error:
            raise InterpolationError(f"failed to cast to expected type: {error}",
                                     location=locate(positions, path, file),
                                     hint="use a value of the expected type") from None

    return walk(data, (), cursor(_CAST_RULES))

