"""Applying instructions to a stage's image config, with Docker's history entries.

``StageState`` holds one stage's image config (the ``config`` object of an OCI/Docker image
config: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, Healthcheck,
Shell, StopSignal, OnBuild), its ARG scope and history. ``dispatch`` applies the config-only
instructions; RUN, COPY and ADD are the executor's, helped by ``run_argv`` and the history
helpers here. History ``created_by`` strings follow Docker's classic builder
(``/bin/sh -c #(nop)  ENV a=b``) and, for RUN, ``RUN /bin/sh -c ...``.
"""

from __future__ import annotations

import copy
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from composer.engine.build.dockerfile import Heredoc, Instruction, _instruction
from composer.engine.build.expand import Lexer, StageArgs
from composer.errors import BuildError, SourceLocation
from composer.units import duration_ns, format_duration

DEFAULT_SHELL = ("/bin/sh", "-c")
#: What a stage's Env gets when its base sets no PATH (scratch included), as docker's builders do.
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONFIG_ONLY = frozenset({"ENV", "LABEL", "USER", "WORKDIR", "EXPOSE", "VOLUME", "CMD", "ENTRYPOINT",
                         "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD", "ARG", "MAINTAINER"})
_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\w+))?$")
_MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_HEREDOC_ONLY = re.compile(r"^<<-?\s*\S+$")
_SIGNAL = re.compile(r"^(?:SIG)?[A-Z0-9+-]+$|^\d+$")


@dataclass
class StageState:
    """The evolving config of one stage."""

    args: StageArgs
    lexer: Lexer = field(default_factory=Lexer)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    author: str | None = None
    cmd_set: bool = False

    @classmethod
    def from_image(cls, image_config: dict[str, Any] | None, args: StageArgs,
                   lexer: Lexer | None = None) -> StageState:
        """A stage on top of a base image's config (None for ``scratch``); OnBuild is cleared."""
        config = copy.deepcopy((image_config or {}).get("config") or {})
        history = copy.deepcopy((image_config or {}).get("history") or [])
        config.pop("OnBuild", None)
        if not any(entry.startswith("PATH=") for entry in config.get("Env") or []):
            config["Env"] = [*(config.get("Env") or []), DEFAULT_PATH]
        return cls(args, lexer or Lexer(), config, history)

    # --- the environment ----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The ENV variables as a dict (the image config keeps a ``K=V`` list)."""
        out = {}
        for entry in self.config.get("Env") or []:
            key, _, value = entry.partition("=")
            out[key] = value
        return out

    def scope(self) -> dict[str, str]:
        """What a word expands against: the stage's args, overridden by its ENV."""
        return self.args.environment(self.env())

    def expand(self, word: str, used: set[str] | None = None) -> str:
        return self.lexer.expand(word, self.scope(), used)

    @property
    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    # --- dispatch -----------------------------------------------------------------------------
    def dispatch(self, inst: Instruction) -> dict[str, Any]:
        """Apply a config-only instruction; returns its history entry."""
        handler = _HANDLERS.get(inst.keyword)
        if handler is None:
            raise BuildError(f"{inst.keyword} is not a config-only instruction", location=inst.location)
        try:
            comment = handler(self, inst)
        except BuildError as error:
            if error.location is not None:
                raise
            raise BuildError(f"{inst.keyword}: {error.message}", location=inst.location,
                             hint=error.hint) from None
        entry = {"created_by": nop(self.shell, comment), "empty_layer": True}
        self.history.append(entry)
        return entry

    def image_config(self) -> dict[str, Any]:
        """The ``config``, ``history`` and ``author`` parts of the resulting image config."""
        out: dict[str, Any] = {"config": copy.deepcopy(self.config), "history": list(self.history)}
        if self.author:
            out["author"] = self.author
        return out

    def run_argv(self, inst: Instruction) -> list[str]:
        """The argv of a RUN / CMD / ENTRYPOINT: JSON form as is, shell form via SHELL."""
        if inst.json:
            return list(inst.args)
        if inst.heredocs and inst.args and _HEREDOC_ONLY.match(inst.args[0].strip()):
            return [*self.shell, inst.heredocs[0].content]
        return [*self.shell, *inst.args]

    def run_history(self, inst: Instruction) -> str:
        """``RUN [|N k=v ...] argv`` as Docker records it (used args are part of the step)."""
        used = self.args.used(self.env())
        prefix = f"|{len(used)} " + " ".join(f"{k}={v}" for k, v in used.items()) + " " if used else ""
        return f"RUN {prefix}{' '.join(self.run_argv(inst))}"

    def heredoc_text(self, doc: Heredoc) -> str:
        """A COPY/ADD heredoc's file content: ``$VAR`` expanded unless the delimiter was quoted."""
        return self.lexer.expand_raw(doc.content, self.scope()) if doc.expand else doc.content

    def set_env(self, key: str, value: str) -> None:
        entries = list(self.config.get("Env") or [])
        for index, entry in enumerate(entries):
            if entry.partition("=")[0] == key:
                entries[index] = f"{key}={value}"
                break
        else:
            entries.append(f"{key}={value}")
        self.config["Env"] = entries


def nop(shell: list[str], comment: str) -> str:
    """The classic builder's metadata history line: ``/bin/sh -c #(nop)  ENV a=b`` (two spaces: it
    joins ``#(nop) `` and the comment), but ``#(nop) WORKDIR /w`` (one string: one space)."""
    if comment.startswith("WORKDIR "):
        return " ".join([*shell, f"#(nop) {comment}"])
    return " ".join([*shell, "#(nop) ", comment])


def copy_history(shell: list[str], keyword: str, content_hash: str, dest: str, *, directory: bool) -> str:
    """``/bin/sh -c #(nop) COPY dir:<hash> in /dest `` as the classic builder writes it."""
    kind = "dir" if directory else "file"
    return " ".join([*shell, f"#(nop) {keyword} {kind}:{content_hash.removeprefix('sha256:')} in {dest} "])


# --- handlers: each returns the history comment -----------------------------------------------
def _env(state: StageState, inst: Instruction) -> str:
    scope = state.scope()
    pairs = [(state.lexer.expand(k, scope), state.lexer.expand(v or "", scope)) for k, v in inst.pairs]
    for key, value in pairs:
        if not key:
            raise BuildError("ENV names can not be blank")
        state.set_env(key, value)
    return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)


def _label(state: StageState, inst: Instruction) -> str:
    scope = state.scope()
    pairs = [(state.lexer.expand(k, scope), state.lexer.expand(v or "", scope)) for k, v in inst.pairs]
    labels = dict(state.config.get("Labels") or {})
    for key, value in pairs:
        if not key:
            raise BuildError("LABEL names can not be blank")
        labels[key] = value
    state.config["Labels"] = labels
    return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)


def _arg(state: StageState, inst: Instruction) -> str:
    words = []
    for key, raw in inst.pairs:
        default = None if raw is None else state.expand(raw)
        state.args.declare(key, default)
        words.append(key if default is None else f"{key}={default}")
    return "ARG " + " ".join(words)


def _user(state: StageState, inst: Instruction) -> str:
    user = state.expand(inst.args[0])
    if not user:
        raise BuildError("USER requires a user name or id")
    state.config["User"] = user
    return f"USER {user}"


def _workdir(state: StageState, inst: Instruction) -> str:
    path = state.expand(inst.args[0])
    if not path:
        raise BuildError("WORKDIR requires a path")
    state.config["WorkingDir"] = posixpath.normpath(posixpath.join(state.config.get("WorkingDir") or "/", path))
    return f"WORKDIR {state.config['WorkingDir']}"


def _expose(state: StageState, inst: Instruction) -> str:
    words = [w for arg in inst.args for w in state.lexer.expand_words(arg, state.scope())]
    ports = dict(state.config.get("ExposedPorts") or {})
    for word in words:
        for port in parse_ports(word):
            ports[port] = {}
    state.config["ExposedPorts"] = ports
    return "EXPOSE " + " ".join(sorted(words))  # the classic builder sorts the words as written


def parse_ports(word: str) -> list[str]:
    """``80``, ``80/udp``, ``8000-8010`` -> ``["80/tcp"]`` ... (each port of a range)."""
    match = _PORT.match(word.lower())
    if not match:
        raise BuildError(f"invalid port {word!r}",
                         hint="write PORT[-END][/tcp|udp|sctp]; publishing is done at run time")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    proto = match.group(3) or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise BuildError(f"invalid protocol {proto!r} in {word!r}", hint="use tcp, udp or sctp")
    if not 0 < low <= high <= 65535:
        raise BuildError(f"invalid port range {word!r}", hint="ports are 1-65535, START <= END")
    return [f"{port}/{proto}" for port in range(low, high + 1)]


def _volume(state: StageState, inst: Instruction) -> str:
    paths = [state.expand(arg) for arg in inst.args]
    volumes = dict(state.config.get("Volumes") or {})
    for path in paths:
        if not path.strip():
            raise BuildError("VOLUME specified can not be an empty string")
        volumes[path] = {}
    state.config["Volumes"] = volumes
    return f"VOLUME [{' '.join(paths)}]"


def _cmd(state: StageState, inst: Instruction) -> str:
    state.config["Cmd"] = state.run_argv(inst) if inst.args or inst.json else None
    state.cmd_set = True
    return f"CMD {go_quote_list(state.config['Cmd'] or [])}"


def _entrypoint(state: StageState, inst: Instruction) -> str:
    state.config["Entrypoint"] = state.run_argv(inst) if inst.args or inst.json else None
    if not state.cmd_set:
        state.config["Cmd"] = None
    return f"ENTRYPOINT {go_quote_list(state.config['Entrypoint'] or [])}"


def _healthcheck(state: StageState, inst: Instruction) -> str:
    if inst.args[0] == "NONE":
        state.config["Healthcheck"] = {"Test": ["NONE"]}
    else:
        test = ["CMD", *inst.args[1:]] if inst.json else ["CMD-SHELL", inst.args[1]]
        check: dict[str, Any] = {"Test": test}
        for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                          ("start-period", "StartPeriod"), ("start-interval", "StartInterval")):
            value = inst.flag(flag)
            if value is not None:
                check[key] = _health_duration(flag, value)
        retries = inst.flag("retries")
        if retries is not None:
            if not retries.lstrip("-").isdigit() or int(retries) < 0:
                raise BuildError(f"--retries must be a non-negative integer, not {retries!r}")
            check["Retries"] = int(retries)
        state.config["Healthcheck"] = check
    return f"HEALTHCHECK {_health_text(state.config['Healthcheck'])}"


def _health_duration(flag: str, text: str) -> int:
    try:
        value = duration_ns(text)
    except ValueError:
        raise BuildError(f"--{flag}: invalid duration {text!r}", hint="write a Go duration such as 30s or 1m30s") from None
    if value != 0 and value < 10**6:
        raise BuildError(f"--{flag} cannot be less than 1ms")
    return value


def _health_text(check: dict[str, Any]) -> str:
    """Go's ``%q`` of a *HealthConfig, as the classic builder's history shows it."""
    if check["Test"] == ["NONE"]:
        return '&{["NONE"] "0s" "0s" "0s" "0s" \'\\x00\'}'
    keys = ("Interval", "Timeout", "StartPeriod", "StartInterval")
    times = " ".join(f'"{format_duration(check.get(k, 0))}"' for k in keys)
    retries = check.get("Retries", 0)
    char = chr(retries) if 32 <= retries < 127 and chr(retries) not in "'\\" else f"\\x{retries:02x}"
    return f"&{{{go_quote_list(check['Test'])} {times} '{char}'}}"


def _shell(state: StageState, inst: Instruction) -> str:
    state.config["Shell"] = list(inst.args)
    return f"SHELL [{' '.join(inst.args)}]"


def _stopsignal(state: StageState, inst: Instruction) -> str:
    signal = state.expand(inst.args[0])
    if not _SIGNAL.match(signal.upper()):
        raise BuildError(f"invalid signal {signal!r}", hint="write a name such as SIGTERM or a number")
    state.config["StopSignal"] = signal
    return f"STOPSIGNAL {signal}"


def _onbuild(state: StageState, inst: Instruction) -> str:
    state.config["OnBuild"] = [*(state.config.get("OnBuild") or []), inst.args[0]]
    return f"ONBUILD {inst.args[0]}"


def _maintainer(state: StageState, inst: Instruction) -> str:
    state.author = inst.args[0]
    return f"MAINTAINER {inst.args[0]}"


_HANDLERS: dict[str, Callable[[StageState, Instruction], str]] = {
    "ENV": _env, "LABEL": _label, "ARG": _arg, "USER": _user, "WORKDIR": _workdir,
    "EXPOSE": _expose, "VOLUME": _volume, "CMD": _cmd, "ENTRYPOINT": _entrypoint,
    "HEALTHCHECK": _healthcheck, "SHELL": _shell, "STOPSIGNAL": _stopsignal,
    "ONBUILD": _onbuild, "MAINTAINER": _maintainer}


def onbuild_triggers(image_config: dict[str, Any] | None, escape: str = "\\") -> list[Instruction]:
    """The base image's ONBUILD triggers, parsed, to run right after its FROM."""
    triggers = ((image_config or {}).get("config") or {}).get("OnBuild") or []
    return [_instruction(text, SourceLocation("ONBUILD trigger"), escape, None) for text in triggers]


# --- small formats ------------------------------------------------------------------------------
def go_quote_list(items: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["a" "b c"]``."""
    import json
    return "[" + " ".join(json.dumps(item, ensure_ascii=False) for item in items) + "]"


def parse_chmod(text: str) -> int:
    """``COPY --chmod=0755`` as a mode number (octal, at most 7777)."""
    if not re.fullmatch(r"[0-7]{1,4}", text):
        raise BuildError(f"invalid --chmod value {text!r}", hint="write an octal mode such as 0755 or 644")
    return int(text, 8)


def split_chown(text: str) -> tuple[str, str | None]:
    """``--chown=user[:group]`` as (user, group or None); names are resolved in the image later."""
    user, colon, group = text.partition(":")
    if not user or (colon and not group):
        raise BuildError(f"invalid --chown value {text!r}", hint="write user, user:group, uid or uid:gid")
    return user, group if colon else None


def add_source_kind(source: str) -> str:
    """What an ADD source is: ``git`` (a repository), ``url`` (a download) or ``local``."""
    lowered = source.lower()
    if lowered.startswith(("git://", "git@")) or re.match(r"^(https?|ssh)://[^#]+\.git(#.*)?$", lowered):
        return "git"
    if lowered.startswith(("http://", "https://")):
        return "url"
    return "local"


def check_checksum(text: str) -> str:
    """``ADD --checksum=sha256:<64 hex>`` (the only algorithm accepted); returns it lowercased."""
    algorithm, _, digest = text.partition(":")
    if algorithm != "sha256" or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise BuildError(f"invalid checksum {text!r}", hint="write --checksum=sha256:<64 hex digits>")
    return f"sha256:{digest.lower()}"


def parse_mount(text: str) -> dict[str, str]:
    """``RUN --mount=type=cache,target=/root/.cache,from=stage`` as a dict (type defaults to bind)."""
    import csv

    fields = next(csv.reader([text]))
    mount: dict[str, str] = {"type": "bind"}
    aliases = {"dst": "target", "destination": "target", "src": "source", "readonly": "ro"}
    for item in fields:
        key, eq, value = item.strip().partition("=")
        key = aliases.get(key.lower(), key.lower())
        mount[key] = value if eq else "true"
    if mount["type"] not in _MOUNT_TYPES:
        raise BuildError(f"unsupported mount type {mount['type']!r}", hint=f"use one of {', '.join(_MOUNT_TYPES)}")
    if "target" not in mount and mount["type"] not in ("secret", "ssh"):
        raise BuildError(f"mount {text!r} has no target", hint="add target=/path")
    return mount


def step_text(state: StageState, inst: Instruction) -> str:
    """The expanded instruction text a cache key holds (COPY/ADD sources go in as the content hash).

    RUN: its history line plus its flags; COPY/ADD: keyword, expanded flags and destination;
    config-only instructions: the history comment they would produce on this state.
    """
    scope = state.scope()
    flags = " ".join(f"--{k}={state.lexer.expand(v or '', scope)}" for k, v in sorted(inst.flags))
    if inst.keyword == "RUN":
        return f"{state.run_history(inst)} {flags}".rstrip()
    if inst.keyword in ("COPY", "ADD"):
        dest = state.lexer.expand(inst.args[-1], scope)
        docs = "".join(f" <<{d.name}:{d.content}" for d in inst.heredocs)
        return f"{inst.keyword} {flags} {dest}{docs}".replace("  ", " ")
    args = StageArgs(state.args.build_args, state.args.meta)
    args.values = dict(state.args.values)
    trial = StageState(args, state.lexer, copy.deepcopy(state.config), [], state.author, state.cmd_set)
    return trial.dispatch(inst)["created_by"]
