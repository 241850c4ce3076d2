"""``RUN --mount=...``: cache, bind, tmpfs, secret and ssh mounts of a build container.

- ``type=cache``: a directory kept by the builder across builds (``id`` or the target names it),
  optionally owned by ``uid``/``gid`` with ``mode``; its content never enters a layer.
- ``type=bind``: a read-only bind of a path of the context, or of another stage or image
  (``from=``); ``rw`` is refused (BuildKit would discard the writes, a host bind would not).
- ``type=tmpfs``: a fresh tmpfs (``size=`` honoured).
- ``type=secret``: the build secret ``id`` (default: the target's name) as a read-only file at
  ``target`` (default ``/run/secrets/<id>``), or in the variable ``env=``; the file lives in a
  tmpfs attached nowhere on the host (:func:`open_secret_files`): the container's own mount
  set-up attaches it, so the value never touches a disk or a layer and nothing stays mounted
  when the build is killed. A secret the build was not given is skipped, or an error with
  ``required=true``.
- ``type=ssh``: the agent socket ``id`` (default ``default``; key files get a private agent)
  bound at ``target`` (default ``/run/buildkit/ssh_agent.<n>``), with ``SSH_AUTH_SOCK``
  pointing at the first one; with ``uid``/``gid``/``mode`` a proxy socket owned that way.

Mount points the runtime had to create (absent from the image) are removed from the step's
upper dir afterwards, so a mount leaves no trace in the layer.
"""

from __future__ import annotations

import errno
import hashlib
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from composer.engine.build.context import BuildContext
from composer.engine.build.instructions import parse_mount
from composer.errors import BuildError

if TYPE_CHECKING:
    from composer.engine.runtime.config import Mount

    from composer.engine.build.steps import Step


SECRETS_DIR = "/run/secrets"
SSH_DIR = "/run/buildkit"
STAGED_NAME = "secret"  # the file in a staged secret's own tmpfs (Linux < 6.15)


@dataclass
class RunMounts:
    """What a RUN's ``--mount`` flags add to its build container: mounts and variables."""

    mounts: list[Mount] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    secrets: SecretFiles | None = None  # the step's secret files (made on first use)
    ssh_count: int = 0


@dataclass(frozen=True, slots=True)
class SecretFile:
    """One secret as a file of the step's container: its value, owner, mode and path there."""

    value: bytes = field(repr=False)
    uid: int
    gid: int
    mode: int
    target: str


@dataclass
class SecretFiles:
    """A step's secret files; the container gets them as read-only binds of a detached tmpfs."""

    files: list[SecretFile] = field(default_factory=list)
    staged: bool = False  # Linux < 6.15: each fd is a one-file tmpfs the container attaches first

    def mounts(self, fds: Sequence[int] = ()) -> list[Mount]:
        """The runtime mounts the files take: read-only binds of the detached mounts ``fds``
        (:func:`open_secret_files`, inherited by the container's init), or with no source."""
        from composer.engine.runtime.config import Mount
        from composer.engine.runtime.rootfs import STAGED

        if self.staged and fds:
            return [Mount(type="bind", target=file.target, source=f"/proc/self/fd/{fd}/{STAGED_NAME}",
                          readonly=True, options=STAGED) for file, fd in zip(self.files, fds)]
        sources = [f"/proc/self/fd/{fd}" for fd in fds] or [""] * len(self.files)
        return [Mount(type="bind", target=file.target, source=source, readonly=True)
                for file, source in zip(self.files, sources)]


def build_mounts(step: Step, stack: ExitStack) -> RunMounts:
    """The runtime mounts of a RUN's ``--mount`` flags (views stay mounted until ``stack`` ends)."""
    from composer.engine.runtime.config import Mount

    out = RunMounts()
    for text in step.inst.flag_all("mount"):
        spec = parse_mount(step.state.expand(text))
        kind = spec["type"]
        if kind == "secret":
            _add_secret(step, spec, out)
            continue
        if kind == "ssh":
            _add_ssh(step, spec, out)
            continue
        target = _absolute(step, spec.get("target", ""))
        if kind == "cache":
            out.mounts.append(Mount(type="bind", target=target, source=str(_cache_dir(spec, target))))
        elif kind == "bind":
            out.mounts.append(Mount(type="bind", target=target, source=_bind_source(step, spec, stack),
                                    readonly=True))
        else:
            size = f"size={spec['size']}" if spec.get("size") else ""
            out.mounts.append(Mount(type="tmpfs", target=target, options=size))
    return out


def _absolute(step: Step, target: str) -> str:
    if target.startswith("/"):
        return target
    return os.path.join(step.state.config.get("WorkingDir") or "/", target)


def _required(spec: dict[str, str]) -> bool:
    return spec.get("required", "false").lower() in ("true", "1")


def _owner_mode(spec: dict[str, str], mode: str) -> tuple[int, int, int]:
    try:
        return int(spec.get("uid", 0)), int(spec.get("gid", 0)), int(spec.get("mode", mode), 8)
    except ValueError:
        raise BuildError(f"invalid uid, gid or mode in --mount {spec}", hint="use numbers; mode in octal") from None


def _add_secret(step: Step, spec: dict[str, str], out: RunMounts) -> None:
    """A secret as a read-only file at its target (and/or in ``env=``)."""
    secret_id = spec.get("id") or os.path.basename(spec.get("target", ""))
    if not secret_id:
        raise BuildError("RUN --mount=type=secret needs id= (or a target=)", hint="write type=secret,id=NAME")
    secret = step.builder.request.secret(secret_id)
    if secret is None:
        if _required(spec):
            raise BuildError(f"secret {secret_id} is required but was not given to the build",
                             hint=f"pass --secret id={secret_id},src=FILE (compose: build.secrets)")
        return
    value = secret.read()
    if spec.get("env"):
        out.env.append(f"{spec['env']}={value.decode('utf-8', 'replace')}")
        if "target" not in spec:
            return
    target = _absolute(step, spec.get("target") or f"{SECRETS_DIR}/{secret_id}")
    out.secrets = out.secrets or SecretFiles()
    out.secrets.files.append(SecretFile(value, *_owner_mode(spec, "400"), target))


def open_secret_files(secrets: SecretFiles) -> list[int]:
    """Each secret as a detached mount (close-on-exec fds, in ``secrets.files``' order).

    The files are written into a new tmpfs that is never attached on the host; the container's
    init inherits the descriptors and its own mount set-up binds each one (through
    ``/proc/self/fd``) onto its target (``rootfs.apply_mount``). The tmpfs lives only as long as
    the descriptors and the container's mount namespace: a killed build leaves nothing behind,
    and no extra process is needed. Linux 6.15+ clones each file of one tmpfs as its own mount;
    older kernels refuse that (EINVAL), so each file gets its own tmpfs, which the container
    attaches on a staging directory before binding the file (``secrets.staged``).
    """
    fds: list[int] = []
    try:
        try:
            _cloned_files(secrets.files, fds)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            _close_all(fds)
            for file in secrets.files:
                fds.append(_secret_tmpfs())
                _write_secret(fds[-1], STAGED_NAME, file)
            secrets.staged = True
    except OSError as error:
        _close_all(fds)
        raise BuildError(f"cannot make a tmpfs for the build secrets: {error.strerror}",
                         hint="the build needs root and Linux 5.2 or newer (detached mounts)") from None
    return fds


def _cloned_files(files: Sequence[SecretFile], fds: list[int]) -> None:
    """Linux 6.15+: one tmpfs, each file cloned from it as a one-file detached mount (into ``fds``)."""
    from composer.engine.runtime import libc

    root = _secret_tmpfs()
    try:
        for index, file in enumerate(files):
            _write_secret(root, str(index), file)
            fds.append(libc.clone_tree(f"/proc/self/fd/{root}/{index}"))
    finally:
        os.close(root)


def _secret_tmpfs() -> int:
    from composer.engine.runtime import libc

    return libc.detached_tmpfs({"mode": "0700", "size": "16m"},
                               libc.MOUNT_ATTR_NOSUID | libc.MOUNT_ATTR_NODEV | libc.MOUNT_ATTR_NOEXEC)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)
    fds.clear()


def _write_secret(root: int, name: str, file: SecretFile) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=root)
    try:
        os.write(fd, file.value)
        os.fchown(fd, file.uid, file.gid)
        os.fchmod(fd, file.mode)
    finally:
        os.close(fd)


def _add_ssh(step: Step, spec: dict[str, str], out: RunMounts) -> None:
    """An agent socket bound into the container; SSH_AUTH_SOCK names the first one."""
    from composer.engine.runtime.config import Mount

    ssh_id = spec.get("id") or "default"
    agent = step.builder.request.ssh_agent(ssh_id)
    out.ssh_count += 1
    if agent is None:
        if _required(spec):
            raise BuildError(f"ssh agent {ssh_id} is required but was not given to the build",
                             hint="pass --ssh default (with ssh-agent running) or --ssh ID=SOCKET")
        return
    target = _absolute(step, spec.get("target") or f"{SSH_DIR}/ssh_agent.{out.ssh_count - 1}")
    pool = step.builder.ssh_agents
    if any(key in spec for key in ("uid", "gid", "mode")):  # a proxy socket with that owner and mode
        source = pool.proxied(agent, *_owner_mode(spec, "600"))
    else:
        source = pool.socket(agent)
    out.mounts.append(Mount(type="bind", target=target, source=source))
    if not any(entry.startswith("SSH_AUTH_SOCK=") for entry in out.env):
        out.env.append(f"SSH_AUTH_SOCK={target}")


def _cache_dir(spec: dict[str, str], target: str) -> Path:
    from composer.engine.build.executor import builder_root

    name = spec.get("id") or target
    path = builder_root() / "mounts" / hashlib.sha256(name.encode()).hexdigest()[:32]
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, int(spec.get("uid", 0)), int(spec.get("gid", 0)))
        os.chmod(path, int(spec.get("mode", "755"), 8))
    return path


def _bind_source(step: Step, spec: dict[str, str], stack: ExitStack) -> str:
    if spec.get("rw") in ("true", "1") or spec.get("readwrite") in ("true", "1"):
        raise BuildError("RUN --mount=type=bind,rw is not supported", hint="copy the files in and change them")
    origin = spec.get("from")
    if origin is None:
        context = step.builder.context
        assert context is not None
    else:
        found = step.builder.stage_result(origin, step.inst)
        dirs = found.dirs if found is not None else step.builder.image(origin, step.inst, step.result.platform)[3]
        from composer.engine.build.view import merged

        context = BuildContext.from_rootfs(stack.enter_context(merged(dirs, step.builder.scratch)))
    rel = BuildContext.clean(spec.get("source", "."))
    return str(context.root / context.follow(rel, spec.get("source", ".")))


def drop_stubs(upper: Path, mounts: Sequence[Mount], lower: Sequence[Path]) -> None:
    """Remove mount points the runtime created in ``upper`` (empty, and absent from every lower)."""
    for mount in mounts:
        rel = mount.target.strip("/")
        if not rel or any(os.path.lexists(layer / rel) for layer in lower):
            continue
        parts = rel.split("/")
        if any(os.path.islink(upper.joinpath(*parts[:depth])) for depth in range(1, len(parts) + 1)):
            continue  # the step put a link on the way: leave it all to the layer, follow nothing
        for depth in range(len(parts), 0, -1):  # the target, then parents made or copied up only for it
            sub = "/".join(parts[:depth])
            below = next((layer / sub for layer in reversed(lower) if os.path.lexists(layer / sub)), None)
            if below is not None and not _same_owner_mode(upper / sub, below):
                break
            if not _remove_empty(upper / sub):
                break


def _same_owner_mode(path: Path, below: Path) -> bool:
    """Whether a directory copied up by the overlay kept the lower one's owner and mode (not opaque)."""
    from composer.engine.build.layer import is_opaque

    try:
        mine, theirs = os.lstat(path), os.lstat(below)
    except OSError:
        return False
    return (not is_opaque(str(path)) and os.path.isdir(path) and not os.path.islink(path)
            and (mine.st_mode, mine.st_uid, mine.st_gid) == (theirs.st_mode, theirs.st_uid, theirs.st_gid))


def _remove_empty(path: Path) -> bool:
    """Remove an empty directory or empty file (never through a link); whether it went."""
    try:
        info = os.lstat(path)
        if os.path.isdir(path):
            os.rmdir(path)
        elif info.st_size == 0 and not os.path.islink(path):
            os.unlink(path)
        else:
            return False
    except OSError:
        return False
    return True
