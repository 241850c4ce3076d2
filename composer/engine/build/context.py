"""The build context: a directory (or an extracted tar stream) seen through .dockerignore.

``BuildContext.resolve`` turns COPY/ADD source words into context paths as Docker does (paths are
relative to the context root, a leading ``/`` is the root, wildcards ``* ? [...]`` match one path
segment, ignored files do not exist, symlinks are followed inside the context only).
``content_hash`` digests what a COPY would copy: paths, file types, permission bits (setuid and
friends included), symlink targets and file contents, never mtimes or owners (COPY writes
root-owned files unless ``--chown`` says otherwise, and that flag is part of the step's key).
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Sequence

from composer.engine.build import dockerignore
from composer.errors import BuildError

_WILDCARD = re.compile(r"(?<!\\)[*?\[]")
_MAX_LINKS = 255
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Source:
    """One resolved COPY source: its context path and what it was named as."""

    path: str
    name: str
    is_dir: bool


@dataclass
class BuildContext:
    """A context directory and its ignore rules; ``digests`` memoises file digests by stat
    (``computed`` counts the files actually read, so a caller knows whether to save the memo).

    ``scoped_links`` is for image root filesystems (``COPY --from``): absolute symlinks and
    ``..`` resolve inside the root, as in a chroot, instead of being errors.
    """

    root: Path
    matcher: dockerignore.Matcher = field(default_factory=lambda: dockerignore.Matcher(()))
    digests: dict[str, str] = field(default_factory=dict)
    scoped_links: bool = False
    computed: int = 0

    @classmethod
    def from_rootfs(cls, root: str | Path) -> BuildContext:
        """The root filesystem of a stage or image as a COPY --from source (no ignore file)."""
        return cls(Path(root).resolve(), scoped_links=True)

    @classmethod
    def from_directory(cls, root: str | Path, dockerfile: str | Path | None = None) -> BuildContext:
        path = Path(root)
        if not path.is_dir():
            raise BuildError(f"build context {root} is not a directory",
                             hint="give a directory, a tar stream on stdin (-) or a URL")
        resolved = path.resolve()
        return cls(resolved, dockerignore.load(resolved, Path(dockerfile) if dockerfile else None))

    # --- resolving sources ----------------------------------------------------------------------
    def resolve(self, source: str, *, parents: bool = False) -> list[Source]:
        """The context paths a COPY source word names (several for a wildcard).

        Symlinks are resolved (inside the context only); ``name`` is how the source appears under
        the destination: its base name, or its whole path for ``COPY --parents``.
        """
        rel = self.clean(source)
        if _WILDCARD.search(rel):
            matches = [self._source(p, source, parents) for p in self._glob(rel)]
            if not matches:
                raise BuildError(f"no source files were specified: {source!r} matches nothing "
                                 f"in the build context {self.root}",
                                 hint="check the pattern and the .dockerignore")
            return matches
        if "\\" in rel and not self._exists(rel):
            rel = _unescape(rel)
        found = self._source(rel, source, parents)
        if found.path != "." and (not self._exists(found.path) or self._hidden(found)):
            raise BuildError(f"{source!r} not found in the build context {self.root}",
                             hint="check the path and the .dockerignore; sources are relative to the context")
        return [found]

    def _hidden(self, found: Source) -> bool:
        """Ignored, unless it is a directory an exception re-includes something in."""
        if not self.matcher.excluded(found.path):
            return False
        return not (found.is_dir and self.matcher.may_reinclude_under(found.path)
                    and next(dockerignore.walk(self.root, self.matcher, found.path), None) is not None)

    def _source(self, rel: str, source: str, parents: bool) -> Source:
        target = self.follow(rel, source)
        name = rel if parents else posixpath.basename(rel) or "."
        return Source(target, name, self._is_dir(target))

    @staticmethod
    def clean(source: str) -> str:
        """A source word as a clean context-relative path; ``..`` out of the context is an error."""
        relative = posixpath.normpath(source or ".")
        if relative == ".." or relative.startswith("../"):
            raise BuildError(f"forbidden path outside the build context: {source}",
                             hint="COPY and ADD read only files inside the context directory")
        return posixpath.normpath("/" + source).lstrip("/") or "."

    def follow(self, rel: str, source: str) -> str:
        """Resolve symlinks in a context path, refusing any that lead out of the context."""
        parts, done, hops = [p for p in rel.split("/") if p not in ("", ".")], [], 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if not done and not self.scoped_links:
                    raise _outside(source)
                if done:
                    done.pop()
                continue
            candidate = self.root.joinpath(*done, part)
            if candidate.is_symlink():
                hops += 1
                if hops > _MAX_LINKS:
                    raise BuildError(f"too many levels of symbolic links in {source!r}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    if not self.scoped_links:
                        raise _outside(source)
                    done = []
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            done.append(part)
        return "/".join(done) or "."

    def _glob(self, pattern: str) -> list[str]:
        found = ["."]
        for segment in pattern.split("/"):
            nxt = []
            wild = _WILDCARD.search(segment)
            regex = dockerignore.segment_regex(re.sub(r"\*\*+", "*", segment)) if wild else None
            for base in found:
                names = self._listdir(base) if regex else [_unescape(segment)]
                for name in names:
                    path = name if base == "." else f"{base}/{name}"
                    if regex is not None and not regex.match(name):
                        continue
                    if self._exists(path) and not self.matcher.excluded(path):
                        nxt.append(path)
            found = nxt
        return sorted(found)

    def _listdir(self, rel: str) -> list[str]:
        directory = self.root / rel
        if not directory.is_dir() or directory.is_symlink():
            return []
        try:
            return sorted(os.listdir(directory))
        except OSError as error:
            raise BuildError(f"cannot read the build context at {directory}: {error.strerror}") from None

    def _exists(self, rel: str) -> bool:
        return os.path.lexists(self.root / rel)

    def _is_dir(self, rel: str) -> bool:
        path = self.root / rel
        return path.is_dir() and not path.is_symlink()

    # --- content -------------------------------------------------------------------------------
    def entries(self, source: Source, exclude: Sequence[str] = ()) -> Iterator[tuple[str, os.stat_result]]:
        """What copying the source copies: the file, or the directory's included entries.

        ``exclude`` holds ``COPY --exclude`` patterns, matched relative to the source directory.
        """
        top = self.root / source.path
        yield "", top.lstat()
        if not source.is_dir:
            return
        skip = dockerignore.Matcher(exclude, "--exclude") if exclude else None
        start = "" if source.path == "." else source.path
        prefix = len(start) + 1 if start else 0
        for rel, info in dockerignore.walk(self.root, self.matcher, start):
            if skip is None or not skip.excluded(rel[prefix:]):
                yield rel[prefix:], info

    def content_hash(self, sources: Iterable[Source], exclude: Sequence[str] = ()) -> str:
        """``sha256:`` digest of the sources' names, types, modes, link targets and contents."""
        try:
            return self._content_hash(sources, exclude)
        except OSError as error:
            raise BuildError(f"cannot read {error.filename} in the build context: {error.strerror}",
                             hint="a file changed or vanished while the context was read") from None

    def _content_hash(self, sources: Iterable[Source], exclude: Sequence[str]) -> str:
        skip = dockerignore.Matcher(exclude, "--exclude") if exclude else None
        digest = hashlib.sha256()
        for source in sources:
            if skip is not None and skip.excluded(source.name):
                continue
            digest.update(f"source\0{source.name}\0{int(source.is_dir)}\n".encode())
            for rel, info in self.entries(source, exclude):
                digest.update(self._entry_line(source, rel, info))
        return "sha256:" + digest.hexdigest()

    def _entry_line(self, source: Source, rel: str, info: os.stat_result) -> bytes:
        kind = stat.S_IFMT(info.st_mode)
        mode = stat.S_IMODE(info.st_mode)
        path = f"{self.root}/{source.path}/{rel}" if rel else f"{self.root}/{source.path}"
        if stat.S_ISLNK(kind):
            extra = os.readlink(path)
        elif stat.S_ISREG(kind):
            extra = self.file_digest(path, info)
        else:
            extra = ""
        return f"{rel}\0{kind:o}\0{mode:o}\0{extra}\n".encode("utf-8", "surrogateescape")

    def file_digest(self, path: str | Path, info: os.stat_result) -> str:
        """The sha256 of a file's content, memoised by (inode, size, mtime, ctime)."""
        key = f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"
        cached = self.digests.get(key)
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except OSError as error:
            raise BuildError(f"cannot read {path}: {error.strerror}") from None
        self.digests[key] = digest.hexdigest()
        self.computed += 1
        return self.digests[key]


def load_digests(path: Path) -> dict[str, str]:
    """A saved file-digest memo (empty when missing or damaged): rebuilds skip re-reading files."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def save_digests(path: Path, digests: dict[str, str], limit: int = 200_000) -> None:
    """Save the memo atomically (keeping at most ``limit`` entries, the newest)."""
    import json

    items = list(digests.items())[-limit:]
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(dict(items), separators=(",", ":")), encoding="utf-8")
        os.replace(temp, path)
    except OSError as error:
        raise BuildError(f"cannot save the context digest memo at {path}: {error.strerror}") from None


def _outside(source: str) -> BuildError:
    return BuildError(f"{source!r} leads outside the build context (through a symbolic link)",
                      hint="COPY and ADD read only files inside the context directory")


def _unescape(segment: str) -> str:
    return re.sub(r"\\(.)", r"\1", segment)


# --- tar stream contexts ----------------------------------------------------------------------
def is_archive(head: bytes) -> bool:
    """Whether the first bytes of a stream are a (possibly compressed) tar archive."""
    magic = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
    return head.startswith(magic) or head[257:262] == b"ustar"


def extract(stream: BinaryIO, dest: Path) -> None:
    """Extract a context tar stream into ``dest``; members escaping it or device nodes are errors."""
    import tarfile

    try:
        with tarfile.open(fileobj=stream, mode="r|*") as archive:
            for member in archive:
                archive.extract(member, dest, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise BuildError(f"cannot read the build context archive: {error}",
                         hint="send a tar archive (optionally gzip/bzip2/xz) or a Dockerfile on stdin") from None


def from_stream(stream: BinaryIO, dest: Path) -> tuple[BuildContext, str | None]:
    """A context from stdin: a tar archive (extracted to ``dest``) or a bare Dockerfile.

    Returns the context and, for a bare Dockerfile, its text (the context is then empty).
    """
    head = stream.read(512)
    if not is_archive(head):
        data = head + stream.read()
        try:
            return BuildContext(dest.resolve()), data.decode("utf-8")
        except UnicodeDecodeError:
            raise BuildError("stdin is neither a tar archive nor a UTF-8 Dockerfile") from None
    extract(_Prefixed(head, stream), dest)
    return BuildContext(dest.resolve(), dockerignore.load(dest.resolve())), None


class _Prefixed(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size], self.head = self.head[:size], self.head[size:]
            return size
        data = self.rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
