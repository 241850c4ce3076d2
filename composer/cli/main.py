"""Entry point of the ``composer`` command.

Start-up time matters (every command pays it), so this module imports almost nothing. It peeks at
the command word and imports only the CLI module that defines it; typer itself is imported only
when a command needs it. Hot paths listed in ``FAST_PATHS`` bypass typer completely.
"""

from __future__ import annotations

import os
import sys

# command word -> module with a ``register(app)`` function adding that command (or group)
COMMAND_MODULES: dict[str, str] = {
    # docker-style object groups
    "container": "composer.cli.containers",
    "volume": "composer.cli.volumes",
    "image": "composer.cli.images",
    "login": "composer.cli.images",
    "logout": "composer.cli.images",
    "network": "composer.cli.networks",
    "system": "composer.cli.system",
    "version": "composer.cli.system",
    # compose project commands
    "config": "composer.cli.project",
    "graph": "composer.cli.project",
    "up": "composer.cli.compose",
    "down": "composer.cli.compose",
    "ps": "composer.cli.compose",
    "logs": "composer.cli.compose",
    "exec": "composer.cli.compose",
    "run": "composer.cli.compose",
    "create": "composer.cli.compose",
    "start": "composer.cli.compose",
    "stop": "composer.cli.compose",
    "restart": "composer.cli.compose",
    "kill": "composer.cli.compose",
    "rm": "composer.cli.compose",
    "pause": "composer.cli.compose",
    "unpause": "composer.cli.compose",
    "top": "composer.cli.compose",
    "port": "composer.cli.compose",
    "images": "composer.cli.compose",
    "build": "composer.cli.build",
    "builder": "composer.cli.build",
    "ls": "composer.cli.compose",
    "wait": "composer.cli.compose",
    "pull": "composer.cli.compose",
    "events": "composer.cli.compose",
    "stats": "composer.cli.compose",
    "scale": "composer.cli.compose",
    "cp": "composer.cli.compose",
    "push": "composer.cli.compose",
    "watch": "composer.cli.watch",
    "attach": "composer.cli.compose_more",
    "commit": "composer.cli.compose_more",
    "export": "composer.cli.compose_more",
    "volumes": "composer.cli.compose_more",
    "update": "composer.cli.container_update",  # (runs on its fast path; registered for --help and global options)
}

# (command words) -> "module:function" taking the remaining argv and returning an exit code.
# Used for latency-critical commands that must not pay for typer's import.
FAST_PATHS: dict[tuple[str, ...], str] = {
    ("image", "build"): "composer.cli.build:fast_image_build",
    ("config",): "composer.cli.project:config_fast",
    ("container", "run"): "composer.cli.container_run:main",
    ("container", "exec"): "composer.cli.container_run:exec_main",
    ("container", "stop"): "composer.cli.container_fast:stop_main",
    ("container", "start"): "composer.cli.container_fast:start_main",
    ("container", "kill"): "composer.cli.container_fast:kill_main",
    ("container", "restart"): "composer.cli.container_fast:restart_main",
    ("container", "rm"): "composer.cli.container_fast:rm_main",
    ("container", "wait"): "composer.cli.container_fast:wait_main",
    ("container", "ls"): "composer.cli.container_fast:ls_main",
    ("container", "ps"): "composer.cli.container_fast:ls_main",
    ("container", "list"): "composer.cli.container_fast:ls_main",
    ("container", "inspect"): "composer.cli.container_fast:inspect_main",
    ("volume", "ls"): "composer.cli.volume_fast:ls_main",
    ("volume", "inspect"): "composer.cli.volume_fast:inspect_main",
    ("container", "port"): "composer.cli.network_fast:container_port_main",
    ("container", "commit"): "composer.cli.container_commit:main",
    ("container", "export"): "composer.cli.container_commit:export_main",
    ("container", "update"): "composer.cli.container_update:main", ("update",): "composer.cli.container_update:main",
    ("network",): "composer.cli.network_fast:main",  # create, rm, ls, inspect (others: None -> typer)
    ("image", "pull"): "composer.cli.images:fast_pull",
    ("image", "ls"): "composer.cli.image_fast:ls_main", ("image", "list"): "composer.cli.image_fast:ls_main",
    ("image", "inspect"): "composer.cli.image_fast:inspect_main",
    ("image", "history"): "composer.cli.image_fast:history_main",
    ("system", "df"): "composer.cli.system_fast:df_main", ("system", "info"): "composer.cli.system_fast:info_main",
    ("version",): "composer.cli.version:main",
    ("up",): "composer.cli.compose:up_fast",
    ("down",): "composer.cli.compose:down_fast",
    ("exec",): "composer.cli.compose_fast:exec_main",
    ("run",): "composer.cli.compose_fast:run_main",
    ("ps",): "composer.cli.compose_fast:ps_main",
    ("logs",): "composer.cli.compose_fast:logs_main",
    ("port",): "composer.cli.compose_fast:port_main",
    ("top",): "composer.cli.compose_fast:top_main",
    ("images",): "composer.cli.compose_fast:images_main",
}

# Fast-path command words that also run without typer after global options (-f, -p, ...).
FAST_WITH_GLOBALS = {"exec", "run", "ps", "logs", "port", "top", "images", "up", "down"}
LIFECYCLE_WORDS = ("start", "stop", "restart", "pause", "unpause", "kill", "rm")  # compose_fast's too
FAST_PATHS.update({(word,): f"composer.cli.compose_lifecycle:{word}_main" for word in LIFECYCLE_WORDS})
FAST_WITH_GLOBALS.update(LIFECYCLE_WORDS)
FAST_PATHS[("ls",)] = "composer.cli.compose_ls:ls_main"

# Fast paths whose process ends by exit_now once their work is done: up -d and down leave ~300
# modules and trio's threads behind, whose teardown (its GC passes) took 0.1-0.3 s after the last line.
EXIT_NOW_PATHS = {("up",), ("down",)}

# Global options that take a value (so the command word is found after them).
GLOBAL_OPTIONS_WITH_VALUE = {
    "-f", "--file", "-p", "--project-name", "--project-directory", "--profile", "--env-file",
    "--progress", "--ansi", "--parallel",
}


def find_command_words(argv: list[str]) -> list[str]:
    """The positional words of ``argv`` before the first option of the command itself."""
    words: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
            continue
        if arg.startswith("-"):
            if words:
                break
            if arg in GLOBAL_OPTIONS_WITH_VALUE:
                skip_next = True
            continue
        words.append(arg)
        if len(words) == 2:
            break
    return words


def modules_for(words: list[str]) -> list[str]:
    """The CLI modules to import for a command line (all of them for help and completion)."""
    if words and words[0] in COMMAND_MODULES and "_COMPOSER_COMPLETE" not in os.environ:
        return [COMMAND_MODULES[words[0]]]
    return list(dict.fromkeys(COMMAND_MODULES.values()))


def exit_now(code: int) -> int:
    """End the process with ``code`` once a fast path's work is done (a foreground container is
    gone, run_foreground has cleaned up): the interpreter's teardown (module and object
    finalization, ~9 ms) has nothing left to release, so it is skipped, as ``docker run`` returns
    when the container is removed. Output is flushed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def run_fast_path(argv: list[str]) -> int | None:
    """Run a latency-critical command without typer; None when argv is not one."""
    for words, target in FAST_PATHS.items():
        if tuple(argv[: len(words)]) == words:
            module_name, _, function_name = target.partition(":")
            # __import__, not importlib.import_module: the importlib package (and warnings) cost ~1 ms
            function = getattr(__import__(module_name, fromlist=[function_name]), function_name)
            return function(argv[len(words):])
    word = find_command_words(argv)[:1] if argv[:1] and argv[0].startswith("-") else []  # after global options
    if word == ["config"]:
        from composer.cli.project import config_fast_with_globals

        return config_fast_with_globals(argv)
    if word and word[0] in FAST_WITH_GLOBALS:
        from composer.cli.compose_fast import with_globals

        return with_globals(argv)
    return None


def main(argv: list[str] | None = None) -> None:
    """Run composer with ``argv`` (default: the process's arguments) and exit."""
    entry = argv is None  # the process's own command line (not a test calling main in-process)
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["--version"], ["-v"]):
        from composer import __version__

        print(f"composer version v{__version__}")  # Compose's shape: a leading v
        sys.exit(0)
    from composer.cli.render import is_compose_command, run_guarded

    word = next(iter(find_command_words(argv)), None)
    compose = is_compose_command(word)  # (every error of a Compose command exits 1)
    fast = run_guarded(lambda: run_fast_path(argv), compose)
    if fast is not None and entry and (word,) in EXIT_NOW_PATHS:
        exit_now(fast)
    if fast is not None:
        sys.exit(fast)
    if word is not None and word not in COMMAND_MODULES and "_COMPOSER_COMPLETE" not in os.environ:
        sys.stderr.write(f'unknown command "{word}" for "composer"\n'  # cobra's words; exit 1 as Compose's
                         "Run 'composer --help' for the commands\n")
        sys.exit(1)

    def run_typer() -> int:
        from composer.cli.app import build_app

        app = build_app(modules_for(find_command_words(argv)))
        app(args=argv, prog_name="composer")
        return 0

    sys.exit(run_guarded(run_typer, compose))
