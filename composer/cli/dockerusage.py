"""How docker's CLI (cobra, docker 28) ends a command-line error of its object commands: the
command's usage line, then where its help is. Composer's parsers word the error and name the
command (``See 'composer container logs --help'.``); ``usage_text`` turns that into docker's shape."""

from __future__ import annotations

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


def usage_text(message: str, hint: str) -> str | None:
    """docker's lines for a command-line error ``message`` whose ``hint`` is composer's
    ``See 'composer GROUP VERB --help'.``: an argument count (``composer: ... requires at least 1
    argument``, then ``See ... for more information``) or a flag error (``Run ... for more
    information``), the usage line between; None for a command docker's table does not have."""
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
    if " requires " in message and message.startswith("'composer "):
        return f"composer: {message}\n\n{usage}\n\nSee 'composer {command} --help' for more information"
    return f"{message}\n\n{usage}\n\nRun 'composer {command} --help' for more information"
