"""The one exception hierarchy of composer.

Library code raises these and never prints or exits; only the CLI turns them into text and exit
codes (see ``composer.cli.render``). Foreign exceptions (OSError, yaml, jsonschema, netlink ...)
are translated where they enter composer.
"""

from __future__ import annotations

class SourceLocation:
    """Where something came from: a file, a 1-based line and column, and a dotted tree path.

    A plain slotted class rather than a dataclass: this module is on every command's start-up
    path, and importing ``dataclasses`` costs more than the rest of it.
    """

    __slots__ = ("file", "line", "column", "path")

    def __init__(self, file: str | None = None, line: int | None = None,
                 column: int | None = None, path: str | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.path = path

    def _key(self) -> tuple:
        return (self.file, self.line, self.column, self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceLocation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"SourceLocation(file={self.file!r}, line={self.line!r}, "
                f"column={self.column!r}, path={self.path!r})")

    def __str__(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)


class ComposerError(Exception):
    """Base of every error composer reports to a person.

    ``message`` says what is wrong, ``location`` where, ``hint`` what would fix it.
    ``exit_code`` is what the CLI exits with (1 unless a subclass says otherwise).
    """

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        hint: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        text = self.message
        if self.location is not None and str(self.location):
            text = f"{self.location}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


def report_text(error: BaseException) -> str:
    """``error`` as a process reports it to another through a pipe (a detached start's launcher
    and supervisor): its message, then a NUL and its hint when it has one (``report_parts``)."""
    message = error.message if isinstance(error, ComposerError) else str(error)
    hint = getattr(error, "hint", None)
    return f"{message}\0{hint}" if hint else message


def report_parts(text: str) -> tuple[str, str | None]:
    """The message and hint (None) of a ``report_text``."""
    message, _, hint = text.partition("\0")
    return message, hint or None


class UsageError(ComposerError):
    """The command line itself is wrong (a flag, a missing argument)."""


class FilterError(UsageError):
    """A ``--filter`` the daemon refuses (an unknown key, a bad value): dockerd's words, shown
    as docker shows them (``Error response from daemon: Invalid filter 'foo'``, exit 1)."""


class PlatformFlagError(UsageError):
    """A flag of another platform's daemon (docker's CLI: ``"--cpu-count" is only supported on a
    Docker daemon running on windows``); exits 1 where other ``run`` flag errors exit 125."""


class FlagError(UsageError):
    """A flag or argument the command line's parser refused; shown as docker and Compose show
    it: the message alone, its hint (``See 'composer ps --help'.``) on the next line."""


# --- the compose file -------------------------------------------------------------------------
class SpecError(ComposerError):
    """A compose project cannot be loaded: YAML, interpolation, schema or semantic problem."""


class SpecSyntaxError(SpecError):
    """The YAML itself does not parse."""


class InterpolationError(SpecError):
    """A ``${VAR...}`` expression is malformed or a required variable is unset."""


class SchemaError(SpecError):
    """The document does not match the Compose Specification's schema."""


class SemanticError(SpecError):
    """The document matches the schema but does not make sense (unknown reference, cycle ...)."""


# --- images -----------------------------------------------------------------------------------
class ImageError(ComposerError):
    """Image store, reference or archive problem."""


class ImageNotFound(ImageError):
    """The image is neither in the store nor in the registry."""


class RegistryError(ImageError):
    """A registry refused, failed or could not be reached."""


class LayerError(ImageError):
    """A layer is corrupt or tries to escape its snapshot."""


# --- containers and the runtime ---------------------------------------------------------------
class ContainerRuntimeError(ComposerError):
    """The container runtime failed (exit code 125, as docker's)."""

    exit_code = 125


class ContainerNotFound(ContainerRuntimeError):
    """No container has that name or id."""

    exit_code = 1


class ContainerStateError(ContainerRuntimeError):
    """The container is not in a state that allows the operation."""

    exit_code = 1


class ProgramExecFailed(ContainerRuntimeError):
    """The container started, but its program's execve failed (exec format error, a missing
    ``#!`` interpreter): as runc >= 1.1, it ran and exited 1, the message on its stderr."""

    exit_code = 1


class CgroupError(ContainerRuntimeError):
    """Creating or limiting a cgroup failed."""


class MountError(ContainerRuntimeError):
    """A mount could not be prepared (bind source, volume, overlay)."""


class VolumeError(ComposerError):
    """A named volume cannot be created, found or removed."""


# --- networking -------------------------------------------------------------------------------
class NetworkError(ComposerError):
    """Bridge, veth, address, DNS or port forwarding problem."""


class PortConflictError(NetworkError):
    """A published port is already in use."""


# --- orchestration ----------------------------------------------------------------------------
class PlanError(ComposerError):
    """The project cannot be reconciled (dependency failed, service unhealthy ...)."""


class BuildError(ComposerError):
    """A Dockerfile build failed."""
