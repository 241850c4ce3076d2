"""Docker's word expansion for Dockerfiles (moby's ``shell`` lexer, written anew).

A word is processed left to right: quotes are removed (``'...'`` is literal, ``"..."`` expands
``$``), the escape character (``\\`` or the ``# escape=`` one) escapes the next character, and
``$VAR`` / ``${VAR}`` / ``${VAR:-d}`` / ``${VAR:+r}`` / ``${VAR-d}`` / ``${VAR+r}`` /
``${VAR:?msg}`` / ``${VAR?msg}`` / ``${VAR#p}`` / ``${VAR%p}`` are substituted. Unknown variables
become empty strings. The expansion never runs a command: there is no ``$(...)``.

The module also holds the build-argument rules: ARG scoping before and after ``FROM``, the
predefined proxy and platform args, build args overriding defaults and the "not consumed"
warning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from composer.errors import BuildError

#: Instructions whose arguments get variable expansion (moby's ``replaceEnvAllowed``).
EXPANDING = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER",
                       "VOLUME", "WORKDIR", "ARG"})
#: Flags whose value is expanded, per instruction.
EXPANDING_FLAGS = {"COPY": {"from", "chown", "chmod", "exclude"},
                   "ADD": {"chown", "chmod", "checksum", "exclude"},
                   "FROM": {"platform"}, "RUN": {"mount", "network", "security"}}

PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
              "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
PLATFORM_ARGS = ("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
                 "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT")
_SPECIAL_PARAMS = set("@*#?-$!0")
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
         "armv7l": "arm", "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
         "riscv64": "riscv64"}


class _Scanner:
    """A cursor over one word."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch


@dataclass
class _Run:
    """The state of one expansion: the environment, the used names and the split words."""

    env: Mapping[str, str]
    escape: str
    split: bool
    used: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    in_word: bool = False

    def add(self, text: str, *, splittable: bool = False) -> None:
        if not (self.split and splittable):
            self.current.append(text)
            self.in_word = self.in_word or bool(text) or not splittable
            return
        for index, piece in enumerate(re.split(r"[ \t\n]+", text)):
            if index:
                self.flush()
            if piece:
                self.current.append(piece)
                self.in_word = True

    def flush(self) -> None:
        if self.in_word:
            self.words.append("".join(self.current))
        self.current, self.in_word = [], False


class Lexer:
    """Expands Dockerfile words with a given escape character."""

    def __init__(self, escape: str = "\\") -> None:
        self.escape = escape

    def expand(self, word: str, env: Mapping[str, str], used: set[str] | None = None) -> str:
        """The word with quotes removed and variables substituted (one string)."""
        run = _Run(env, self.escape, split=False)
        self._word(_Scanner(word), run, stop="")
        if used is not None:
            used |= run.used
        return "".join(run.current)

    def expand_raw(self, text: str, env: Mapping[str, str]) -> str:
        """Only ``$`` substitutions, quotes and escapes kept (heredoc bodies of COPY/ADD)."""
        run = _Run(env, self.escape, split=False)
        scan = _Scanner(text)
        out = []
        while scan.peek():
            ch = scan.peek()
            if ch == self.escape and scan.text[scan.pos + 1:scan.pos + 2] == "$":
                scan.next()
                out.append(scan.next())
            elif ch == "$":
                out.append(self._dollar(scan, run))
            else:
                out.append(scan.next())
        return "".join(out)

    def expand_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """The word split on unquoted whitespace (also inside unquoted variable values)."""
        run = _Run(env, self.escape, split=True)
        self._word(_Scanner(word), run, stop="")
        run.flush()
        return run.words

    def _word(self, scan: _Scanner, run: _Run, stop: str) -> None:
        while scan.peek() and scan.peek() != stop:
            ch = scan.peek()
            if ch == "'":
                scan.next()
                run.add(self._single_quoted(scan))
            elif ch == '"':
                scan.next()
                run.add(self._double_quoted(scan, run))
            elif ch == "$":
                run.add(self._dollar(scan, run), splittable=True)
            elif ch == self.escape:
                scan.next()
                run.add(scan.next())
            elif run.split and ch in " \t\n":
                scan.next()
                run.flush()
            else:
                run.add(scan.next())

    def _single_quoted(self, scan: _Scanner) -> str:
        out = []
        while True:
            ch = scan.next()
            if not ch:
                raise BuildError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def _double_quoted(self, scan: _Scanner, run: _Run) -> str:
        out = []
        while True:
            ch = scan.peek()
            if not ch:
                raise BuildError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                scan.next()
                return "".join(out)
            if ch == "$":
                out.append(self._dollar(scan, run))
                continue
            scan.next()
            if ch == self.escape and scan.peek() in ('"', "$", self.escape) and scan.peek():
                ch = scan.next()
            out.append(ch)

    def _dollar(self, scan: _Scanner, run: _Run) -> str:
        scan.next()  # the "$"
        if scan.peek() != "{":
            name = _name(scan)
            if not name:
                return "$"
            return self._lookup(name, run) or ""
        scan.next()
        name = _name(scan)
        if not name:
            raise BuildError(f"bad substitution: missing variable name at {scan.text!r}")
        ch = scan.next()
        if not ch:
            raise BuildError(f"missing '}}' in {scan.text!r}")
        if ch == "}":
            return self._lookup(name, run) or ""
        if ch == ":" and scan.peek() in "-+?" and scan.peek():
            return self._modifier(name, scan.next(), True, scan, run)
        if ch in ("-", "+", "?"):
            return self._modifier(name, ch, False, scan, run)
        if ch in ("#", "%"):
            return self._trim(name, ch, scan, run)
        if ch == "/":
            return self._replace(name, scan, run)
        raise BuildError(f"unsupported modifier {ch!r} in substitution of {name!r}",
                         hint="use ${VAR}, ${VAR:-default}, ${VAR:+alt} or ${VAR:?message}")

    def _argument(self, scan: _Scanner, run: _Run, stop: str = "}", raw: bool = False) -> str:
        """The word after a modifier, up to ``stop`` (``raw`` keeps escapes, for patterns)."""
        inner = _Run(run.env, run.escape, split=False, used=run.used)
        while scan.peek() and scan.peek() not in stop:
            if raw and scan.peek() == self.escape:
                scan.next()
                inner.add("\\" + scan.next())
                continue
            ch = scan.peek()
            if ch == "$":
                inner.add(self._dollar(scan, run))
            elif ch == "'":
                scan.next()
                inner.add(self._single_quoted(scan))
            elif ch == '"':
                scan.next()
                inner.add(self._double_quoted(scan, run))
            elif ch == self.escape:
                scan.next()
                inner.add(scan.next())
            else:
                inner.add(scan.next())
        if not scan.peek():
            raise BuildError(f"missing '}}' in {scan.text!r}")
        return "".join(inner.current)

    def _modifier(self, name: str, op: str, colon: bool, scan: _Scanner, run: _Run) -> str:
        word = self._argument(scan, run)
        scan.next()
        value = self._lookup(name, run)
        present = value is not None and (value != "" or not colon)
        if op == "-":
            return value if present else word  # type: ignore[return-value]
        if op == "+":
            return word if present else ""
        if not present:
            detail = word or ("is not allowed to be empty" if colon and value == "" else
                              "is not allowed to be unset")
            raise BuildError(f"{name}: {detail}")
        return value  # type: ignore[return-value]

    def _trim(self, name: str, op: str, scan: _Scanner, run: _Run) -> str:
        """``${VAR#p}`` ``${VAR##p}`` (prefix) and ``${VAR%p}`` ``${VAR%%p}`` (suffix) removal."""
        greedy = scan.peek() == op
        if greedy:
            scan.next()
        pattern = _shell_pattern(self._argument(scan, run, raw=True))
        scan.next()
        value = self._lookup(name, run) or ""
        sizes = range(len(value), -1, -1) if greedy else range(len(value) + 1)
        for size in sizes:
            part = value[:size] if op == "#" else value[len(value) - size:]
            if pattern.fullmatch(part):
                return value[size:] if op == "#" else value[:len(value) - size]
        return value

    def _replace(self, name: str, scan: _Scanner, run: _Run) -> str:
        """``${VAR/pattern/replacement}`` (first match) and ``${VAR//pattern/replacement}`` (all)."""
        every = scan.peek() == "/"
        if every:
            scan.next()
        needle = self._argument(scan, run, stop="/}", raw=True)
        if scan.next() != "/":
            raise BuildError(f"bad substitution in {scan.text!r}: expected ${{{name}/pattern/replacement}}")
        replacement = self._argument(scan, run)
        scan.next()
        value = self._lookup(name, run) or ""
        if not needle:
            return replacement + value if not every else value
        regex = _shell_pattern(needle, greedy=True)
        return regex.sub(lambda _m: replacement, value, count=0 if every else 1)

    @staticmethod
    def _lookup(name: str, run: _Run) -> str | None:
        run.used.add(name)
        return run.env.get(name)


def _shell_pattern(text: str, greedy: bool = True) -> re.Pattern[str]:
    """A shell glob (``*``, ``?``, backslash escapes) as a regex; ``[`` is literal here."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise BuildError(f"bad pattern {text!r}: trailing escape")
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" and greedy else ".*?" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _name(scan: _Scanner) -> str:
    """A variable name: letters, digits and ``_``; or one digit run / special parameter."""
    ch = scan.peek()
    if ch.isdigit():
        out = []
        while scan.peek().isdigit():
            out.append(scan.next())
        return "".join(out)
    if ch and ch in _SPECIAL_PARAMS:
        return scan.next()
    out = []
    while scan.peek() and (scan.peek().isalnum() or scan.peek() == "_"):
        out.append(scan.next())
    return "".join(out)


# --- build arguments --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI platform: ``linux/amd64``, ``linux/arm/v7``."""

    os: str = "linux"
    arch: str = "amd64"
    variant: str = ""

    @classmethod
    def host(cls) -> Platform:
        machine = os.uname().machine.lower()
        return cls("linux", _ARCH.get(machine, machine), "v7" if machine == "armv7l" else "")

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise BuildError(f"invalid platform {text!r}", hint="write os/arch[/variant], e.g. linux/amd64")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)

    def runnable(self) -> bool:
        """Whether this machine runs the platform's programs natively (composer has no emulation)."""
        host = Platform.host()
        return (self.os, self.arch) == (host.os, host.arch) and self.variant in ("", host.variant)

    def matches(self, image_config: dict) -> bool:
        """Whether an image config is for this platform (a config naming no platform matches any)."""
        arch, system = image_config.get("architecture"), image_config.get("os")
        variant = image_config.get("variant") or ""
        return ((system or self.os), (arch or self.arch)) == (self.os, self.arch) and \
            (not variant or not self.variant or variant == self.variant)


def platform_args(build: Platform, target: Platform) -> dict[str, str]:
    """The automatic ``BUILD*`` / ``TARGET*`` args."""
    return {"BUILDPLATFORM": str(build), "BUILDOS": build.os, "BUILDARCH": build.arch,
            "BUILDVARIANT": build.variant, "TARGETPLATFORM": str(target), "TARGETOS": target.os,
            "TARGETARCH": target.arch, "TARGETVARIANT": target.variant}


class BuildArgs:
    """The ``--build-arg`` values of one build, and which of them were consumed."""

    def __init__(self, provided: Mapping[str, str | None] | None = None, *,
                 build: Platform | None = None, target: Platform | None = None) -> None:
        self.provided = dict(provided or {})
        host = Platform.host()
        self.automatic = platform_args(build or host, target or build or host)
        self.consumed: set[str] = set()

    def value(self, name: str, default: str | None) -> str | None:
        """The value of a declared ARG: the build arg if given, else its default."""
        self.consumed.add(name)
        if self.provided.get(name) is not None:
            return self.provided[name]
        if default is None and name in self.automatic:
            return self.automatic[name]
        return default

    def meta_scope(self, declarations: Iterable[tuple[str, str | None]], lexer: Lexer) -> dict[str, str]:
        """The global scope (ARGs before the first FROM), used to expand FROM lines."""
        scope = dict(self.automatic)
        for name, default in declarations:
            raw = None if default is None else lexer.expand(default, scope)
            value = self.value(name, raw)
            if value is not None:
                scope[name] = value
            elif name in scope and name not in self.automatic:
                del scope[name]
        return scope

    def proxies(self) -> dict[str, str]:
        """The predefined proxy args given on the command line (usable without an ARG)."""
        return {k: v for k, v in self.provided.items() if k in PROXY_ARGS and v is not None}

    def unused(self) -> list[str]:
        """Build args that no ARG consumed (Docker warns about these)."""
        return sorted(k for k in self.provided if k not in self.consumed and k not in PROXY_ARGS
                      and k not in PLATFORM_ARGS)


class StageArgs:
    """The ARGs declared inside one stage, in order, with their values."""

    def __init__(self, build_args: BuildArgs, meta: Mapping[str, str]) -> None:
        self.build_args = build_args
        self.meta = meta
        self.values: dict[str, str | None] = {}

    def declare(self, name: str, default: str | None) -> None:
        """``ARG name[=default]`` (default already expanded); a bare name re-imports the global."""
        if default is None and name in self.meta and name not in self.build_args.provided:
            default = self.meta[name]
        self.values[name] = self.build_args.value(name, default)

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """What words expand against: declared args and proxies, with ENV winning."""
        scope = dict(self.build_args.proxies())
        scope.update({k: v for k, v in self.values.items() if v is not None})
        scope.update(env)
        return scope

    def used(self, env: Mapping[str, str]) -> dict[str, str]:
        """Args a RUN step sees and its cache key holds: declared, valued, not shadowed by ENV."""
        out = {k: v for k, v in self.build_args.proxies().items() if k not in env}
        out.update({k: v for k, v in self.values.items() if v is not None and k not in env})
        return dict(sorted(out.items()))
