"""Typer-free ``start``, ``stop``, ``restart``, ``pause``, ``unpause``, ``kill`` and ``rm`` (FAST_PATHS
entries, also after global options), and the bodies typer's commands of ``compose_commands`` share
with them. Their flags are in ``compose_fast.TABLES``."""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional

from composer.cli import compose as C
from composer.cli.compose_fast import LIFECYCLE, _context, _int, _parse
from composer.errors import ContainerRuntimeError, FlagError


# --- start, stop, restart, pause, unpause, kill, rm ------------------------------------------------
def lifecycle_main(verb: str) -> Callable[..., Optional[int]]:
    """The fast path of ``verb`` (one of ``LIFECYCLE``)."""

    def main(argv: list[str], obj: Any = None) -> Optional[int]:
        parsed = _parse(verb, argv)
        if parsed is None:
            return None
        options, services = parsed
        return lifecycle_command(_context(obj, services=services), verb, services, options)

    return main


_TITLES = {"start": "Running", "stop": "Stopping", "restart": "Restarting", "pause": "Pausing",
           "unpause": "Unpausing", "kill": "Killing", "rm": "Removing"}


def lifecycle_command(ctx: Any, verb: str, services: list[str], options: dict) -> int:
    """``start``/``stop``/``restart``/``pause``/``unpause``/``kill``/``rm`` of the services' containers
    (``--dry-run``: compose's dry run lines, nothing done)."""
    from composer.engine.options import LifecycleOptions

    timeout = options.get("timeout")
    if timeout is not None and _int(timeout) is None:  # compose's -t is an int
        from composer.cli.render import invalid_value

        raise FlagError(invalid_value("-t, --timeout", timeout, "integer"))
    lifecycle = LifecycleOptions(services=tuple(services), timeout=None if timeout is None else _int(timeout),
                                 signal=options.get("signal") or "SIGKILL", no_deps=bool(options.get("no_deps")),
                                 stop=bool(options.get("stop")), volumes=bool(options.get("volumes")),
                                 parallel=C.parallel(ctx))
    project = C.load(ctx)
    dry_run = bool(ctx.obj.dry_run or options.get("dry_run"))
    if verb == "rm" and lifecycle.stop:  # as compose: stopped first (its lines), then the question
        _act(ctx, project, "stop", lifecycle, dry_run)
        lifecycle = lifecycle._replace(stop=False)
    if verb == "rm" and not _confirm_rm(project, services, bool(options.get("force"))):
        return 0
    _act(ctx, project, verb, lifecycle, dry_run)
    return 0


def _act(ctx: Any, project: Any, verb: str, lifecycle: Any, dry_run: bool) -> None:
    """``verb`` of the project's containers, its progress shown (``dry_run``: only the lines it
    would show, as compose's ``--dry-run``)."""
    refusal = signal_refusal(lifecycle.signal) if verb == "kill" else None
    if refusal:
        _refuse_signal(ctx, project, lifecycle, refusal)
        return
    if dry_run:
        from composer.cli.dryrun import show_plan

        show_plan(ctx, lifecycle_plan(project, verb, lifecycle), verb)
        return
    with C.progress_for(ctx, _TITLES[verb]) as progress:
        getattr(C.engine(C.compose_words(progress, verb)), verb)(project, lifecycle)


def signal_refusal(name: str) -> str | None:
    """dockerd's words refusing ``name`` as a kill signal (the runtime's own checks: ``Invalid
    signal: 0``, ``The linux daemon does not support signal 65``); None when it takes it."""
    from composer.engine.runtime.containers import check_signal, signal_number
    from composer.errors import ComposerError

    try:
        check_signal(signal_number(name))
    except ComposerError as error:
        return error.message
    return None


def _refuse_signal(ctx: Any, project: Any, lifecycle: Any, refusal: str) -> None:
    """``kill -s BOGUS``: as compose, each container's ``Killing`` and ``Error while Killing`` lines,
    then the daemon's refusal (nothing signalled)."""
    from composer.cli.dryrun import plan_events
    from composer.engine.events import Status

    killing = [e for e in plan_events(lifecycle_plan(project, "kill", lifecycle)) if e.status is Status.KILLING]
    if not killing:
        return
    with C.progress_for(ctx, _TITLES["kill"]) as progress:
        for event in killing:
            progress.event(event)
            progress.event(event._replace(status=Status.ERROR, text="while Killing"))
    raise ContainerRuntimeError(f"Error response from daemon: {refusal}", exit_code=1,
                                hint="name a signal (KILL, SIGHUP) or give its number")


def lifecycle_plan(project: Any, verb: str, options: Any) -> Any:
    """The operations ``verb`` would run now."""
    from composer.engine.lifecycle import plan_lifecycle
    from composer.engine.observe import observe

    observed = observe(C.make_runtime(), project.name, networks=False, volumes=False)
    return plan_lifecycle(verb, project, observed, options)


def _confirm_rm(project: Any, services: list[str], force: bool) -> bool:
    """``rm``'s question (``Going to remove ...``): printed with ``-f``, else asked; False when
    there is nothing to remove (``No stopped containers``) or the answer is no."""
    from composer.cli.progress import ask
    from composer.engine.reconcile import select

    select(project, services, with_deps=False)  # no such service: ... (exit 1, as compose)
    stopped = [c for c in C.containers_of(project.name, services) if c.state not in ("running", "paused", "restarting")]
    if not stopped:
        print("No stopped containers", file=sys.stderr)
        return False
    question = "Going to remove " + ", ".join(c.name for c in stopped)
    if force:
        print(question)  # compose prints it on stdout even with -f
        return True
    return ask(question)  # as compose: also without a terminal (one stdin line; none: no)


MAINS: dict[str, Callable[..., Optional[int]]] = {verb: lifecycle_main(verb) for verb in LIFECYCLE}
start_main, stop_main, restart_main, pause_main, unpause_main, kill_main, rm_main = (MAINS[v] for v in LIFECYCLE)
