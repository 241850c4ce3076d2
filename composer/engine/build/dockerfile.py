"""The Dockerfile parser: text -> located, typed-enough instructions (no expansion yet).

Follows Docker's parser: parser directives at the very top (``# escape=``, ``# syntax=``,
``# check=``), whole-line comments, continuation lines ending with the escape character (comment
and empty lines inside a continuation are skipped), instruction keywords case-insensitive,
leading ``--flag[=value]`` words, JSON (exec) versus shell forms and heredocs for RUN/COPY/ADD.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Iterator

from composer.errors import BuildError, SourceLocation

#: Each instruction and the flags it accepts (``*`` marks flags that may repeat).
FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount*", "network", "security"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude*"}),
    "ADD": frozenset({"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude*"}),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
    **{name: frozenset() for name in ("CMD", "ENTRYPOINT", "ENV", "LABEL", "ARG", "EXPOSE",
                                      "VOLUME", "USER", "WORKDIR", "SHELL", "STOPSIGNAL",
                                      "ONBUILD", "MAINTAINER")},
}
_BOOL_FLAGS = frozenset({"link", "parents", "keep-git-dir"})
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")
_KNOWN_DIRECTIVES = ("escape", "syntax", "check")


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A ``<<EOF`` document: its name, text, whether ``$`` expands in it, ``<<-`` and fd."""

    name: str
    content: str
    expand: bool = True
    chomp: bool = False
    fd: int | None = None


@dataclass(frozen=True, slots=True)
class Instruction:
    """One Dockerfile instruction.

    ``args`` are the words after the flags: for JSON forms the decoded list, for shell-form RUN,
    CMD, ENTRYPOINT the single command string, for HEALTHCHECK ``("CMD", ...)`` or ``("NONE",)``.
    ``pairs`` holds ENV/LABEL/ARG ``(key, raw value or None)``; values keep their quotes until
    expansion. ``original`` is the logical line as written (continuations joined).
    """

    keyword: str
    args: tuple[str, ...] = ()
    flags: tuple[tuple[str, str | None], ...] = ()
    json: bool = False
    pairs: tuple[tuple[str, str | None], ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    original: str = ""
    location: SourceLocation = field(default_factory=SourceLocation)
    sub: Instruction | None = None

    def flag(self, name: str) -> str | None:
        """The last value of a flag (``"true"`` for a bare boolean flag), or None."""
        values = self.flag_all(name)
        return values[-1] if values else None

    def flag_all(self, name: str) -> list[str]:
        return [v if v is not None else "true" for k, v in self.flags if k == name]

    @property
    def line(self) -> int | None:
        return self.location.line


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile: directives, escape char, instructions in order, parser warnings."""

    instructions: tuple[Instruction, ...]
    directives: dict[str, str]
    escape: str = "\\"
    warnings: tuple[str, ...] = ()
    file: str = "Dockerfile"


class _Lines:
    """Physical lines with their 1-based numbers and a cursor."""

    def __init__(self, text: str) -> None:
        self.lines = text.removeprefix("\ufeff").splitlines()
        self.index = 0

    def take(self) -> tuple[int, str] | None:
        if self.index >= len(self.lines):
            return None
        self.index += 1
        return self.index, self.lines[self.index - 1]


def parse(text: str, file: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text; raises BuildError naming ``file:line`` on bad syntax."""
    lines = _Lines(text)
    directives = _directives(lines, file)
    escape = directives.get("escape", "\\")
    warnings: list[str] = []
    if "syntax" in directives:
        warnings.append(f"{file}: the '# syntax={directives['syntax']}' directive is ignored: "
                        "composer has one built-in Dockerfile front end")
    instructions = [inst for inst in _instructions(lines, file, escape, warnings)]
    if not any(i.keyword == "FROM" for i in instructions):
        raise BuildError("the Dockerfile has no FROM instruction", location=SourceLocation(file),
                         hint="start the build with FROM <image> or FROM scratch")
    first_from = next(n for n, i in enumerate(instructions) if i.keyword == "FROM")
    for inst in instructions[:first_from]:
        if inst.keyword != "ARG":
            raise BuildError(f"{inst.keyword} comes before the first FROM", location=inst.location,
                             hint="only ARG may precede the first FROM")
    return Dockerfile(tuple(instructions), directives, escape, tuple(warnings), file)


def _directives(lines: _Lines, file: str) -> dict[str, str]:
    """The parser directives at the top; they stop at the first line that is not one."""
    found: dict[str, str] = {}
    while lines.index < len(lines.lines):
        match = _DIRECTIVE.match(lines.lines[lines.index].lstrip())
        if not match:
            break
        name, value = match.group(1).lower(), match.group(2)
        where = SourceLocation(file, lines.index + 1)
        if name in found:
            raise BuildError(f"only one {name} parser directive can be used", location=where)
        if name == "escape" and value not in ("\\", "`"):
            raise BuildError(f"invalid escape token {value!r} does not match ` or \\", location=where)
        if name in _KNOWN_DIRECTIVES:
            found[name] = value
        lines.index += 1
    return found


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _instructions(lines: _Lines, file: str, escape: str, warnings: list[str]) -> Iterator[Instruction]:
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    while (taken := lines.take()) is not None:
        number, raw = taken
        line = raw.strip() if continuation.search(raw) is None else raw.lstrip()
        if not line or _is_comment(line):
            continue
        logical, ended = continuation.sub("", line), continuation.search(line) is None
        empty_seen = False
        while not ended and (taken := lines.take()) is not None:
            raw = taken[1]
            if _is_comment(raw):
                continue
            if not raw.strip():
                empty_seen = True
                continue
            ended = continuation.search(raw) is None
            logical += continuation.sub("", raw) if not ended else raw.rstrip()
        location = SourceLocation(file, number)
        if empty_seen:
            warnings.append(f"{file}:{number}: empty continuation line (Docker will make this an error)")
        yield _instruction(logical.strip(), location, escape, lines)


def _instruction(line: str, location: SourceLocation, escape: str, lines: _Lines | None) -> Instruction:
    word, rest = _split_first(line)
    keyword = word.upper()
    if keyword not in FLAGS:
        raise _unknown(word, location)
    flags, rest = _flags(keyword, rest.strip(), location, escape)
    base = Instruction(keyword, flags=flags, original=line, location=location)
    try:
        return _FORMS[keyword](base, rest, escape, lines)
    except BuildError as error:
        if error.location is not None:
            raise
        raise BuildError(f"{keyword}: {error.message}", location=location, hint=error.hint) from None


def _split_first(text: str) -> tuple[str, str]:
    """The first word and the rest (whitespace between them dropped)."""
    parts = re.split(r"\s+", text.strip(), maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _unknown(word: str, location: SourceLocation) -> BuildError:
    import difflib

    close = difflib.get_close_matches(word.upper(), list(FLAGS), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "see the Dockerfile reference for instructions"
    return BuildError(f"unknown instruction: {word}", location=location, hint=hint)


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Whitespace-separated words, keeping quotes and escapes inside words (Docker's parseWords).

    The escape character protects the next character, except inside single quotes; a trailing
    escape character is dropped.
    """
    words, current, quote, index = [], [], "", 0
    while index < len(text):
        ch = text[index]
        index += 1
        if ch == escape and quote != "'":
            if index < len(text):
                current.append(ch + text[index])
                index += 1
            continue
        if quote:
            current.append(ch)
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            current.append(ch)
            quote = ch
        elif ch.isspace():
            if current:
                words.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


def _flags(keyword: str, rest: str, location: SourceLocation,
           escape: str = "\\") -> tuple[tuple[tuple[str, str | None], ...], str]:
    """Leading ``--name[=value]`` words, checked against the instruction's flags."""
    allowed = FLAGS[keyword]
    found: list[tuple[str, str | None]] = []
    while rest.startswith("--"):
        word = split_words(rest, escape)[0]
        rest = rest[len(word):].lstrip()
        if word == "--":
            break
        name, has_value, value = word[2:].partition("=")
        if name not in allowed and f"{name}*" not in allowed:
            raise BuildError(f"unknown flag: --{name} for {keyword}", location=location,
                             hint=_flag_hint(allowed))
        if name in _BOOL_FLAGS:
            value = value if has_value else "true"
            if value.lower() not in ("true", "false"):
                raise BuildError(f"expecting boolean value for flag --{name}, not {value!r}", location=location)
        elif not has_value:
            raise BuildError(f"missing a value on flag --{name}", location=location)
        if name in [k for k, _ in found] and f"{name}*" not in allowed:
            raise BuildError(f"duplicate flag specified: --{name}", location=location)
        found.append((name, _unquote(value)))
    return tuple(found), rest


def _flag_hint(allowed: frozenset[str]) -> str:
    names = sorted("--" + name.rstrip("*") for name in allowed)
    return f"allowed: {', '.join(names)}" if names else "this instruction takes no flags"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


# --- forms ------------------------------------------------------------------------------------
def _json_list(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _command(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    """RUN / CMD / ENTRYPOINT: JSON list or one shell string (RUN may carry heredocs)."""
    exec_form = _json_list(rest)
    if exec_form is not None:
        return _replace(base, args=tuple(exec_form), json=True)
    heredocs = _heredocs(base, rest, escape, lines)
    if not rest and base.keyword == "RUN":
        raise BuildError("RUN requires a command", hint="write RUN <command> or RUN [\"exe\", \"arg\"]")
    return _replace(base, args=(rest,) if rest else (), heredocs=heredocs)


def _files(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    """COPY / ADD / VOLUME: JSON list or whitespace-separated words (COPY/ADD with heredocs)."""
    exec_form = _json_list(rest)
    if exec_form is not None:
        args, is_json, heredocs = tuple(exec_form), True, ()
    else:
        heredocs = _heredocs(base, rest, escape, lines)
        args, is_json = tuple(split_words(rest, escape)), False
    minimum = 1 if base.keyword == "VOLUME" else 2
    if len(args) < minimum:
        raise BuildError(f"requires at least {minimum} argument{'s' * (minimum > 1)}",
                         hint="write COPY <src>... <dest>" if minimum > 1 else "write VOLUME /path")
    return _replace(base, args=args, json=is_json, heredocs=heredocs)


def _words(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    """FROM, EXPOSE, USER, WORKDIR, STOPSIGNAL, MAINTAINER: whitespace-separated words."""
    words = split_words(rest, escape)
    counts = {"FROM": (1, 3), "USER": (1, 1), "STOPSIGNAL": (1, 1), "EXPOSE": (1, None)}
    low, high = counts.get(base.keyword, (1, None))
    if base.keyword in ("WORKDIR", "MAINTAINER"):
        words = [rest] if rest else []
    if len(words) < low or (high is not None and len(words) > high):
        raise BuildError(f"wrong number of arguments: {len(words)}")
    if base.keyword == "FROM" and len(words) > 1 and (len(words) != 3 or words[1].lower() != "as"):
        raise BuildError("FROM requires either one or three arguments", hint="write FROM <image> [AS <name>]")
    return _replace(base, args=tuple(words))


def _shell(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    exec_form = _json_list(rest)
    if exec_form is None or not exec_form:
        raise BuildError("SHELL requires the arguments to be in JSON form", hint='write SHELL ["/bin/bash", "-c"]')
    return _replace(base, args=tuple(exec_form), json=True)


def _name_values(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    """ENV / LABEL: ``k=v k2="v 2"`` or the legacy ``k v w`` (one pair, value = rest of line)."""
    words = split_words(rest, escape)
    if not words:
        raise BuildError("requires at least one argument", hint=f"write {base.keyword} name=value")
    if "=" not in words[0]:
        key, value = _split_first(rest)
        if not value.strip():
            raise BuildError(f"{key} must have two arguments", hint=f"write {base.keyword} {key}=value")
        return _replace(base, pairs=((key, value.strip()),))
    pairs = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise BuildError(f"syntax error - can't find = in {word!r}", hint="must be of the form: name=value")
        pairs.append((key, value))
    return _replace(base, pairs=tuple(pairs))


def _arg(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    words = split_words(rest, escape)
    if not words:
        raise BuildError("requires at least one argument", hint="write ARG name[=default]")
    pairs = []
    for word in words:
        key, eq, value = word.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise BuildError(f"invalid ARG name {key!r}")
        pairs.append((key, value if eq else None))
    return _replace(base, pairs=tuple(pairs))


def _healthcheck(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    word, command = _split_first(rest)
    kind = word.upper()
    if kind == "NONE":
        if command.strip() or base.flags:
            raise BuildError("HEALTHCHECK NONE takes no arguments or flags")
        return _replace(base, args=("NONE",))
    if kind != "CMD":
        problem = f"unknown type {word!r} in HEALTHCHECK" if word else "HEALTHCHECK requires CMD or NONE"
        raise BuildError(problem, hint="write HEALTHCHECK CMD <command> or HEALTHCHECK NONE")
    command = command.strip()
    exec_form = _json_list(command)
    if exec_form is not None:
        return _replace(base, args=("CMD", *exec_form), json=True)
    if not command:
        raise BuildError("HEALTHCHECK CMD requires a command")
    return _replace(base, args=("CMD", command))


def _onbuild(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> Instruction:
    if not rest:
        raise BuildError("ONBUILD requires an instruction")
    word = rest.split(None, 1)[0].upper()
    if word in ("ONBUILD", "FROM", "MAINTAINER"):
        raise BuildError(f"{word} isn't allowed as an ONBUILD trigger")
    sub = _instruction(rest, base.location, escape, None)
    return _replace(base, args=(rest,), sub=sub)


def _replace(base: Instruction, **changes: object) -> Instruction:
    return replace(base, **changes)  # type: ignore[arg-type]


_FORMS = {"RUN": _command, "CMD": _command, "ENTRYPOINT": _command, "COPY": _files, "ADD": _files,
          "VOLUME": _files, "FROM": _words, "EXPOSE": _words, "USER": _words, "WORKDIR": _words,
          "STOPSIGNAL": _words, "MAINTAINER": _words, "SHELL": _shell, "ENV": _name_values,
          "LABEL": _name_values, "ARG": _arg, "HEALTHCHECK": _healthcheck, "ONBUILD": _onbuild}


# --- heredocs ---------------------------------------------------------------------------------
def _heredocs(base: Instruction, rest: str, escape: str, lines: _Lines | None) -> tuple[Heredoc, ...]:
    """Read the documents announced by ``<<NAME`` words from the lines after the instruction."""
    if base.keyword not in _HEREDOC_KEYWORDS or "<<" not in rest:
        return ()
    found = []
    for word in split_words(rest, escape):
        match = _HEREDOC.match(word)
        if not match or not match.group(3):
            continue
        raw_name = match.group(3)
        name = _heredoc_name(raw_name, escape)
        if not name:
            continue
        if lines is None:
            raise BuildError("heredocs are not supported in ONBUILD triggers")
        chomp = match.group(2) == "-"
        content = _read_heredoc(name, chomp, lines, base.location)
        found.append(Heredoc(name, content, expand=raw_name == name, chomp=chomp,
                             fd=int(match.group(1)) if match.group(1) else None))
    return tuple(found)


def _heredoc_name(raw: str, escape: str) -> str:
    """The delimiter with its quotes and escapes removed."""
    out, quote, escaped = [], "", False
    for ch in raw:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == escape and quote != "'":
            escaped = True
        elif quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        else:
            out.append(ch)
    return "".join(out)


def _read_heredoc(name: str, chomp: bool, lines: _Lines, where: SourceLocation) -> str:
    body = []
    while (taken := lines.take()) is not None:
        line = taken[1].lstrip("\t") if chomp else taken[1]
        if line == name:
            return "".join(part + "\n" for part in body)
        body.append(line)
    raise BuildError(f"unterminated heredoc {name!r}: no line {name!r} before the end of the file",
                     location=where)
