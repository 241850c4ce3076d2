"""Image references, parsed and normalized as docker does (``busybox`` -> ``docker.io/library/busybox:latest``)."""

from __future__ import annotations

import re
from collections import namedtuple

from composer.errors import ImageError

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Reference(namedtuple("Reference", "domain path tag digest", defaults=(None, None))):
    """A normalized reference: ``domain/path[:tag][@digest]`` (immutable; a named tuple because
    ``dataclasses`` costs ~15 ms of import on the warm ``image pull`` path)."""

    __slots__ = ()
    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        """``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        return self._tagged(self.repository)

    @property
    def familiar_repository(self) -> str:
        """The short form docker prints: ``busybox``, ``user/app``, ``localhost:5000/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        return self.path.removeprefix(OFFICIAL_PREFIX)

    def familiar(self) -> str:
        """``busybox:latest`` for ``docker.io/library/busybox:latest``."""
        return self._tagged(self.familiar_repository)

    def _tagged(self, name: str) -> str:
        """``name`` with the reference's ``:tag`` and ``@digest`` (each when it has one)."""
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_tag(self, tag: str | None) -> "Reference":
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> "Reference":
        return Reference(self.domain, self.path, None, digest)


def _fail(text: str, why: str) -> ImageError:
    return ImageError(f'"{text}" is not a valid repository/tag: invalid reference format: {why}',  # docker's words
                      hint="use [registry[:port]/]repository[:tag][@sha256:digest], lowercase")


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost"):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_reference(text: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalize ``text``; ``latest`` is added when neither tag nor digest is given."""
    if not text or text != text.strip():
        raise _fail(text, "empty or surrounded by spaces")
    name, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise _fail(text, "the digest must be sha256:<64 lowercase hex digits>")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise _fail(text, f"invalid tag {tag!r}")
    domain, path = _split_domain(name)
    if not _DOMAIN.fullmatch(domain):
        raise _fail(text, f"invalid registry {domain!r}")
    if path.lower() != path:
        raise _fail(text, f"repository name ({path}) must be lowercase")
    if not _PATH.fullmatch(path) or len(domain) + len(path) > 254:
        raise _fail(text, f"invalid repository name {path!r}")
    if _HEX64.fullmatch(name):
        raise _fail(text, "a repository name cannot be a 64-byte hexadecimal string (an image id)")
    if tag is None and not at and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest or None)


def looks_like_id(text: str) -> bool:
    """True when ``text`` could be a full or short image id (``sha256:`` optional)."""
    hexpart = text.removeprefix("sha256:")
    return 1 <= len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)


def missing_name(text: str) -> str:
    """How docker names an image it did not find: ``text`` with ``:latest`` added when it is a
    name with neither tag nor digest (``No such image: nope:latest``); anything else as given."""
    try:
        parsed = parse_reference(text, default_tag=False)
    except ImageError:
        return text
    return text if parsed.tag or parsed.digest else f"{text}:{DEFAULT_TAG}"
