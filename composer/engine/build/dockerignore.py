"""``.dockerignore`` with Docker's semantics, and a context walker that honours it.

Reading: a line starting with ``#`` is a comment, lines are trimmed, ``!`` marks an exception,
patterns are cleaned like Go's ``filepath.Clean`` and lose a leading ``/``. Matching: the last
pattern that matches a path (or one of its parent directories) decides; ``*`` and ``?`` stay
within one path segment, ``**`` spans any number of segments, ``[...]`` is a class, ``\\``
escapes. ``<Dockerfile>.dockerignore`` beside the Dockerfile wins over the context's
``.dockerignore``.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from composer.errors import BuildError, SourceLocation

_ESCAPE = set(".+()|{}$")


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash path (``//a`` becomes ``/a``, ``""`` becomes ``.``)."""
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore text, cleaned as Docker cleans them."""
    out = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled pattern: ``kind`` is exact, prefix, suffix or regexp (as Docker's matcher)."""

    text: str
    exclusion: bool
    kind: str
    regex: re.Pattern[str] | None
    dirs: tuple[str, ...]

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regex is not None and self.regex.match(path) is not None


def compile_pattern(raw: str) -> Pattern:
    """Compile one cleaned pattern (``!`` prefix = exception); BuildError when malformed."""
    text = go_clean(raw.strip())
    exclusion = text.startswith("!")
    if exclusion:
        if len(text) == 1:
            raise BuildError('illegal exclusion pattern: "!"')
        text = text[1:]
    _check_syntax(text)
    regex, kind = _translate(text)
    return Pattern(text, exclusion, kind, re.compile(regex) if kind == "regexp" else None,
                   tuple(text.split("/")))


def _translate(pattern: str) -> tuple[str, str]:
    """The regular expression of a pattern and its match kind."""
    out, kind, i = ["^"], "exact", 0
    while i < len(pattern):
        start, ch = i, pattern[i]
        i += 1
        if ch == "*" and pattern[i:i + 1] == "*":
            i += 1
            if pattern[i:i + 1] == "/":
                i += 1
            if i >= len(pattern):
                kind = "prefix" if kind == "exact" else "regexp"
                out.append(".*" if kind == "regexp" else "")
            else:
                out.append("(.*/)?")
                kind = "regexp"
            if start == 0:
                kind = "suffix"
        elif ch == "*":
            out.append("[^/]*")
            kind = "regexp"
        elif ch == "?":
            out.append("[^/]")
            kind = "regexp"
        elif ch in _ESCAPE:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < len(pattern):
                out.append("\\" + pattern[i])
                i += 1
                kind = "regexp"
            else:
                out.append("\\\\")
        elif ch in "[]":
            out.append(ch)
            kind = "regexp"
        else:
            out.append(ch)
    return "".join(out) + "$", kind


def segment_regex(segment: str) -> re.Pattern[str]:
    """One path segment's pattern (Go filepath.Match syntax) as a compiled regex."""
    _check_syntax(segment)
    return re.compile(_translate(segment)[0])


def _check_syntax(pattern: str) -> None:
    """Reject what Go's filepath.Match calls a bad pattern (unclosed or bad ``[...]``, lone ``\\``)."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise BuildError(f"bad pattern {pattern!r}: trailing backslash")
            i += 2
        elif ch == "[":
            i = _check_class(pattern, i + 1)
        else:
            i += 1


def _check_class(pattern: str, i: int) -> int:
    if pattern[i:i + 1] == "^":
        i += 1
    count = 0
    while True:
        if i >= len(pattern):
            raise BuildError(f"bad pattern {pattern!r}: unclosed '['")
        if pattern[i] == "]" and count:
            return i + 1
        low, i = _class_char(pattern, i)
        if pattern[i:i + 1] == "-":
            _high, i = _class_char(pattern, i + 1)
        count += 1


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise BuildError(f"bad pattern {pattern!r}: bad character range")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise BuildError(f"bad pattern {pattern!r}: trailing backslash")
    return pattern[i], i + 1


class Matcher:
    """An ordered list of patterns; ``excluded`` says whether a context path is ignored."""

    def __init__(self, patterns: Iterable[str], source: str = ".dockerignore") -> None:
        compiled = []
        for index, raw in enumerate(patterns):
            if not raw.strip():
                continue
            try:
                compiled.append(compile_pattern(raw))
            except BuildError as error:
                raise BuildError(error.message, location=SourceLocation(source, path=f"pattern {index + 1}"),
                                 hint="fix or remove the pattern") from None
        self.patterns = tuple(compiled)
        self.exceptions = tuple(p for p in self.patterns if p.exclusion)

    def excluded(self, path: str) -> bool:
        """Docker's MatchesOrParentMatches: a pattern matching a parent directory also counts."""
        path = go_clean(path)
        if path == ".":
            return False
        parts = path.split("/")
        hits = tuple(False for _ in self.patterns)
        for depth in range(1, len(parts) + 1):
            hits = self.hits("/".join(parts[:depth]), hits)
        return self.decide(hits)

    def hits(self, path: str, parent_hits: tuple[bool, ...]) -> tuple[bool, ...]:
        """Which patterns match the path or one of its parents (given the parent's own hits)."""
        return tuple(seen or pattern.match(path) for seen, pattern in zip(parent_hits, self.patterns))

    def decide(self, hits: tuple[bool, ...]) -> bool:
        """The last pattern that hit decides: excluded unless it is a ``!`` exception."""
        for hit, pattern in zip(reversed(hits), reversed(self.patterns)):
            if hit:
                return not pattern.exclusion
        return False

    def may_reinclude_under(self, directory: str) -> bool:
        """Could an exception pattern match something inside this (excluded) directory?"""
        parts = directory.split("/")
        return any(_could_match_under(p.dirs, parts) for p in self.exceptions)


def _could_match_under(dirs: tuple[str, ...], parts: list[str]) -> bool:
    for index, part in enumerate(parts):
        if index >= len(dirs) or "**" in dirs[index]:
            return True
        regex, _kind = _translate(dirs[index])
        if not re.match(regex, part):
            return False
    return True


def ignore_file(context: Path, dockerfile: Path | None = None) -> Path | None:
    """The ignore file that applies: ``<Dockerfile>.dockerignore`` beside it, else the context's."""
    if dockerfile is not None:
        beside = dockerfile.with_name(dockerfile.name + ".dockerignore")
        if beside.is_file():
            return beside
    candidate = context / ".dockerignore"
    return candidate if candidate.is_file() else None


def load(context: Path, dockerfile: Path | None = None) -> Matcher:
    """The matcher of a context directory (empty when there is no ignore file)."""
    path = ignore_file(context, dockerfile)
    if path is None:
        return Matcher(())
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        raise BuildError(f"cannot read {path}: {error.strerror}") from None
    return Matcher(read_patterns(text), str(path))


def walk(root: Path, matcher: Matcher, start: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """Included entries under ``root`` (relative slash paths, lstat results), sorted, depth first.

    Excluded directories are pruned unless an exception might re-include something below them;
    the parents of a re-included entry are yielded before it.
    """
    hits = tuple(False for _ in matcher.patterns)
    parts = [p for p in start.split("/") if p]
    for depth in range(1, len(parts) + 1):
        hits = matcher.hits("/".join(parts[:depth]), hits)
    yield from _walk(str(root), start, matcher, hits, [])


def _walk(root: str, rel: str, matcher: Matcher, parent_hits: tuple[bool, ...],
          pending: list[tuple[str, os.stat_result]]) -> Iterator[tuple[str, os.stat_result]]:
    directory = f"{root}/{rel}" if rel else root
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as error:
        raise BuildError(f"cannot read the build context at {directory}: {error.strerror}") from None
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            raise BuildError(f"cannot read {entry.path} in the build context: {error.strerror}") from None
        is_dir = stat.S_ISDIR(info.st_mode)
        hits = matcher.hits(path, parent_hits)
        if not matcher.decide(hits):
            yield from pending
            pending.clear()
            yield path, info
            if is_dir:
                yield from _walk(root, path, matcher, hits, pending)
        elif is_dir and matcher.may_reinclude_under(path):
            pending.append((path, info))
            depth = len(pending)
            yield from _walk(root, path, matcher, hits, pending)
            del pending[depth - 1:]
