"""Compose project commands: ``up``, ``down``, ``ps``, ``logs``, ``exec``, ``run`` and the rest.

Presentation only: each command loads the project (``composer.spec.loader``), calls
``composer.engine.api.ProjectService`` with the runtime from :func:`make_runtime`, draws progress
through ``composer.cli.progress`` and prints what Docker Compose v2 prints. typer is imported in
:func:`register` only. ``COMPOSER_RUNTIME=fake`` swaps in the in-memory runtime (unit tests only).
"""

import os
import sys
import threading
from typing import Any, Iterable, Optional

from composer.errors import ComposerError, SpecError, UsageError

_FAKE: Any = None


def make_runtime() -> Any:
    """The Runtime the commands drive: the kernel one, or one shared FakeRuntime for unit tests."""
    global _FAKE
    if os.environ.get("COMPOSER_RUNTIME") == "fake":
        if _FAKE is None:
            from composer.engine.runtime.fake import FakeRuntime

            _FAKE = FakeRuntime(images={"busybox": "sha256:" + "b" * 64})
        return _FAKE
    from composer.engine.runtime.adapter import LinuxRuntime

    return LinuxRuntime()


# --- shared helpers ----------------------------------------------------------------------------------
def load(ctx: Any) -> Any:
    """The project the global flags designate (bound from the validated cache when its files did
    not change); a disabled service the command names enables its profiles, as compose."""
    from composer.cli.project import cached_project

    project = cached_project(ctx.obj)
    extra = [p for name in named_services(ctx) if name in project.disabled_services
             for p in project.disabled_services[name].profiles]
    if not extra:
        return project
    import copy

    from composer.spec.loader import split_profiles

    active = list(ctx.obj.profiles) or list(split_profiles(project.environment.get("COMPOSE_PROFILES", "")))
    options = copy.copy(ctx.obj)
    options.profiles = list(dict.fromkeys([*active, *extra]))  # the active ones (flags, environment, .env) and theirs
    return cached_project(options)  # one load, cached too


def named_services(ctx: Any) -> tuple[str, ...]:
    """The services the command's arguments name (typer's ``ctx.params``)."""
    params = getattr(ctx, "params", None) or {}
    named = params.get("services") or params.get("service") or ()
    return (named,) if isinstance(named, str) else tuple(named)


def parallel(ctx: Any) -> int:
    return max(ctx.obj.parallel, 0)


def progress_for(ctx: Any, title: str = "Running", quiet: bool = False) -> Any:
    """The progress display the global options choose (``quiet``: none, as ``run -q``'s)."""
    from composer.cli.progress import Progress, choose_mode

    return Progress(choose_mode("quiet" if quiet else ctx.obj.progress, ctx.obj.ansi), title=title)


def engine(progress: Any = None, project: Any = None) -> Any:
    """A ProjectService on the configured runtime; with ``project``, able to build its images."""
    from composer.engine.api import ProjectService

    service = ProjectService(make_runtime(), emit=progress.event if progress else _ignore)
    if project is not None:
        service.builder = builder_for(project)
    return service


def _print_build_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def builder_for(project: Any, emit: Any = _print_build_line) -> Any:
    """The engine's ``Builder`` hook: builds a service's image, its step output to ``emit``
    (stderr by default)."""

    def build(service_name: str, reference: str) -> str:
        from composer.engine.build.compose import build_service

        return build_service(project, service_name, reference, None, emit)

    return build


def compose_words(progress: Any, verb: str) -> Any:
    """``progress``, with the words compose's ``pause``/``unpause`` (only ``Paused``/``Unpaused``),
    ``restart`` (``Restarting`` then ``Started``) and attached ``up`` (no ``Starting``/``Started``
    nor a refused start's error line: compose starts the containers after its progress display
    ended) print."""
    from types import SimpleNamespace

    from composer.engine.events import Status

    words = {"pause": {Status.PAUSING: None}, "unpause": {Status.UNPAUSING: None},
             "restart": {Status.RESTARTED: Status.STARTED},
             "attached up": {Status.STARTING: None, Status.STARTED: None}}.get(verb)
    if not words:
        return progress
    starting: set[str] = set()  # (attached up) containers whose Starting line was left out

    def event(item: Any) -> None:
        status = words.get(item.status, item.status)
        if item.status is Status.STARTING and status is None:
            starting.add(item.name)
        elif item.status is Status.STARTED:
            starting.discard(item.name)
        elif item.failed and item.name in starting:
            return
        if status is not None:
            progress.event(item._replace(status=status))

    return SimpleNamespace(event=event)


def _ignore(event: Any) -> None:
    """Discard an event."""


def parse_scale(values: Iterable[str], option: bool = True) -> dict[str, int]:
    """``SERVICE=N`` values -> ``{"web": 3}``, with compose's errors: of ``up --scale`` (``option``)
    or of the ``scale`` command's arguments."""
    scale: dict[str, int] = {}
    hint = "use --scale SERVICE=NUMBER" if option else "use SERVICE=REPLICAS"
    for value in values:
        name, equals, count = value.partition("=")
        if not equals or not name or not count:
            raise UsageError(f'invalid --scale option "{value}". Should be SERVICE=NUM' if option
                             else f"invalid scale specifier: {value}", hint=hint)
        if not count.isdigit():
            raise UsageError(f'strconv.Atoi: parsing "{count}": invalid syntax' if option
                             else f"invalid scale specifier: can't parse replica value as int: {value}", hint=hint)
        scale[name] = int(count)
    return scale


def parse_env(values: Iterable[str]) -> dict[str, str]:
    """``-e KEY=VALUE`` / ``-e KEY`` (taken from composer's environment)."""
    env: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not key:
            raise UsageError(f"invalid environment variable {value!r}", hint="use -e KEY=VALUE")
        if sep or key in os.environ:
            env[key] = text if sep else os.environ[key]
    return env


def containers_of(project_name: str, services: Iterable[str] = (), *, all: bool = True,
                  index: int | None = None, oneoff: bool = False) -> list[Any]:
    """The project's containers (of ``services``; container-number ``index``), by name."""
    from composer.engine import labels as L

    wanted = set(services)
    found = make_runtime().list_containers(L.project_filter(project_name), all=all)
    return sorted((c for c in found if (not wanted or c.labels.get(L.SERVICE) in wanted)
                   and (oneoff or c.labels.get(L.ONEOFF) != "True")
                   and (index is None or L.container_number(c.labels) == index)), key=lambda c: c.name)


def one_container(project: Any, service: str, index: int) -> Any:
    """The running container ``index`` of ``service`` (0: the lowest number), as compose picks it."""
    from composer.cli.compose_fast import specified_container

    return specified_container(project.name, service, index)


def short_name(container: Any) -> str:
    """``web-1`` for ``myapp-web-1`` (the log prefix Compose uses)."""
    from composer.engine import labels as L

    service = container.labels.get(L.SERVICE)
    number = container.labels.get(L.CONTAINER_NUMBER)
    if service and number and container.labels.get(L.ONEOFF) != "True":
        return f"{service}-{number}"
    return container.name


def runtime_feature(name: str) -> Any:
    """A method of the kernel runtime beyond the engine's protocol (logs, exec, top ...)."""
    feature = getattr(make_runtime(), name, None)
    if feature is None:
        raise UsageError(f"this runtime cannot {name.replace('_', ' ')}", hint="unset COMPOSER_RUNTIME")
    return feature


# --- log printing --------------------------------------------------------------------------------------
RESET_LINE = "\r\x1b[K"  # goterm.RESET_LINE: Compose writes it before each "exited with code" line
_COLORS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


class LogPrinter:
    """Writes log lines with Compose's colored, aligned ``web-1  | `` prefixes (thread-safe)."""

    def __init__(self, names: Iterable[str], *, color: bool, prefix: bool = True, timestamps: bool = False,
                 one_stream: bool = False) -> None:
        self.names = list(names)
        self.one_stream = one_stream  # ``logs``: stderr lines to stdout too, as compose's StdCopy(w, w, r)
        self.width = max((len(n) for n in self.names), default=0)
        self.color = color
        self.prefix = prefix
        self.timestamps = timestamps
        self.lock = threading.Lock()
        self.muted = False

    def mute(self) -> None:
        """Print nothing more: Compose 2.40's attached ``up`` shows no line of the containers (their
        shutdown logs, "exited with code") once Ctrl-C has begun stopping them."""
        with self.lock:
            self.muted = True

    def _emit(self, stream: Any, text: str) -> None:
        with self.lock:
            if not self.muted:
                stream.write(text)
                stream.flush()

    def _prefix(self, name: str) -> str:
        if not self.prefix:
            return ""
        text = f"{name:<{self.width}}  | "
        if not self.color:
            return text
        return f"\x1b[{self._code(name)}m{text}\x1b[0m"

    def _code(self, name: str) -> str:
        """The color of ``name``'s lines (in the order the names came)."""
        if name not in self.names:
            self.names.append(name)
        return _COLORS[self.names.index(name) % len(_COLORS)]

    def say(self, text: str) -> None:
        """A line of composer's own (``Attaching to ...``)."""
        self._emit(sys.stdout, text + "\n")

    def exited(self, name: str, code: int) -> None:
        """``web-1 exited with code 3`` as Compose's log printer writes it: after goterm's
        RESET_LINE (``\\r\\x1b[K``), colored as the container's prefix (the newline inside)."""
        text = f"{RESET_LINE}{name} exited with code {code}\n"
        if self.color:
            text = f"\x1b[{self._code(name)}m{text}\x1b[0m"
        self._emit(sys.stdout, text)

    def write(self, name: str, line: Any) -> None:
        text = line.text if line.text.endswith("\n") else line.text + "\n"
        stamp = f"{_iso(line.time)} " if self.timestamps and line.time else ""
        to_stderr = not self.one_stream and getattr(line, "stream", "") == "stderr"
        stream = sys.stderr if to_stderr else sys.stdout  # attached up relays each stream to its own
        self._emit(stream, self._prefix(name) + stamp + text)


def _iso(value: Any) -> str:
    if isinstance(value, (int, float)):
        import datetime

        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def stream_logs(containers: list[Any], printer: LogPrinter, *, follow: bool, tail: str = "all",
                since: Optional[str] = None, until: Optional[str] = None, announce_exit: bool = False) -> None:
    """Print the logs of ``containers``: merged by time, or followed (one thread each) until they
    stop (``announce_exit``: then print ``web-1 exited with code 0`` as attached ``up`` does)."""
    read_logs = runtime_feature("read_logs")
    count = None if tail in ("all", "-1", "") else int(tail)
    options = dict(tail=count, since=parse_time(since), until=parse_time(until), timestamps=printer.timestamps)
    if announce_exit:
        options["announce_exit"] = True
    if not follow:
        lines = [(str(line.time or ""), short_name(c), line) for c in containers
                 for line in read_logs(c.id, follow=False, **options)]
        for _, name, line in sorted(lines, key=lambda item: item[0]):
            printer.write(name, line)
        return
    threads = [threading.Thread(target=_follow_one, args=(read_logs, c, printer, options), daemon=True)
               for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # short joins keep Ctrl-C responsive


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: Optional[str], prefix: str = "") -> Optional[float]:
    """``--since``/``--until``: a duration ago (``10m``, ``1h30m``), a Unix time or an RFC 3339 time."""
    import re
    import time

    if not text:
        return None
    parts = re.fullmatch(r"((\d+(\.\d+)?)(ms|s|m|h|d))+", text)
    if parts:
        seconds = sum(float(n) * (0.001 if u == "ms" else _UNITS[u])
                      for n, _, u in re.findall(r"(\d+(\.\d+)?)(ms|s|m|h|d)", text))
        return time.time() - seconds
    try:
        return float(text)
    except ValueError:
        pass
    from composer.engine.runtime.describe import epoch

    try:
        return epoch(text if "T" in text else text + "T00:00:00Z")
    except ValueError:
        raise UsageError(f'{prefix}failed to parse value as time or duration: "{text}"',
                         hint="use a duration (10m), a Unix time or 2024-01-02T15:04:05Z") from None


def _follow_one(read_logs: Any, container: Any, printer: LogPrinter, options: dict) -> None:
    options = dict(options)
    announce = options.pop("announce_exit", False)
    try:
        for line in read_logs(container.id, follow=True, **options):
            printer.write(short_name(container), line)
        if announce:
            code = make_runtime().wait_container(container.id)
            printer.exited(short_name(container), code)
    except ComposerError:
        pass  # removed while followed: its logs simply end


def use_color(no_color: bool) -> bool:
    return not no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def load_or_name(ctx: Any) -> tuple[Any, str]:
    """(project, name), or (None, -p name) when there is no compose file (``down -p x``)."""
    try:
        project = load(ctx)
        return project, project.name
    except SpecError:
        if ctx.obj.project_name:
            return None, ctx.obj.project_name
        raise


def register(app: Any) -> None:
    """Add every compose command to ``app``."""
    from composer.cli import compose_commands

    compose_commands.register(app)


# --- typer-free fast paths (``composer up -d`` / ``down``: start-up time is the whole no-change up) ----
_UP_FLAGS = {"-d": "detach", "--detach": "detach", "--wait": "wait", "--no-start": "no_start",
             "--force-recreate": "force_recreate", "--no-recreate": "no_recreate", "--no-deps": "no_deps",
             "--always-recreate-deps": "always_recreate_deps", "--remove-orphans": "remove_orphans",
             "--build": "build", "-V": "renew_anon_volumes", "--renew-anon-volumes": "renew_anon_volumes",
             "--quiet-pull": "quiet_pull", "-y": "assume_yes", "--yes": "assume_yes", "--no-build": "no_build",
             "--quiet-build": "quiet_build", "--menu": "menu"}
_UP_VALUED = {"-t": "timeout", "--timeout": "timeout", "--pull": "pull", "--scale": "scale",
              "--wait-timeout": "wait_timeout"}
_DOWN_FLAGS = {"-v": "volumes", "--volumes": "volumes", "--remove-orphans": "remove_orphans", "--dry-run": "dry_run"}
_DOWN_VALUED = {"-t": "timeout", "--timeout": "timeout", "--rmi": "rmi"}


def parse_simple(argv: list[str], flags: dict[str, str], valued: dict[str, str],
                 repeated: tuple[str, ...] = ()) -> Optional[tuple[dict, list]]:
    """Flags (``flags``: option -> key), valued options (``valued``; those whose key is in
    ``repeated`` gather a list) and positional words; None for anything else (typer's job)."""
    options: dict[str, Any] = {key: [] for key in repeated}
    words: list[str] = []
    args = iter(argv)
    for arg in args:
        name, equals, inline = arg.partition("=")
        if arg in flags:
            options[flags[arg]] = True
        elif equals and name in flags:  # ``-d=false``: pflag's value of a bool flag
            from composer.cli.run_flags import go_bool

            options[flags[name]] = go_bool(inline, flags[name], {n: (k, "bool") for n, k in flags.items()})
        elif name in valued:
            value = inline if equals else next(args, None)
            if value is None:
                return None
            if valued[name] in repeated:
                options[valued[name]].append(value)
            else:
                options[valued[name]] = value
        elif arg.startswith("-"):
            return None
        else:
            words.append(arg)
    return options, words


def _fast_context(obj: Any = None) -> Any:
    """What typer's root callback would store: ``obj`` (the global options), or the defaults."""
    from types import SimpleNamespace

    from composer.cli.compose_fast import default_globals

    return SimpleNamespace(obj=default_globals() if obj is None else obj)


def _seconds(value: Optional[str], flag: str) -> Optional[float]:
    """A ``flag`` (``-t, --timeout``) value in seconds: compose's flags are ints (``1.5`` refused as
    pflag refuses it)."""
    if value is None:
        return None
    try:
        return float(int(value))
    except ValueError:
        from composer.cli.render import invalid_value
        from composer.errors import FlagError

        raise FlagError(invalid_value(flag, value, "integer")) from None


def up_options(ctx: Any, services: Iterable[str], options: dict) -> Any:
    """``UpOptions`` from up's flags (shared by typer's ``up`` and the fast path)."""
    from composer.engine.options import UpOptions

    if options.get("force_recreate") and options.get("no_recreate"):
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    if options.get("pull") not in (None, "always", "missing", "never", "build"):
        raise UsageError(f'invalid --pull option "{options["pull"]}"', hint="use always, missing, never or build")
    if options.get("build") and options.get("no_build"):
        raise UsageError("--build and --no-build are incompatible")
    return UpOptions(
        services=tuple(services), no_deps=bool(options.get("no_deps")),
        always_recreate_deps=bool(options.get("always_recreate_deps")),
        recreate="force" if options.get("force_recreate") else "never" if options.get("no_recreate") else "diverged",
        scale=parse_scale(options.get("scale") or ()), remove_orphans=bool(options.get("remove_orphans")),
        no_start=bool(options.get("no_start")), pull=options.get("pull"), build=bool(options.get("build")),
        renew_anon_volumes=bool(options.get("renew_anon_volumes")),
        timeout=_seconds(options.get("timeout"), "-t, --timeout"), wait=bool(options.get("wait")),
        wait_timeout=_seconds(options.get("wait_timeout"), "--wait-timeout"), parallel=parallel(ctx),
        env_files=tuple(ctx.obj.env_files), assume_yes=bool(options.get("assume_yes")),
        no_build=bool(options.get("no_build")), quiet_pull=bool(options.get("quiet_pull")))


def project_defaults(project: Any, options: Any) -> Any:
    """``COMPOSE_REMOVE_ORPHANS`` from the environment or the project's ``.env`` (as compose)."""
    value = str(project.environment.get("COMPOSE_REMOVE_ORPHANS", "")).lower()
    return options._replace(remove_orphans=True) if value in ("1", "true") else options


def up_fast(argv: list[str], obj: Any = None, whole: Optional[list[str]] = None) -> Optional[int]:
    """``composer up -d|--wait|--no-start ...`` without typer; None (use typer) otherwise.
    ``obj``: the global options given before ``up`` (``whole``: the command line with them)."""
    parsed = parse_simple(argv, _UP_FLAGS, _UP_VALUED, repeated=("scale",))
    if parsed is None or not any(parsed[0].get(key) for key in ("detach", "wait", "no_start")):
        return None
    ctx = _fast_context(obj)
    ctx.params = {"services": parsed[1]}
    key = _settled_key(argv if whole is None else whole, parsed[0])
    if key and _show_settled(ctx, key):
        return 0
    options = up_options(ctx, parsed[1], parsed[0])
    project = load(ctx)
    options = project_defaults(project, options)
    declined: list[str] = []

    def confirm(question: str) -> bool:
        answer = progress.confirm(question)
        declined.extend([] if answer else [question])
        return answer

    with progress_for(ctx) as progress:
        engine(progress, project).up(project, options._replace(confirm=confirm))
    if key and not declined:  # a volume kept as it was is asked about again by the next up
        from composer.engine.settled import remember

        remember(key, project.name, set(project.services), {
            name: {dep: condition.condition if condition.required else "service_started"
                   for dep, condition in (service.depends_on or {}).items()}
            for name, service in project.services.items()})
    return 0


def _settled_key(argv: list[str], options: dict) -> Optional[str]:
    """The settled-record key of a plain ``up -d [SERVICE...]`` on the kernel runtime (else None)."""
    if options != {"detach": True, "scale": []} or os.environ.get("COMPOSER_RUNTIME") == "fake":
        return None
    from composer.engine.settled import key_for

    return key_for(argv)


def _show_settled(ctx: Any, key: str) -> bool:
    """Print "Container x  Running" lines (and the healthy dependencies' Waiting/Healthy) if
    nothing changed since the last identical ``up -d``."""
    from composer.engine.settled import recall

    lines = recall(key)
    if lines is None:
        return False
    from composer.cli.progress import Progress, choose_mode
    from composer.engine.events import Event, Status

    Progress(choose_mode(ctx.obj.progress, ctx.obj.ansi)).show(
        [Event(kind="Container", name=name, status=Status(status)) for name, status in lines])
    return True


def down_fast(argv: list[str], obj: Any = None) -> Optional[int]:
    """``composer down ...`` without typer; None (use typer) for what it does not know
    (``obj``: the global options given before ``down``)."""
    from composer.engine.options import DownOptions

    parsed = parse_simple(argv, _DOWN_FLAGS, _DOWN_VALUED)
    if parsed is None:
        return None
    options, services = parsed
    if options.get("rmi") not in (None, "local", "all"):
        return None
    timeout = _seconds(options.get("timeout"), "-t, --timeout")  # a bad flag before the file, as Compose
    ctx = _fast_context(obj)
    project, name = load_or_name(ctx)
    down = DownOptions(services=tuple(services), volumes=bool(options.get("volumes")), rmi=options.get("rmi"),
                       remove_orphans=bool(options.get("remove_orphans")), timeout=timeout, parallel=parallel(ctx))
    down_or_plan(ctx, project, name, down, bool(options.get("dry_run")))
    return 0


def down_or_plan(ctx: Any, project: Any, name: str, options: Any, dry_run: bool) -> None:
    """``down`` (``--dry-run``: compose's dry run lines, nothing done)."""
    if dry_run or ctx.obj.dry_run:
        from composer.cli.dryrun import show_plan

        show_plan(ctx, engine().plan_down(project, options, project_name=name), "down")
        return
    with progress_for(ctx) as progress:
        engine(progress).down(project, options, project_name=name)
