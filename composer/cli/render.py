"""Turning errors into text and exit codes (the only place that does so), and docker's table
layout (``columns``) every listing shares."""

from __future__ import annotations

import sys

from composer.errors import ComposerError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms on every command
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable, TypeVar

    from composer.cli.gotemplate import TemplateError

    T = TypeVar("T")


def print_error(error: ComposerError) -> None:
    """Print ``error: <location>: <message> (<hint>)`` to stderr; a refused flag as docker's
    parser words it (``unknown flag: --x``, then ``See '... --help'.``)."""
    from composer.errors import FilterError, FlagError, UsageError

    if isinstance(error, FilterError):
        print(daemon_text(error), file=sys.stderr)
        return
    if isinstance(error, FlagError) or (isinstance(error, UsageError) and (error.hint or "").startswith("See '")):
        from composer.cli.dockerusage import usage_text  # docker's object commands: their usage block

        shown = usage_text(error.message, error.hint or "")
        print(shown or (error.message if not error.hint else f"{error.message}\n{error.hint}"), file=sys.stderr)
        return
    print(f"error: {error}", file=sys.stderr)


def run_guarded(function: "Callable[[], T]", compose: bool = False) -> "T | int":
    """Call ``function``; a ComposerError becomes a message and its exit code, Ctrl-C 130, any other
    exception one line (exit 1; ``COMPOSER_DEBUG=1`` shows its traceback). A ``compose`` command
    exits 1 for every error, as Docker Compose's (only a container's own exit code, which ``run``,
    ``exec`` and ``up --exit-code-from`` return, is another); docker's commands keep the error's
    (125 for the runtime's, 126/127 for a program that cannot be run)."""
    try:
        return function()
    except ComposerError as error:
        print_error(error)
        return 1 if compose else error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # noqa: BLE001 - a bug still gets one line, not a traceback
        import os

        if os.environ.get("COMPOSER_DEBUG"):
            raise
        print(f"error: internal error: {type(error).__name__}: {error} "
              "(run again with COMPOSER_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


def labels_text(labels: "dict[str, str] | None") -> str:
    """A listing's LABELS cell: ``k=v`` pairs by key, as docker's CLI joins them."""
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))


def daemon_text(error: ComposerError) -> str:
    """docker's wording of an error the daemon reported: ``Error response from daemon: ...``
    (a hint is joined with ": ", as dockerd chains its causes)."""
    text = error.message
    if error.hint:
        text += f". You have to {error.hint}." if "Conflict. " in error.message else f": {error.hint}"
    return f"Error response from daemon: {text}"


def each_reference(references: "list[str]", action: "Callable[[str], str | None]", summary: str = "",
                   harmless: "Callable[[ComposerError], bool] | None" = None) -> int:
    """docker's loop over several containers or volumes: ``action(reference)`` for each one, its
    line printed; a failure is reported (daemon's wording) and the others still run; exit 1 if
    any failed, as ``docker stop a nope b`` prints a and b and fails. ``summary`` (``failed to
    start containers: {}``) ends the report; a ``harmless`` failure is reported but exits 0
    (``rm -f nope``)."""
    failures, failed = [], []
    for reference in references:
        try:
            line = action(reference)
        except ComposerError as error:
            failures.append(daemon_text(error))
            if not (harmless and harmless(error)):
                failed.append(reference)
            continue
        if line is not None:
            print(line, flush=True)
    for text in failures:
        print(text, file=sys.stderr)
    if failed and summary:
        print("Error: " + summary.format(", ".join(failed)), file=sys.stderr)
    return 1 if failed else 0


def print_templated(template: str, items: list, strict: bool = True,
                    prepare: "Callable[[dict], object] | None" = None, context: str = "map") -> int:
    """docker's ``inspect -f TEMPLATE``: a line for each item (on ``prepare(item)``); one the
    template fails on is reported in the CLI's words for ``context`` (``gotemplate.docker_words``)
    and skipped; no line at all prints an empty one (its Flush). Exit 64 for a template that
    does not parse, 1 when one failed."""
    from composer.cli.gotemplate import TemplateError, docker_words, parse, render

    template = template.replace("\\n", "\n").replace("\\t", "\t")
    try:
        parse(template)  # (with no item too)
    except TemplateError as error:
        print(docker_words(error, context), file=sys.stderr)
        return 64
    lines, failed = [], False
    for item in items:
        try:
            lines.append(render(template, prepare(item) if prepare else item, strict))
        except TemplateError as error:
            print(docker_words(error, context), file=sys.stderr)
            failed = True
    sys.stdout.write("".join(line + "\n" for line in lines) or "\n")
    return 1 if failed else 0


def inspect_each(references: "list[str]", look_up: "Callable[[str], dict]", missing: type,
                 output_format: str, strict: bool = False, prepare: "Callable[[dict], object] | None" = None,
                 context: str = "map", escape_html: bool = False) -> int:
    """docker's ``inspect``: ``look_up(reference)`` for each one; a JSON array of those found (or a
    line of the Go template ``output_format`` each, on ``prepare(found)``: Go's nils and structs;
    a failing template worded as docker's for ``context``), then the daemon's error for each one
    that raised ``missing``; exit 1 if any did. The JSON is dockerd's, ``<>&`` as they are, unless
    ``escape_html`` (the CLI's own encoding, for volumes)."""
    found, errors = [], []
    for reference in references:
        try:
            found.append(look_up(reference))
        except missing as error:
            errors.append(daemon_text(error))
    code = 0
    if not output_format or output_format == "json":
        from composer.cli.gotemplate import go_json

        print(go_json(found, indent=4, escape_html=escape_html))
    elif (code := print_templated(output_format, found, strict, prepare, context)) == 64:
        return code
    for text in errors:
        print(text, file=sys.stderr)
    return 1 if errors or code else 0


def daemon_errors(function: "Callable[..., T]") -> "Callable[..., T]":
    """``function`` (a typer command) with a container's, volume's or network's errors worded as docker's
    (``Error response from daemon: ...``, on stderr, their exit code); the command line's own
    errors keep composer's wording."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from composer.errors import ContainerRuntimeError, NetworkError, VolumeError

        try:
            return function(*args, **kwargs)
        except (ContainerRuntimeError, VolumeError, NetworkError) as error:
            print(daemon_text(error), file=sys.stderr)
            raise SystemExit(error.exit_code) from None
    return wrapper


def confirm(warning: str, force: bool) -> bool:
    """docker's prune prompt (``WARNING! ...``, ``[y/N]``, an answer read from stdin) unless
    ``force``; whether to go on (no answer: no)."""
    if force:
        return True
    sys.stdout.write(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


# command groups that are docker's CLI (exit 125 on a bad flag, ``See '... --help'.``); the
# others are Compose's (exit 1, the message alone)
DOCKER_GROUPS = frozenset({"container", "volume", "image", "network", "system", "builder", "login", "logout",
                           "version", "update"})


def is_compose_command(word: str | None) -> bool:
    """Whether a command line's first word (None: no word) names a Compose command, not a docker one."""
    return word not in DOCKER_GROUPS


def flag_error(error, path: str) -> ComposerError:
    """click's ``error`` (a usage error while parsing the command line of ``path``, ``composer
    image ls``) worded as docker's CLI (pflag) or Compose: ``unknown flag: --x``, ``invalid
    argument ...``, ``requires at least 1 arg(s)``; a docker command's exits 125 (a missing
    argument 1), a Compose one's 1."""
    import click

    from composer.errors import FlagError

    words = path.split()
    docker = len(words) > 1 and words[1] in DOCKER_GROUPS
    extra = error.message.startswith("Got unexpected extra argument")
    if docker and len(words) == 3 and (extra or isinstance(error, click.MissingParameter)):
        from composer.cli.dockerusage import arity_error

        return arity_error(f"{words[1]} {words[2]}")
    if isinstance(error, click.MissingParameter):
        text = f"'{path}' requires at least 1 argument" if docker else "requires at least 1 arg(s), only received 0"
        return FlagError(text, hint=f"See '{path} --help'." if docker else None, exit_code=1)
    if isinstance(error, click.NoSuchOption):
        text = f"unknown flag: {error.option_name}"
    elif isinstance(error, click.BadOptionUsage) and "requires an argument" in error.message:
        text = needs_argument(error.option_name)
    elif isinstance(error, click.BadParameter) and error.param is not None and error.param.opts:
        text = _bad_value(error.param.opts, error.message)
    else:
        text = error.format_message()
    return refusal(text, path)


def refusal(text: str, path: str) -> ComposerError:
    """A FlagError of the command line of ``path`` (``composer image ls``): a docker command's
    exits 125, with ``See '... --help'.`` (its usage block); a Compose one's 1, the text alone."""
    from composer.errors import FlagError

    words = path.split()
    docker = len(words) > 1 and words[1] in DOCKER_GROUPS
    return FlagError(text, hint=f"See '{path} --help'." if docker else None, exit_code=125 if docker else 1)


def pflag_bools(root, argv: list[str]) -> list[str]:
    """``argv`` with pflag's ``--flag=BOOL``/``-f=BOOL`` forms of the bool flags of the typer
    command it names (below the click group ``root``) as click takes them: the flag for true,
    nothing for false (a flag true by default: its ``--no-`` form, ``attach --sig-proxy=false``);
    a value Go's ``strconv.ParseBool`` refuses is pflag's error (``refusal``)."""
    import click

    from composer.cli.main import GLOBAL_OPTIONS_WITH_VALUE
    from composer.gobool import GO_BOOLS

    command, index, words = root, 0, ["composer"]
    while isinstance(command, click.Group) and index < len(argv):
        arg = argv[index]
        index += 2 if arg in GLOBAL_OPTIONS_WITH_VALUE else 1
        if not arg.startswith("-"):
            command = command.commands.get(arg)
            words.append(arg)
    if not isinstance(command, click.Command) or isinstance(command, click.Group):
        return argv
    options = [param for param in command.params if isinstance(param, click.Option)]
    flags = {name: param for param in options if param.is_flag and (param.secondary_opts or not param.default)
             for name in param.opts}
    valued = {name for param in options if not param.is_flag for name in param.opts}
    shown, rest, position = argv[:index], argv[index:], 0
    while position < len(rest):
        arg = rest[position]
        position += 1
        if arg == "--":  # the options end
            shown += rest[position - 1:]
            break
        if arg in valued:  # its value, never taken for a flag
            shown += rest[position - 1:position + 1]
            position += 1
            continue
        name, equals, value = arg.partition("=")
        if not equals or name not in flags:
            shown.append(arg)
        elif value not in GO_BOOLS:
            flag = ", ".join(sorted(flags[name].opts, key=len))
            raise refusal(invalid_value(flag, value, "bool"), " ".join(words))
        elif GO_BOOLS[value] or flags[name].secondary_opts:
            shown.append(name if GO_BOOLS[value] else flags[name].secondary_opts[0])
    return shown


def needs_argument(name: str, given: str = "") -> str:
    """pflag's ``flag needs an argument: --format``; a shorthand's ``'f' in -qf`` (``given``: the
    word it stood in)."""
    return f"flag needs an argument: {name}" if name.startswith("--") else \
        f"flag needs an argument: '{name[1:]}' in {given or name}"


def _bad_value(names: "list[str]", message: str) -> str:
    """pflag's wording (``invalid_value``) of click's ``'abc' is not a valid integer.``"""
    import re

    names = sorted(names, key=len)
    flag = ", ".join(names) if len(names) > 1 else names[0]
    match = re.match(r"'(.*)' is not a valid (integer|float)", message, re.S)
    if match is None:
        return f'invalid argument for "{flag}" flag: {message}'
    return invalid_value(flag, match.group(1), match.group(2))


def invalid_argument(flag: str, value: str, reason: str) -> str:
    """pflag's words for a value a flag refuses: ``invalid argument "abc" for "-n, --last" flag: REASON``."""
    return f'invalid argument "{value}" for "{flag}" flag: {reason}'


def invalid_value(flag: str, value: str, kind: str = "float") -> str:
    """pflag's ``invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc":
    invalid syntax`` (``kind``: integer, float or bool)."""
    return invalid_argument(flag, value, syntax_error(value, kind))


def syntax_error(value: str, kind: str = "float") -> str:
    """Go's ``strconv.ParseInt: parsing "abc": invalid syntax`` (``kind``: integer, float or bool)."""
    parse = {"integer": "ParseInt", "bool": "ParseBool"}.get(kind, "ParseFloat")
    return f'strconv.{parse}: parsing "{value}": invalid syntax'


def docker_command_class():
    """A typer command class whose command-line errors exit as docker's (``flag_error``)."""
    import click
    from typer.core import TyperCommand

    class DockerCommand(TyperCommand):
        def parse_args(self, ctx: click.Context, args: list) -> list:
            try:
                return super().parse_args(ctx, args)
            except click.exceptions.NoArgsIsHelpError:
                raise
            except click.UsageError as error:
                raise flag_error(error, ctx.command_path) from None

    return DockerCommand


def composer_group_class():
    """The root typer group class: a flag refused anywhere below it (a command's, a group's or
    the global ones) worded by ``flag_error``; help for no arguments and an unknown command
    keep click's answer."""
    import click
    from typer.core import TyperGroup

    def refused(error: click.UsageError) -> bool:
        return not isinstance(error, click.exceptions.NoArgsIsHelpError) and (
            isinstance(error, (click.NoSuchOption, click.BadOptionUsage, click.BadParameter, click.MissingParameter))
            or error.message.startswith("Got unexpected extra argument"))

    class ComposerGroup(TyperGroup):
        argv: list = []

        def main(self, args=None, *rest, **options):
            self.argv = list(sys.argv[1:] if args is None else args)
            if any("=" in arg for arg in self.argv):
                args = pflag_bools(self, self.argv)
            return super().main(args, *rest, **options)

        def parse_args(self, ctx: click.Context, args: list) -> list:
            try:
                return super().parse_args(ctx, args)
            except click.UsageError as error:
                if refused(error):
                    raise flag_error(error, ctx.command_path) from None
                raise

        def invoke(self, ctx: click.Context):
            try:
                return super().invoke(ctx)
            except click.UsageError as error:
                if refused(error):  # (click names no command for a flag missing its value)
                    raise flag_error(error, error.ctx.command_path if error.ctx else self.path_of(ctx)) from None
                raise

        def path_of(self, ctx: click.Context) -> str:
            from composer.cli.main import find_command_words

            return " ".join([ctx.command_path, *find_command_words(self.argv)])

    return ComposerGroup


def print_pruned(title: str, removed: list[str], reclaimed: str | None = None) -> None:
    """Docker's prune report: ``Deleted <title>:``, one line each, then the space reclaimed."""
    if removed:
        print(f"Deleted {title}:")
        for item in removed:
            print(item)
        if reclaimed is not None:
            print()
    if reclaimed is not None:
        print(f"Total reclaimed space: {reclaimed}")


def columns(rows: "Sequence[Sequence[object]]", minimum: int = 10, gap: int = 3, trim: bool = False) -> list[str]:
    """Rows of cells as docker's tabwriter lays them out (``tabwriter.NewWriter(w, minimum, 1, gap,
    ' ', 0)``): each cell but a row's last padded to its column's widest cell plus ``gap``, and
    at least ``minimum``; the last cell as is. ``trim``: trailing spaces cut from each line (left
    by an empty last cell; some of docker's tables keep them, some printers here never had them)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max((len(row[i]) + gap for row in cells if i < len(row) - 1), default=0)
              for i in range(max(map(len, cells), default=0))]
    lines = ["".join(c.ljust(max(widths[i], minimum)) if i < len(row) - 1 else c for i, c in enumerate(row))
             for row in cells]
    return [line.rstrip() for line in lines] if trim else lines
