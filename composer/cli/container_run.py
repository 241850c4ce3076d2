"""``composer container run``: the typer-free fast path (see FAST_PATHS in ``main.py``).

Turns docker run's flags and the image's config into a ``ContainerConfig`` and runs it in the
foreground; the exit code is the container's (125 for runtime errors, 126/127 for exec failures).
"""

from __future__ import annotations

import gc
import os
import sys

from composer.cli.main import exit_now
from composer.cli.run_config import WINDOWS_ONLY_FLAGS, build_config, read_env_file
from composer.cli.run_flags import parse_run_args
from composer.errors import (ComposerError, ContainerRuntimeError, FlagError, NetworkError, PlatformFlagError,
                             ProgramExecFailed, UsageError)

HELP = """Usage:  composer container run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image (foreground; -d comes with detached containers).
Flags follow `docker run`: --rm --name -e --env-file -l -v --mount --tmpfs -w -u --entrypoint -h
--network none|host|NAME|container:NAME -p -P --pid/--ipc host|container:NAME --uts host --device
-m --memory-swap --memory-reservation --cpus -c
--cpuset-cpus --pids-limit --blkio-weight --ulimit --oom-score-adj --shm-size --cap-add --cap-drop
--security-opt --sysctl --privileged --read-only --init -i -t --stop-signal --add-host --label
--cpu-rt-period --cpu-rt-runtime --kernel-memory --mac-address --volume-driver local
"""


def main(argv: list[str]) -> int:
    """Entry point from ``composer.cli.main.run_fast_path``; returns the exit code (an error's
    as ``refused`` reports it)."""
    try:
        return _run(argv)
    except ComposerError as error:
        return refused(error, "run")


def refused(error: ComposerError, verb: str) -> int:
    """docker run/create's report of ``error`` and its exit code. A command-line error: the
    usage block (125; a missing image argument 1); another platform's flag: its line alone (1);
    one the CLI finds in a value (``invalid hostPort``): ``docker: MESSAGE``, a blank line,
    ``Run 'docker run --help' for more information`` (125). The daemon's: ``run`` as
    ``docker: Error response from daemon: MESSAGE`` and the help line, 125 (126/127: its program
    cannot be run); ``create`` as ``Error response from daemon: MESSAGE``, 1. ``composer
    container VERB`` stands for ``docker VERB``."""
    from composer.cli.render import daemon_text, print_error

    if isinstance(error, PlatformFlagError):
        sys.stderr.write(error.message + "\n")
        return error.exit_code
    if isinstance(error, FlagError) or (error.hint or "").startswith("See '"):
        print_error(error)
        return error.exit_code
    help_line = f"\n\nRun 'composer container {verb} --help' for more information"
    if isinstance(error, UsageError):
        sys.stderr.write(f"composer: {error}{help_line}\n")
        return 125
    text = daemon_text(error if error.message.startswith("Conflict.") else ComposerError(error.message))
    if verb == "create":
        sys.stderr.write(text + "\n")
        return 1
    sys.stderr.write(f"composer: {text}{help_line}\n")
    return error.exit_code if error.exit_code in (126, 127) else 125


def _run(argv: list[str]) -> int:
    gc.disable()  # a short start-up makes no cycles worth 3-7 ms of collections; enabled again at fork
    prepared = _prepare(argv, HELP, "run")
    if prepared is None:
        return 0
    options, config = prepared
    shown = _attached_streams(options, "run")
    if options.get("detach"):
        return run_detached(config)
    if options.get("sig_proxy") is False and not config.tty:
        return exit_now(_run_without_sig_proxy(config, shown, options.get("detach_keys", "")))
    if config.tty and config.stdin:  # supervised and attached: the detach keys leave it running
        from composer.engine.runtime.sessions import run_attached

        code = run_attached(config, options.get("detach_keys", ""))
        print_warnings(config.warnings)  # (create and start are one step of run_attached)
        return code
    return exit_now(_run_in_foreground(config, shown))


def _attached_streams(options: dict, verb: str) -> set[str]:
    """``-a/--attach``: the output streams shown (both without it); checked as docker's."""
    wanted = {value.lower() for value in options.get("attach", [])}
    if wanted - {"stdin", "stdout", "stderr"}:
        bad = next(v for v in options["attach"] if v.lower() not in ("stdin", "stdout", "stderr"))
        raise UsageError(f'invalid argument "{bad}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and '
                         "STDERR", hint=f"See 'composer container {verb} --help'.", exit_code=125)
    if wanted and options.get("detach"):
        raise FlagError("conflicting options: cannot specify both --attach and --detach", exit_code=1)  # (the line alone)
    return (wanted & {"stdout", "stderr"}) if wanted else {"stdout", "stderr"}


def _run_in_foreground(config, shown: set[str]) -> int:
    """Run ``config`` attached to our stdio (``shown``: the streams we show, -a); its exit code.
    Its output is also kept in its log (docker's json-file; a terminal's (-t) as one stream),
    unless it goes with ``--rm`` or has no log."""
    from composer.engine.runtime.linux import run_foreground

    output = None
    logged = not (config.auto_remove or config.log_driver == "none")
    if not config.tty and (logged or len(shown) < 2):
        from composer.engine.runtime.logs import ShownAndLogged

        output = ShownAndLogged(shown)

    def prepare_io(run) -> None:
        run.warn = print_warnings if output is None else (  # before the container's output, never in its log
            lambda warnings: output.show("".join(f"WARNING: {w}\n" for w in warnings)))
        if output is not None:
            run.relay = lambda pid: _keep_log(run.cdir, config, output, pid) if logged else output.pump(None, pid)
        if config.tty:
            from composer.engine.runtime.tty import prepare_tty

            prepare_tty(run, logged)

    try:
        return run_foreground(config, prepare_io).exit_code
    except NetworkError as error:  # its start refused (--ip6 without IPv6, a port taken): docker run's 125
        error.exit_code = 125
        raise
    except ProgramExecFailed as failure:
        if output is not None:
            output.close()
            output = None
        return _program_failed(config, failure)
    finally:
        if output is not None:
            output.close()


def _run_without_sig_proxy(config, shown: set[str], detach_keys: str) -> int:
    """``--sig-proxy=false``: no signal is passed on; one ends only us (docker's CLI), the container
    runs on under its supervisor. With ``-i`` we attach to it; else its output as ``logs -f``
    shows it, then its exit code (with ``--rm`` we remove it once it ended; after a signal it
    stays, exited)."""
    import signal

    from composer.engine.runtime import containers

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)  # (no KeyboardInterrupt: leave quietly, as docker's CLI)
    if config.stdin:
        from composer.engine.runtime.sessions import run_attached

        return run_attached(config, detach_keys)
    remove, config.auto_remove = config.auto_remove, False
    containers.run(config)
    print_warnings(config.warnings)
    if config.log_driver != "none":
        for stream, _, text in containers.read_logs_raw(config.id, follow=True):
            if stream in shown:
                os.write(1 if stream == "stdout" else 2, text)
    code = containers.wait(config.id) or 0
    if remove:
        containers.remove(config.id, force=True, volumes=True)
    return code


def _program_failed(config, failure: ProgramExecFailed) -> int:
    """runc >= 1.1's behaviour: the container ran, its program's execve failed; the message is its
    stderr (shown, and kept in its log) and it exited 1."""
    from composer.engine.runtime.logs import log_path, open_log
    from composer.engine.runtime.state import ContainerDir, now_iso

    message = failure.message + "\n"
    sys.stderr.write(message)
    if not config.auto_remove:  # (else it is gone already)
        cdir = ContainerDir(config.id)
        writer = open_log(config, cdir.path)
        if writer is not None:
            writer.feed("stderr", message.encode(errors="replace"))
            writer.close()
        cdir.write_state(Status="exited", Running=False, ExitCode=failure.exit_code, Error="", FinishedAt=now_iso(),
                         LogPath=log_path(cdir.path, config.id) if writer is not None else "")
    return failure.exit_code


def _keep_log(cdir, config, output, pid: int) -> None:
    """The started container's output, shown and written to its log until it ends."""
    from composer.engine.runtime.logs import log_path, open_log

    cdir.write_state(LogPath=log_path(cdir.path, config.id))
    output.pump(open_log(config, cdir.path), pid)


def print_warnings(warnings) -> None:
    """docker's create-time warnings (limits this host cannot apply), on stderr."""
    for warning in warnings:
        sys.stderr.write(f"WARNING: {warning}\n")


def _prepare(argv: list[str], help_text: str, verb: str):
    """Parse docker run's flags into (options, ContainerConfig) and write --cidfile; None after
    printing ``help_text`` for --help. Nothing exists yet when it raises (``refused`` words it)."""
    options, image_ref, command = parse_run_args(argv, verb)
    if options.get("help"):
        sys.stdout.write(help_text)
        return None
    _attached_streams(options, verb)
    if options.get("name"):  # a bad name is refused before anything is made
        from composer.engine.runtime.state import check_name

        check_name(options["name"])
    if WINDOWS_ONLY_FLAGS & options.keys():  # docker's CLI refuses them before anything else
        from composer.cli.run_host_flags import refuse_windows_only

        refuse_windows_only(options)
    _check_reference(image_ref, verb)
    image = _image(image_ref, options.get("pull", "missing"), options.get("platform", ""))
    config = build_config(options, image, command)
    if options.get("cidfile"):
        _write_cidfile(options["cidfile"], config.id)
    return options, config


def _check_reference(reference: str, verb: str) -> None:
    """docker's CLI parses the image's name first: ``invalid reference format: ...`` as its own
    error (``run``: with the help line, 125; ``create``: the line alone, 1). A name the image
    cache has resolved is valid: the parser (and its ``re``, ~5 ms) stays off the run's path."""
    from composer.engine.runtime.imagecache import resolved_before

    if resolved_before(reference):
        return
    from composer.engine.images.reference import parse_reference
    from composer.errors import ImageError

    try:
        parse_reference(reference)
    except ImageError as error:
        reason = error.message.split(" is not a valid repository/tag: ", 1)[-1]
        raise (UsageError(reason) if verb == "run" else FlagError(reason, exit_code=1)) from None


def create_main(argv: list[str]) -> int:
    """``container create``: docker run's flags; prints the new container's id (an error's exit
    code as ``refused`` reports it)."""
    try:
        return _create(argv)
    except ComposerError as error:
        return refused(error, "create")


def _create(argv: list[str]) -> int:
    from composer.engine.runtime import containers

    prepared = _prepare(argv, HELP.replace("container run", "container create"), "create")
    if prepared is None:
        return 0
    config = prepared[1]
    containers.create(config)
    print_warnings(config.warnings)
    sys.stdout.write(config.id + "\n")
    return 0


EXEC_HELP = """Usage:  composer container exec [OPTIONS] CONTAINER COMMAND [ARG...]

Execute a command in a running container: -d -i -u USER -w DIR -e KEY=VALUE --env-file --privileged
"""


def exec_main(argv: list[str]) -> int:
    """``container exec`` (typer-free: exec latency is a headline figure); the command's exit code."""
    from composer.cli.run_flags import parse_exec_args
    from composer.engine.runtime import containers
    from composer.engine.runtime.sessions import exec_in

    options, reference, command = parse_exec_args(argv)
    if options.get("help"):
        sys.stdout.write(EXEC_HELP)
        return 0
    env = [item for path in options.get("env_file", []) for item in read_env_file(path)]
    env += [item if "=" in item else f"{item}={os.environ.get(item, '')}" for item in options.get("env", [])]
    try:
        code = exec_in(containers.resolve(reference), command, tty=options.get("tty", False),
                       stdin=options.get("interactive", False), env=env,
                       user=options.get("user", ""), workdir=options.get("workdir", ""),
                       detach=options.get("detach", False), privileged=options.get("privileged", False))
    except ContainerRuntimeError as error:  # no such container, not running, paused: dockerd's words
        from composer.cli.render import daemon_text

        sys.stderr.write(daemon_text(error) + "\n")
        return exit_now(error.exit_code)
    return exit_now(code)


def run_detached(config) -> int:
    """``run -d``: create, print the id (as docker, before the start), start under a supervisor.
    A refused start leaves the container "created" (unless ``--rm``) and exits 125 (126/127: its
    program could not run)."""
    from composer.engine.runtime import containers

    containers.create(config)
    print_warnings(config.warnings)
    sys.stdout.write(config.id + "\n")
    sys.stdout.flush()
    try:
        containers.start(config.id)
    except BaseException as error:
        if config.auto_remove:
            containers.remove(config.id, force=True, volumes=True)
        if isinstance(error, ComposerError) and error.exit_code not in (126, 127):
            error.exit_code = 125
        raise
    return exit_now(0)  # nothing left to release: no interpreter teardown (~9 ms)


def _write_cidfile(path: str, container_id: str) -> None:
    """``--cidfile``: the container id, in a file that must not exist yet (as docker)."""
    try:
        with open(path, "x") as handle:
            handle.write(container_id)
    except FileExistsError:
        raise UsageError(f"container ID file found, make sure the other container isn't running or delete {path}") from None
    except OSError as error:
        raise UsageError(f"cannot write --cidfile {path}: {error.strerror}") from None


def _image(reference: str, policy: str, platform: str = ""):
    """The image to run; pulled first with ``--pull always``, or when missing (docker's default).
    With ``--platform``, an image here of another platform counts as missing (dockerd's create
    does not find it; ``--pull never``: its refusal), the pull asks for that platform."""
    from composer.engine.runtime.imagecache import resolve_image
    from composer.errors import ImageNotFound

    if policy not in ("missing", "always", "never"):
        raise UsageError(f"invalid --pull {policy!r}", hint="use missing, always or never")
    wanted = _platform_of(platform)
    if policy != "always":
        try:
            image = resolve_image(reference)
            _check_platform(reference, wanted)
            return image
        except ImageNotFound:
            if policy == "never":
                raise
            from composer.engine.images.reference import parse_reference

            sys.stderr.write(f"Unable to find image '{parse_reference(reference).familiar()}' locally\n")
    from composer.engine.images.pull import pull

    pull(reference, platform=wanted or None)
    _check_platform(reference, wanted)  # (a registry's single-platform image of another one)
    return resolve_image(reference)


def _platform_of(value: str) -> str:
    """The ``os/arch[/variant]`` a ``--platform`` value names ("": none given)."""
    if not value:
        return ""
    from composer.engine.images.platforms import parse_specifier

    return parse_specifier(value)


def _check_platform(reference: str, wanted: str) -> None:
    """dockerd's refusal of an image here that is not of the ``wanted`` platform."""
    if not wanted:
        return
    from composer.engine.images.platforms import mismatch, stored_platform
    from composer.errors import ImageNotFound

    refused = mismatch(reference, wanted, stored_platform(reference) or "")
    if refused:
        raise ImageNotFound(refused, hint=f"pull the image for {wanted}, or drop --platform")
