"""RUN steps: a build container made by the runtime, whose overlay upper dir becomes the layer.

The container runs in the foreground (``runtime.linux.run_foreground``) without ``--rm``, so its
state directory and ``upper/`` survive its exit; the upper dir is then moved out as the step's
layer directory and the state directory removed. Its stdin is /dev/null and its output goes to
a file (the caller's descriptors 1 and 2 are pointed there for the run), returned as text so a
failure can show it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from composer.engine.build.leftovers import BUILD_IMAGE, CONTAINER_PREFIX, owner_label
from composer.errors import BuildError, ComposerError

#: Files the runtime creates (empty) as bind-mount points in every container: not the step's changes.
MOUNT_POINTS = ("etc/hosts", "etc/hostname", "etc/resolv.conf")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a RUN ended: exit code, its output, and the directory holding its changes."""

    exit_code: int
    output: str
    upper: Path


def network_mode(requested: str | None) -> str:
    """The runtime network of a build container: the default bridge (as Docker's), or as asked."""
    if requested in (None, "", "default"):
        return "bridge"
    return requested


def new_container_id() -> str:
    """A fresh id for a build container (64 hex digits, as a container's)."""
    return os.urandom(32).hex()


def step_config(layers: Sequence[Path], argv: list[str], env: list[str], *, cwd: str, user: str,
                network: str, mounts: Sequence = ()):
    """The ContainerConfig of a RUN step's container: a new id, the build's name prefix and image
    marker, and the label naming this process as its builder (``leftovers``)."""
    from composer.engine.runtime.config import ContainerConfig

    container_id = new_container_id()
    return ContainerConfig(id=container_id, name=f"{CONTAINER_PREFIX}{container_id[:12]}", image=BUILD_IMAGE,
                           image_id="", layers=[str(layer) for layer in layers], args=argv, env=env,
                           cwd=cwd or "/", user=user, network=network, auto_remove=False, mounts=list(mounts),
                           labels={"com.docker.compose.build": "true", **owner_label()})


def run_step(layers: Sequence[Path], argv: list[str], env: list[str], *, cwd: str, user: str,
             network: str, scratch: Path, mounts: Sequence = (), secrets=None,
             on_line: Callable[[str], None] | None = None) -> RunOutcome:
    """Run ``argv`` on ``layers``; the upper dir is moved to a new directory under ``scratch``.

    ``secrets`` (``runmounts.SecretFiles``): files of a tmpfs only the step's container has
    attached (it cannot outlive the step, even killed).
    """
    from composer.engine.runtime.state import ContainerDir, release_name

    if not layers:
        raise BuildError("RUN needs a base image with a shell; this stage is FROM scratch",
                         hint="build from an image, or use COPY to fill a scratch stage")
    config = step_config(layers, argv, env, cwd=cwd, user=user, network=network, mounts=mounts)
    container_id = config.id
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / f"run-{container_id[:12]}.log"
    cdir = ContainerDir(container_id)
    try:
        with open(log, "w+b") as out:
            with _Follower(log, on_line):
                exit_code = _run(config, out.fileno(), secrets)
            out.seek(0)
            output = out.read().decode("utf-8", "replace")
        upper = scratch / f"layer-{container_id[:12]}"
        _move(Path(cdir.upper), upper)
        _drop_mount_points(upper)
        return RunOutcome(exit_code, output, upper)
    finally:
        log.unlink(missing_ok=True)
        release_name(config.name)
        cdir.remove()


def _run(config, out_fd: int, secrets=None) -> int:
    """Run the build container with its output to ``out_fd``; its exit code.

    In the main thread the runtime runs in this process (descriptors 0-2 redirected for the
    run). In another thread (the compose engine builds from worker threads) signal handlers and
    process-wide descriptors are not ours to change, so a child process runs it instead.
    ``secrets`` (``runmounts.SecretFiles``) reach the container as detached mounts that its own
    mount set-up attaches (``runmounts.open_secret_files``).
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return _run_in_child(config, out_fd, secrets)
    from composer.engine.build.runmounts import open_secret_files

    try:
        if secrets is None:
            return run_container(config, out_fd=out_fd)
        fds = open_secret_files(secrets)
        return run_container(config, secrets.mounts(fds), fds, out_fd)
    except ComposerError as error:
        raise BuildError(f"cannot start the build container: {error.message}", hint=error.hint) from None


def run_container(config, secret_mounts: Sequence = (), secret_fds: Sequence[int] = (),
                  out_fd: int | None = None) -> int:
    """Run ``config`` in the foreground (0-2 pointed at ``out_fd`` while forking); its exit code.

    ``secret_mounts`` bind the detached mounts ``secret_fds``, which the container's init
    inherits (closed here at the end).
    """
    from contextlib import nullcontext

    from composer.engine.runtime.linux import ForegroundRun

    run = ForegroundRun(config)  # run_foreground's steps, with 0-2 redirected only while forking
    try:
        try:
            plan = run.prepare()
        except BaseException:
            run.abort()
            raise
        plan.mounts = [*plan.mounts, *secret_mounts]  # not in config.json: they name descriptors
        with _redirected(out_fd) if out_fd is not None else nullcontext():
            run.start(plan)
        return run.wait().exit_code
    finally:
        for fd in secret_fds:
            os.close(fd)
        run.cleanup()


def _run_in_child(config, out_fd: int, secrets=None) -> int:
    """Run the container from ``python -m composer.engine.build.running`` (its exit code in a file);
    the secrets go to it as descriptors of their detached mounts, never as values."""
    import json
    import subprocess
    import tempfile

    from composer.engine.build.runmounts import open_secret_files

    fds = open_secret_files(secrets) if secrets is not None else []
    mounts = [mount.to_dict() for mount in secrets.mounts(fds)] if secrets is not None else []
    payload: dict = {"config": config.to_dict(), "secret_mounts": mounts, "secret_fds": fds}
    try:
        with tempfile.NamedTemporaryFile("r", prefix="exit-") as status:
            subprocess.run([sys.executable, "-m", "composer.engine.build.running", status.name],
                           input=json.dumps(payload).encode(), stdout=out_fd, stderr=out_fd, pass_fds=fds)
            code = status.read().strip()
    finally:
        for fd in fds:
            os.close(fd)
    if not code.isdigit():
        raise BuildError("cannot start the build container (its output follows)")
    return int(code)


def child_main(status_path: str) -> int:
    """The child: run the ContainerConfig JSON on stdin, write the exit code to ``status_path``."""
    import json

    from composer.engine.runtime.config import ContainerConfig, Mount

    payload = json.load(sys.stdin)
    config = ContainerConfig.from_dict(payload["config"])
    mounts = [Mount(**mount) for mount in payload["secret_mounts"]]
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    try:
        code = run_container(config, mounts, payload["secret_fds"])
    except ComposerError as error:
        print(f"cannot start the build container: {error.message}", file=sys.stderr)
        return 1
    with open(status_path, "w") as handle:
        handle.write(str(code))
    return 0


class _Follower:
    """Passes each line written to ``path`` to ``on_line`` while the ``with`` block runs (a thread)."""

    def __init__(self, path: Path, on_line: Callable[[str], None] | None) -> None:
        import threading

        self.path, self.on_line = path, on_line
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True) if on_line else None

    def __enter__(self) -> None:
        if self.thread is not None:
            self.thread.start()

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.done.set()
            self.thread.join()

    def _follow(self) -> None:
        assert self.on_line is not None
        pending = b""
        with open(self.path, "rb") as handle:
            while True:
                finished = self.done.is_set()
                chunk = handle.read()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self.on_line(line.decode("utf-8", "replace"))
                if finished and not chunk:
                    break
                if not chunk:
                    self.done.wait(0.05)
        if pending:
            self.on_line(pending.decode("utf-8", "replace"))


class _redirected:
    """Descriptors 0 (from /dev/null), 1 and 2 (to ``fd``) for the ``with`` block, then restored."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved: list[int] = []

    def __enter__(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        null = os.open(os.devnull, os.O_RDONLY)
        self.saved = [os.dup(0), os.dup(1), os.dup(2)]
        os.dup2(null, 0)
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)
        os.close(null)

    def __exit__(self, *exc: object) -> None:
        for target, saved in enumerate(self.saved):
            os.dup2(saved, target)
            os.close(saved)


def _drop_mount_points(upper: Path) -> None:
    """Remove the empty mount-point files the runtime made (and /etc if nothing else is left)."""
    if os.path.islink(upper / "etc"):
        return  # the step replaced /etc by a link: follow nothing
    for rel in MOUNT_POINTS:
        path = upper / rel
        if path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
            path.unlink()
    try:
        (upper / "etc").rmdir()  # only when empty
    except OSError:
        pass


def _move(source: Path, target: Path) -> None:
    """Rename the upper dir next to the image store (both live under the state root)."""
    try:
        os.rename(source, target)
    except OSError as error:
        raise BuildError(f"cannot keep the RUN step's changes: {error.strerror}",
                         hint="containers/ and images/ of the state root must be on one file system") from None


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))
