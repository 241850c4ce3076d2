"""``.env`` files: ``KEY=value`` lines with quotes, ``export``, comments and interpolation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Mapping

from composer.errors import InterpolationError, SourceLocation, SpecError
from composer.spec.interpolate import _TemplateError, substitute

_KEY = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z0-9_.\-\[\]]+)[ \t]*([=:]?)[ \t]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}


def _double_quoted(raw: str) -> str:
    """Unescape the body of a double-quoted value (``$`` is kept for interpolation)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append("\\$" if raw[i + 1] == "$" else _ESCAPES[raw[i + 1]])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def _quoted(text: str, start: int, quote: str) -> tuple[str, int] | None:
    """The raw body of a quoted value starting at ``start`` and the index after it."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return text[start + 1: i], i + 1
        i += 1
    return None


def parse_dotenv(text: str, file: str = ".env",
                 lookup: Callable[[str], str | None] | None = None) -> dict[str, str | None]:
    """The variables of a dotenv text; ``lookup`` resolves ``${VAR}`` not defined above."""
    values: dict[str, str | None] = {}

    def resolve(name: str) -> str | None:
        if name in values and values[name] is not None:
            return values[name]
        return lookup(name) if lookup else None

    text = text.lstrip("\ufeff")
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        stripped = text[pos:end].strip()
        line = text.count("\n", 0, pos) + 1
        if not stripped or stripped.startswith("#"):
            pos = end + 1
            continue
        match = _KEY.match(text, pos)
        rest = text[match.end():end].strip() if match else ""
        if match is None or (not match.group(2) and rest and not rest.startswith("#")):
            raise SpecError(f"invalid line {stripped!r}", location=SourceLocation(file, line),
                            hint="write KEY=VALUE")
        key = match.group(1)
        if not match.group(2):
            inherited = lookup(key) if lookup else None
            if inherited is not None:
                values[key] = inherited
            pos = end + 1
            continue
        values[key], after = _value(text, match.end(), file, line, resolve)
        newline = text.find("\n", after)
        pos = len(text) if newline < 0 else newline + 1
    return values


def _value(text: str, start: int, file: str, line: int,
           resolve: Callable[[str], str | None]) -> tuple[str, int]:
    """The value starting at ``start`` and the index where it ends."""
    first = text[start: start + 1]
    if first in ("'", '"'):
        found = _quoted(text, start, first)
        if found is None:
            raise SpecError("unterminated quoted value", location=SourceLocation(file, line),
                            hint=f"close the {first} quote")
        raw, after = found
        newline = text.find("\n", after)
        trailing = text[after: len(text) if newline < 0 else newline].strip()
        if trailing and not trailing.startswith("#"):
            raise SpecError(f"unexpected text {trailing!r} after the quoted value", location=SourceLocation(file, line),
                            hint="put the whole value inside the quotes")
        if first == "'":
            return raw, after
        return _interpolate(_double_quoted(raw), file, line, resolve), after
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    raw = text[start:end]
    comment = re.search(r"\s#", raw)
    if comment:
        raw = raw[: comment.start()]
    return _interpolate(raw.strip(), file, line, resolve), end


def _interpolate(value: str, file: str, line: int, resolve: Callable[[str], str | None]) -> str:
    try:
        return substitute(value.replace("\\$", "$$"), resolve)
    except _TemplateError as error:
        raise InterpolationError(str(error), location=SourceLocation(file, line), hint=error.hint) from None


def parse_raw(text: str) -> dict[str, str | None]:
    """``format: raw`` env files: ``KEY=VALUE`` taken literally (no quotes, no interpolation)."""
    values: dict[str, str | None] = {}
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            values[key.strip()] = value if sep else None
    return values


def read_dotenv(path: Path, lookup: Callable[[str], str | None] | None = None,
                raw: bool = False) -> dict[str, str | None]:
    """Parse the dotenv file at ``path`` (literally when ``raw``)."""
    from composer.spec.cache import record

    try:
        data = path.read_bytes()
        record(str(path), data)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read env file: {getattr(error, 'strerror', None) or error}",
                        location=SourceLocation(str(path)),
                        hint="check the path") from None
    return parse_raw(text) if raw else parse_dotenv(text, str(path), lookup)


def environment_for(project_dir: Path, env_files: list[str], process: Mapping[str, str],
                    cwd: Path | None = None) -> dict[str, str]:
    """The interpolation environment: env files (default ``.env``) under the process environment."""
    files = [Path(f) if Path(f).is_absolute() else (cwd or Path.cwd()) / f for f in env_files]
    if not env_files:
        from composer.spec.cache import record

        default = project_dir / ".env"
        files = [default] if default.is_file() else []
        if not files:
            record(str(default), None)
    merged: dict[str, str] = {}
    for file in files:
        if file.is_dir():
            raise SpecError(f"{file} is a directory", hint="--env-file takes a file")
        if not file.exists():
            raise SpecError(f"couldn't find env file: {file}", hint="check the --env-file path")
        for key, value in read_dotenv(file, lambda k: process.get(k, merged.get(k))).items():
            if value is not None:
                merged[key] = value
    merged.update(process)
    return merged
