"""How docker's CLI (cobra, docker 28) ends a command-line error of its object commands: the
command's usage line, then where its help is. Composer's parsers word the error and name the
command (``See 'composer container logs --help'.``); ``usage_text`` turns that into docker's shape."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing's import costs milliseconds)
if TYPE_CHECKING:
    from composer.errors import FlagError

# docker's object commands and their usage (``docker container logs --help``'s first line)
USAGE_LINES = """
container attach [OPTIONS] CONTAINER
container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]
container cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
container create [OPTIONS] IMAGE [COMMAND] [ARG...]
container diff CONTAINER
container exec [OPTIONS] CONTAINER COMMAND [ARG...]
container export [OPTIONS] CONTAINER
container inspect [OPTIONS] CONTAINER [CONTAINER...]
container kill [OPTIONS] CONTAINER [CONTAINER...]
container logs [OPTIONS] CONTAINER
container ls [OPTIONS]
container pause CONTAINER [CONTAINER...]
container port CONTAINER [PRIVATE_PORT[/PROTO]]
container prune [OPTIONS]
container rename CONTAINER NEW_NAME
container restart [OPTIONS] CONTAINER [CONTAINER...]
container rm [OPTIONS] CONTAINER [CONTAINER...]
container run [OPTIONS] IMAGE [COMMAND] [ARG...]
container start [OPTIONS] CONTAINER [CONTAINER...]
container stats [OPTIONS] [CONTAINER...]
container stop [OPTIONS] CONTAINER [CONTAINER...]
container top CONTAINER [ps OPTIONS]
container unpause CONTAINER [CONTAINER...]
container update [OPTIONS] CONTAINER [CONTAINER...]
container wait CONTAINER [CONTAINER...]
image build [OPTIONS] PATH | URL | -
image history [OPTIONS] IMAGE
image import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]
image inspect [OPTIONS] IMAGE [IMAGE...]
image load [OPTIONS]
image ls [OPTIONS] [REPOSITORY[:TAG]]
image prune [OPTIONS]
image pull [OPTIONS] NAME[:TAG|@DIGEST]
image push [OPTIONS] NAME[:TAG]
image rm [OPTIONS] IMAGE [IMAGE...]
image save [OPTIONS] IMAGE [IMAGE...]
image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
network connect [OPTIONS] NETWORK CONTAINER
network create [OPTIONS] NETWORK
network disconnect [OPTIONS] NETWORK CONTAINER
network inspect [OPTIONS] NETWORK [NETWORK...]
network ls [OPTIONS]
network prune [OPTIONS]
network rm NETWORK [NETWORK...]
volume create [OPTIONS] [VOLUME]
volume inspect [OPTIONS] VOLUME [VOLUME...]
volume ls [OPTIONS]
volume prune [OPTIONS]
volume rm [OPTIONS] VOLUME [VOLUME...]
system df [OPTIONS]
system events [OPTIONS]
system info [OPTIONS]
system prune [OPTIONS]
"""


def _usage(command: str) -> str | None:
    """The usage line's arguments of ``command`` (``container logs``): ``[OPTIONS] CONTAINER``."""
    for line in USAGE_LINES.splitlines():
        group, _, rest = line.partition(" ")
        verb, _, arguments = rest.partition(" ")
        if f"{group} {verb}" == command:
            return arguments
    return None


ALIASES = {"ps": "ls", "list": "ls", "remove": "rm"}  # docker names a command by its name, not the alias used


MIN_ARGS = {"image import": 1}  # commands whose usage line says more than their argument check


def check_arity(command: str, arguments: list[str]) -> None:
    """``arity_error`` when ``command`` (``network rm``) cannot take that many ``arguments``."""
    least, most = _bounds(command)
    if len(arguments) < least or (most is not None and len(arguments) > most):
        raise arity_error(command)


def _bounds(command: str) -> "tuple[int, int | None]":
    """How many arguments ``command`` takes, at least and at most (None: any number)."""
    if command in MIN_ARGS:
        return MIN_ARGS[command], None
    return _arity(_usage(command) or "")


def arity_error(command: str) -> "FlagError":
    """docker's (cobra's) error for a wrong number of arguments to ``command`` (``image tag``),
    counted from its usage line: ``'composer image tag' requires 2 arguments`` (exit 1); a
    command the table lacks (``system start``, ``builder prune``) takes none."""
    from composer.errors import FlagError

    group, _, verb = command.partition(" ")
    command = f"{group} {ALIASES.get(verb, verb)}"
    least, most = _bounds(command)
    if most == least:
        words = f"requires {_arguments(least)}" if least else "accepts no arguments"
    elif most is None:
        words = f"requires at least {_arguments(least)}"
    elif not least:
        words = f"requires at most {_arguments(most)}"
    else:
        words = f"requires at least {least} and at most {_arguments(most)}"
    return FlagError(f"'composer {command}' {words}", hint=f"See 'composer {command} --help'.", exit_code=1)


def _arguments(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"


def _arity(arguments: str) -> "tuple[int, int | None]":
    """(least, most; None: any number) of the arguments a usage line's ``arguments`` name:
    ``IMAGE [IMAGE...]`` (1, None), ``SOURCE TARGET`` (2, 2), ``[VOLUME]`` (0, 1)."""
    least, most, depth, word = 0, 0, 0, ""
    for char in arguments.replace(" | ", "|") + " ":
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char != " " or depth:
            word += char
            continue
        if word and word != "[OPTIONS]":
            if "..." in word or "OPTIONS" in word:  # [ARG...], top's [ps OPTIONS]
                most = None
            elif most is not None:
                most += 1
            least += not word.startswith("[")
        word = ""
    return least, most


def usage_text(message: str, hint: str) -> str | None:
    """docker's lines for a command-line error ``message`` whose ``hint`` is composer's
    ``See 'composer GROUP VERB --help'.``: an argument count (``composer: ... requires 1
    argument``, ``arity_error``) or a flag error, the usage line and where the help is after it;
    None for a command docker's table does not have."""
    if not (hint.startswith("See 'composer ") and hint.endswith(" --help'.")):
        return None
    words = hint[len("See 'composer "):-len(" --help'.")].split()
    if len(words) != 2:
        return None
    command = f"{words[0]} {ALIASES.get(words[1], words[1])}"
    arguments = _usage(command)
    if arguments is None:
        return None
    usage = f"Usage:  composer {command} {arguments}"
    if not message.startswith(f"'composer {words[0]} {words[1]}' ") or \
            not (" requires " in message or message.endswith(" accepts no arguments")):
        return f"{message}\n\n{usage}\n\nRun 'composer {command} --help' for more information"
    # cobra's argument checks end alike but for docker's words: MinimumNArgs "See", MaximumNArgs
    # "SRun" (docker 28's own slip, shown as it is), the others "Run"
    if " requires at least " in message and " at most " not in message:
        footer = "See"
    elif " requires at most " in message:
        footer = "SRun"
    else:
        footer = "Run"
    return f"composer: {message}\n\n{usage}\n\n{footer} 'composer {command} --help' for more information"
