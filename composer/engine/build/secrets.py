"""Build secrets and SSH agents a RUN step may mount: ``--secret`` / ``--ssh`` and compose ``build:``.

- ``--secret id=npmrc,src=$HOME/.npmrc`` (a file), ``id=token,env=TOKEN`` (an environment
  variable), ``type=file|env`` to say which; a bare ``id=TOKEN`` reads the variable ``TOKEN``.
- ``--ssh default`` (the agent of ``$SSH_AUTH_SOCK``), ``--ssh default=/path/agent.sock``,
  ``--ssh work=~/.ssh/id_ed25519[,more keys]``: agent sockets, or key files that ``AgentPool``
  loads into a private ``ssh-agent`` for the build (stopped by its PID at the end).
- compose: ``build.secrets`` (short or long syntax, ``target`` renames the id) against the
  top-level ``secrets`` (``file:`` or ``environment:``), and ``build.ssh``.

A secret's value is read only when a RUN step mounts it, and never enters a layer or a cache key.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from composer.errors import BuildError, SourceLocation

SECRET_FIELDS = frozenset({"id", "type", "src", "source", "env"})


@dataclass(frozen=True, slots=True)
class Secret:
    """One build secret: from a file (``file``) or an environment variable (``env``)."""

    id: str
    file: str | None = None
    env: str | None = None
    value: str | None = field(default=None, repr=False)  # compose: the variable from the project's environment

    def read(self, environ: Mapping[str, str] | None = None) -> bytes:
        """The secret's bytes (a clear BuildError when the file or variable is missing)."""
        if self.value is not None:
            return self.value.encode()
        if self.file is not None:
            try:
                with open(self.file, "rb") as handle:
                    return handle.read()
            except OSError as error:
                raise BuildError(f"secret {self.id}: cannot read {self.file}: {error.strerror}",
                                 hint="fix src= of --secret (or file: of the compose secret)") from None
        environ = os.environ if environ is None else environ
        name = self.env or self.id
        if name not in environ:
            raise BuildError(f"secret {self.id}: the environment variable {name} is not set",
                             hint=f"export {name}, or give the secret a file with src=PATH")
        return environ[name].encode()


@dataclass(frozen=True, slots=True)
class SshAgent:
    """What ``--mount=type=ssh,id=<id>`` uses: an agent socket, or key files (``keys``)."""

    id: str
    socket: str = ""
    keys: tuple[str, ...] = ()

    def checked_socket(self) -> str:
        """The socket path, verified to be a socket (a missing path or another file is an error)."""
        try:
            mode = os.stat(self.socket).st_mode
        except OSError as error:
            raise BuildError(f"ssh {self.id}: cannot use {self.socket}: {error.strerror}",
                             hint="start ssh-agent (eval $(ssh-agent)) and pass --ssh default") from None
        if not stat.S_ISSOCK(mode):
            raise BuildError(f"ssh {self.id}: {self.socket} is not an agent socket",
                             hint="pass the agent's socket, or key files as --ssh ID=KEY[,KEY]")
        return self.socket


class AgentPool:
    """The sockets of a build's SSH agents; key files are loaded into private ``ssh-agent``s.

    Their sockets live in a private directory of /tmp (a socket path must stay short).
    """

    def __init__(self) -> None:
        self.directory: str | None = None
        self.started: dict[str, tuple[str, Any]] = {}  # agent id -> (socket, process)
        self.proxies: list[Any] = []

    def proxied(self, agent: SshAgent, uid: int, gid: int, mode: int) -> str:
        """A socket owned ``uid:gid`` with ``mode`` that forwards to ``agent`` (``sshproxy``)."""
        import tempfile

        from composer.engine.build.sshproxy import AgentProxy

        upstream = self.socket(agent)
        self.directory = self.directory or tempfile.mkdtemp(prefix="composer-ssh-")
        path = os.path.join(self.directory, f"proxy-{len(self.proxies)}.sock")
        self.proxies.append(AgentProxy(path, upstream, uid, gid, mode))
        return path

    def socket(self, agent: SshAgent) -> str:
        """The socket to use for ``agent`` (a private agent started on first use for key files)."""
        if not agent.keys:
            return agent.checked_socket()
        if agent.id not in self.started:
            self.started[agent.id] = self._start(agent)
        return self.started[agent.id][0]

    def _start(self, agent: SshAgent) -> tuple[str, Any]:
        import subprocess
        import tempfile
        import time

        self.directory = self.directory or tempfile.mkdtemp(prefix="composer-ssh-")
        socket = os.path.join(self.directory, f"agent-{len(self.started)}.sock")
        try:
            process = subprocess.Popen(["ssh-agent", "-D", "-a", socket], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise BuildError(f"ssh {agent.id}: key files need ssh-agent",
                             hint="apt-get install openssh-client") from None
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(socket) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SSH_AUTH_SOCK": socket}
            for key in agent.keys:
                added = subprocess.run(["ssh-add", "-q", key], env=env, stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True, timeout=30)
                if added.returncode != 0:
                    raise BuildError(f"ssh {agent.id}: cannot load the key {key}: {added.stderr.strip()}",
                                     hint="a key with a passphrase must be loaded into your own agent first")
        except BaseException:
            _stop(process)
            raise
        return socket, process

    def close(self) -> None:
        """Stop the agents this pool started (by their PIDs) and remove their directory."""
        import shutil

        for proxy in self.proxies:
            proxy.close()
        self.proxies.clear()
        for _socket, process in self.started.values():
            _stop(process)
        self.started.clear()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def _stop(process: Any) -> None:
    process.terminate()
    process.wait(10)


def parse_secret(text: str) -> Secret:
    """A ``--secret`` value: ``id=ID[,type=file|env][,src=PATH][,env=VAR]``."""
    fields: dict[str, str] = {}
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in SECRET_FIELDS:
            raise BuildError(f"invalid --secret {text!r}: unexpected {item!r}",
                             hint="write id=ID,src=PATH or id=ID,env=VAR")
        fields["src" if key == "source" else key] = value
    secret_id, kind = fields.get("id", ""), fields.get("type")
    if not secret_id:
        raise BuildError(f"invalid --secret {text!r}: no id", hint="write id=ID,src=PATH or id=ID,env=VAR")
    if kind not in (None, "file", "env"):
        raise BuildError(f"invalid --secret {text!r}: type must be file or env")
    if kind == "file" or (kind is None and "src" in fields):
        if not fields.get("src"):
            raise BuildError(f"invalid --secret {text!r}: a file secret needs src=PATH")
        return Secret(secret_id, file=os.path.abspath(os.path.expanduser(fields["src"])))
    return Secret(secret_id, env=fields.get("env") or fields.get("src") or secret_id)


def parse_ssh(text: str, environ: Mapping[str, str] | None = None) -> SshAgent:
    """An ``--ssh`` value: ``default``, ``ID=SOCKET`` or ``ID=KEY[,KEY]`` (no path: ``$SSH_AUTH_SOCK``)."""
    environ = os.environ if environ is None else environ
    ssh_id, eq, joined = text.partition("=")
    paths = [os.path.abspath(os.path.expanduser(p)) for p in joined.split(",") if p] if eq else []
    if not ssh_id or (eq and not paths):
        raise BuildError(f"invalid --ssh {text!r}", hint="write default, or ID=/path/to/agent.sock or ID=KEY[,KEY]")
    if not paths:
        socket = environ.get("SSH_AUTH_SOCK", "")
        if not socket:
            raise BuildError(f"--ssh {text}: no agent socket given and SSH_AUTH_SOCK is not set",
                             hint="start ssh-agent (eval $(ssh-agent)) or write ID=/path/to/agent.sock")
        return SshAgent(ssh_id, os.path.abspath(os.path.expanduser(socket)))
    if len(paths) == 1 and not os.path.isfile(paths[0]):
        return SshAgent(ssh_id, paths[0])  # a socket (checked when a step uses it)
    return SshAgent(ssh_id, keys=tuple(paths))


def compose_secrets(build_secrets: Sequence[Any], top: Mapping[str, Mapping[str, Any]],
                    where: SourceLocation | None = None,
                    environ: Mapping[str, str] | None = None) -> tuple[Secret, ...]:
    """A service's ``build.secrets`` resolved against the project's top-level ``secrets``.

    ``environment:`` secrets read the project's environment (``.env`` included) when given.
    """
    out = []
    for entry in build_secrets or ():
        source = entry if isinstance(entry, str) else entry.get("source")
        target = None if isinstance(entry, str) else entry.get("target")
        definition = top.get(source)
        if definition is None:
            raise BuildError(f"build secret {source!r} is not defined", location=where,
                             hint=f"add it to the top-level secrets: with file: or environment:")
        secret_id = str(target or source)
        if definition.get("file"):
            out.append(Secret(secret_id, file=str(definition["file"])))
        elif definition.get("environment"):
            name = str(definition["environment"])
            out.append(Secret(secret_id, env=name, value=(environ or {}).get(name)))
        else:
            raise BuildError(f"build secret {source!r} has neither file: nor environment:", location=where,
                             hint="external secrets cannot be used by a build")
    return tuple(out)


def compose_ssh(entries: Any, environ: Mapping[str, str] | None = None) -> tuple[SshAgent, ...]:
    """A service's ``build.ssh`` (a list of ``ID[=PATH]`` or a mapping)."""
    if isinstance(entries, Mapping):
        entries = [f"{key}={value}" if value else key for key, value in entries.items()]
    return tuple(parse_ssh(str(entry), environ) for entry in entries or ())
