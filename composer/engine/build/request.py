"""What to build: a ``BuildRequest`` from ``image build`` flags or a compose service's ``build:``.

Paths are made absolute here (a compose ``dockerfile`` is relative to its context, ``-f`` to the
working directory), the default tag follows Compose (``<project>-<service>`` unless ``image:``
names it) and ``additional_contexts`` are sorted into local directories, images and stages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from composer.engine.build.secrets import Secret, SshAgent, compose_secrets, compose_ssh
from composer.errors import BuildError, SourceLocation

STDIN = "-"


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedContext:
    """One additional context: ``kind`` is ``local`` (a directory), ``image`` or ``service``."""

    name: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRequest:
    """Everything a build needs besides the store and the runtime."""

    context: str
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    tags: tuple[str, ...] = ()
    target: str | None = None
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    network: str | None = None
    platform: str | None = None
    quiet: bool = False
    contexts: tuple[NamedContext, ...] = ()
    secrets: tuple[Secret, ...] = ()
    ssh: tuple[SshAgent, ...] = ()

    def secret(self, secret_id: str) -> Secret | None:
        return next((s for s in reversed(self.secrets) if s.id == secret_id), None)

    def ssh_agent(self, ssh_id: str) -> SshAgent | None:
        return next((a for a in reversed(self.ssh) if a.id == ssh_id), None)

    def dockerfile_text(self) -> tuple[str, str]:
        """The Dockerfile's text and the name errors use for it (stdin and inline included)."""
        if self.dockerfile_inline is not None:
            return self.dockerfile_inline, "Dockerfile (inline)"
        path = self.dockerfile or os.path.join(self.context, "Dockerfile")
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(), path
        except FileNotFoundError:
            raise BuildError(f"cannot find the Dockerfile {path}",
                             hint="create it, or name another one with -f / build.dockerfile") from None
        except (OSError, UnicodeDecodeError) as error:
            raise BuildError(f"cannot read the Dockerfile {path}: {error}") from None


def from_flags(context: str, *, file: str | None = None, cwd: str | None = None,
               build_args: Mapping[str, str | None] | None = None, **options: Any) -> BuildRequest:
    """A request from ``image build`` arguments (``-f`` relative to the working directory)."""
    base = cwd or os.getcwd()
    root = context if context == STDIN else os.path.normpath(os.path.join(base, context))
    dockerfile = None
    if file is not None and file != STDIN:
        dockerfile = os.path.normpath(os.path.join(base, file))
    return BuildRequest(context=root, dockerfile=dockerfile, build_args=dict(build_args or {}), **options)


def from_service(project: str, name: str, service_image: str | None, build: Mapping[str, Any],
                 *, source: str | None = None, secrets: Mapping[str, Mapping[str, Any]] | None = None,
                 environ: Mapping[str, str] | None = None) -> BuildRequest:
    """A request from a compose service's canonical ``build:`` mapping (paths already absolute).

    ``secrets``: the project's top-level ``secrets`` that ``build.secrets`` refers to;
    ``environ``: the project's environment (``environment:`` secrets, ``.env`` included).
    """
    where = SourceLocation(source, path=f"services.{name}.build")
    context = str(build.get("context") or ".")
    if "://" in context or context.startswith("git@"):
        raise BuildError(f"remote build context {context!r} is not supported", location=where,
                         hint="clone the repository and point build.context at the directory")
    dockerfile = build.get("dockerfile")
    if dockerfile is not None:
        dockerfile = os.path.normpath(os.path.join(context, str(dockerfile)))
    tags = (service_image or f"{project}-{name}", *[str(t) for t in build.get("tags") or ()])
    return BuildRequest(
        context=context, dockerfile=dockerfile, dockerfile_inline=build.get("dockerfile_inline"),
        tags=tuple(dict.fromkeys(tags)), target=build.get("target"),
        build_args={str(k): None if v is None else str(v) for k, v in _mapping(build.get("args")).items()},
        labels={str(k): str(v) for k, v in _mapping(build.get("labels")).items()},
        no_cache=bool(build.get("no_cache")), pull=bool(build.get("pull")), network=build.get("network"),
        platform=(build.get("platforms") or [None])[0],
        contexts=named_contexts(_mapping(build.get("additional_contexts")), where),
        secrets=compose_secrets(build.get("secrets") or (), secrets or {}, where, environ),
        ssh=compose_ssh(build.get("ssh")))


def named_contexts(raw: Mapping[str, Any], where: SourceLocation | None = None) -> tuple[NamedContext, ...]:
    """``additional_contexts`` sorted by kind; remote and OCI-layout ones are refused."""
    out = []
    for name, value in raw.items():
        text = str(value)
        if text.startswith("docker-image://"):
            out.append(NamedContext(name=name, kind="image", value=text.removeprefix("docker-image://")))
        elif text.startswith("service:"):
            out.append(NamedContext(name=name, kind="service", value=text.removeprefix("service:")))
        elif "://" in text or text.startswith("git@"):
            raise BuildError(f"additional context {name}={text!r} is not supported", location=where,
                             hint="use a local directory or docker-image://<ref>")
        else:
            if not Path(text).is_dir():
                raise BuildError(f"additional context {name}: {text} is not a directory", location=where)
            out.append(NamedContext(name=name, kind="local", value=os.path.abspath(text)))
    return tuple(out)


def _mapping(value: Any) -> Mapping[str, Any]:
    """A compose mapping that may also be written as a ``KEY=VALUE`` list."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for item in value:
        key, eq, val = str(item).partition("=")
        out[key] = val if eq else None
    return out
