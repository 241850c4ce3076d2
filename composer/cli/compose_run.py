"""``composer run``: a one-off container of a service, attached or detached."""

from __future__ import annotations

import contextlib
import shlex
import sys
from typing import Any

from composer.cli import compose as C
from composer.errors import ContainerNotFound, UsageError


def parse_publish(values: list[str]) -> tuple[Any, ...]:
    """``-p [[IP:]HOST:]CONTAINER[/PROTO]`` -> PortSpec tuple."""
    from composer.engine.runtime.base import PortSpec

    specs = []
    for value in values:
        ports, _, protocol = value.partition("/")
        parts = ports.rsplit(":", 2)
        if not parts[-1].isdigit():
            raise UsageError(f"invalid -p {value!r}", hint="use -p [IP:]HOST:CONTAINER[/tcp|udp]")
        host_ip = parts[0] if len(parts) == 3 else ""
        published = parts[-2] if len(parts) >= 2 else ""
        specs.append(PortSpec(target=int(parts[-1]), published=published, host_ip=host_ip,
                              protocol=protocol or "tcp"))
    return tuple(specs)


def parse_volumes(values: list[str], working_dir: str) -> tuple[Any, ...]:
    """``-v SOURCE:TARGET[:ro]`` -> MountSpec tuple (a path source is a bind, a name a volume)."""
    import os

    from composer.engine.runtime.base import MountSpec

    mounts = []
    for value in values:
        parts = value.split(":")
        if len(parts) == 1:
            mounts.append(MountSpec(type="volume", target=parts[0]))
            continue
        if len(parts) > 3 or not parts[1].startswith("/"):
            raise UsageError(f"invalid -v {value!r}", hint="use -v SOURCE:/TARGET[:ro]")
        source, target = parts[0], parts[1]
        read_only = len(parts) == 3 and "ro" in parts[2].split(",")
        if source.startswith((".", "/", "~")):
            mounts.append(MountSpec(type="bind", target=target, read_only=read_only,
                                    source=os.path.normpath(os.path.join(working_dir, os.path.expanduser(source)))))
        else:
            mounts.append(MountSpec(type="volume", source=source, target=target, read_only=read_only))
    return tuple(mounts)


def run_command(ctx: Any, service: str, command: list[str] | None, options: dict) -> int:
    """``compose run``, as the typer command and the fast path (``compose_fast.run_main``) give it:
    ``options`` by their flags' long names (``rm``, ``no_TTY``, ``env_from_file`` ...); its exit code."""
    if ctx.obj.dry_run or options.get("dry_run"):  # refused rather than run: nothing may happen in dry run mode
        raise UsageError("composer run has no dry run mode yet", hint="drop --dry-run")
    if options.get("tty") and not sys.stdin.isatty():
        raise UsageError("cannot attach stdin to a TTY-enabled container because stdin is not a terminal",
                         hint="drop --tty, or run from a terminal")
    pull = options.get("pull")
    if pull not in (None, "always", "missing", "never"):
        raise UsageError(f'invalid --pull option "{pull}"', hint="use always, missing or never")
    env = [*_env_from_files(options.get("env_from_file") or []), *(options.get("env") or [])]  # -e wins, as compose
    flag = lambda name: bool(options.get(name))  # noqa: E731
    return run_oneoff(ctx, service, command, remove=flag("rm"), detach=flag("detach"), env=env,
                      entrypoint=options.get("entrypoint"), no_deps=flag("no_deps"), publish=options.get("publish") or [],
                      service_ports=flag("service_ports"), name=options.get("name"),
                      tty=not options.get("no_TTY") and sys.stdin.isatty(), user=options.get("user"),
                      workdir=options.get("workdir"), volumes=options.get("volume") or [],
                      labels=options.get("label") or [], pull=pull, build=flag("build"),
                      use_aliases=flag("use_aliases"), remove_orphans=flag("remove_orphans"),
                      capabilities=(tuple(options.get("cap_add") or ()), tuple(options.get("cap_drop") or ())),
                      quiet_pull=flag("quiet_pull"), quiet=flag("quiet"))


def _env_from_files(paths: list[str]) -> list[str]:
    """``run --env-from-file``: ``KEY=VALUE`` items of each dotenv file, in order."""
    from pathlib import Path

    from composer.spec.dotenv import read_dotenv

    return [f"{key}={value or ''}" for path in paths for key, value in read_dotenv(Path(path)).items()]


def run_oneoff(ctx: Any, service: str, command: list[str] | None, *, remove: bool, detach: bool, env: list[str],
               entrypoint: str | None, no_deps: bool, publish: list[str], service_ports: bool, name: str | None,
               tty: bool, user: str | None, workdir: str | None, volumes: list[str], labels: list[str],
               pull: str | None = None, build: bool = False, use_aliases: bool = False, remove_orphans: bool = False,
               capabilities: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()), quiet_pull: bool = False,
               quiet: bool = False) -> int:
    """Create the one-off container, then print its name (``-d``) or its output and exit code
    (``quiet_pull``: the pulls without their layers' lines; ``quiet``: no progress lines at all)."""
    from composer.engine.options import RunOptions

    if publish and service_ports:
        raise UsageError("--service-ports and --publish are incompatible", hint="keep one of them")
    if any("=" not in label for label in labels):
        raise UsageError("label must be set as KEY=VALUE")
    project = C.load(ctx)
    if service not in project.services:
        raise UsageError(f"no such service: {service}", hint=f"services: {', '.join(sorted(project.services))}")
    options = RunOptions(
        # as compose: a new entrypoint without a command drops the service's command
        service=service, command=tuple(command) if command else (() if entrypoint is not None else None),
        entrypoint=tuple(shlex.split(entrypoint)) if entrypoint is not None else None,
        environment=C.parse_env(env), name=name, no_deps=no_deps,
        # attached: this command removes the container after reading its exit code (an
        # auto-removing supervisor could take the state away before `wait` reads it)
        remove=remove and detach, user=user, workdir=workdir,
        service_ports=service_ports, publish=parse_publish(publish),
        volumes=parse_volumes(volumes, project.working_dir),
        labels=dict(label.partition("=")[::2] for label in labels), tty=tty, interactive=not detach,
        pull=pull, build=build, use_aliases=use_aliases, remove_orphans=remove_orphans, quiet_pull=quiet_pull)
    with C.progress_for(ctx, quiet=quiet) as progress:
        spec = with_capabilities(C.engine(progress, project).prepare_run(project, options), *capabilities)
    runtime = C.make_runtime()
    container_id = runtime.create_container(spec)
    try:
        connection = _start(runtime, container_id, attach=not detach)
    except BaseException:
        if remove:
            runtime.remove_container(container_id, force=True)
        raise  # (exit 1 as any Compose command's error: render.run_guarded)
    if detach:
        print(container_id)  # as compose (docker start's output): the new container's id
        return 0
    if connection is not None:
        code = _relay(runtime, container_id, connection, remove)
    else:
        code = _attach(runtime, container_id, spec.name, remove)
    if code:  # Compose 2.40 ends a failed one-off's run with an empty line on stderr (its empty StatusError)
        sys.stderr.write("\n")
    return code


def with_capabilities(spec: Any, add: tuple[str, ...], drop: tuple[str, ...]) -> Any:
    """``run --cap-add/--cap-drop`` over the service's ``cap_add``/``cap_drop`` (as compose: an added
    capability leaves the dropped ones, a dropped one the added ones)."""
    cap_add, cap_drop = spec.cap_add, spec.cap_drop
    if add:
        cap_add, cap_drop = (*cap_add, *add), tuple(c for c in cap_drop if c not in add)
    if drop:
        cap_add, cap_drop = tuple(c for c in cap_add if c not in drop), (*cap_drop, *drop)
    return spec._replace(cap_add=cap_add, cap_drop=cap_drop)


def _start(runtime: Any, container_id: str, *, attach: bool) -> Any:
    """Start the one-off; attached on the kernel runtime, the connection to its attach socket
    (made before its first output: our stdin, piped or a terminal, reaches it), else None."""
    if not attach or getattr(runtime, "read_logs", None) is None:
        runtime.start_container(container_id)
        return None
    from composer.engine.runtime import containers

    return containers.start(container_id, attach=True, client_attached=True)


def _relay(runtime: Any, container_id: str, connection: Any, remove: bool) -> int:
    """Our stdio relayed to the one-off until it exits; its exit code."""
    from composer.engine.runtime.sessions import attach

    try:
        code = attach(container_id, connection=connection)
        return runtime.wait_container(container_id) if code is None else code
    finally:
        _ended(runtime, container_id, remove)


def _attach(runtime: Any, container_id: str, name: str, remove: bool) -> int:
    """Print the container's output until it exits; its exit code (Ctrl-C stops it)."""
    try:
        summary = next(c for c in runtime.list_containers({}, all=True) if c.id == container_id)
        C.stream_logs([summary], C.LogPrinter((), color=False, prefix=False), follow=True)
        return runtime.wait_container(container_id)
    except KeyboardInterrupt:
        runtime.stop_container(container_id, timeout=10)
        return 130
    finally:
        _ended(runtime, container_id, remove)


def _ended(runtime: Any, container_id: str, remove: bool) -> None:
    """After an attached one-off: our output flushed, the container removed with ``--rm``."""
    sys.stdout.flush()
    if remove:
        with contextlib.suppress(ContainerNotFound):
            runtime.remove_container(container_id, force=True)
