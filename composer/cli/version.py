"""``composer version``: compose's line (``--short``, ``--format json``) or docker version's Go
template; typer-free (a script's first call), the typer command in ``system`` prints the same."""

from __future__ import annotations

import sys

from composer import __version__


def version_data() -> dict:
    """``docker version``'s fields (client and server are both composer here)."""
    import platform

    side = {"Version": __version__, "ApiVersion": "1.41", "GoVersion": "python" + platform.python_version(),
            "Os": "linux", "Arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()),
            "KernelVersion": platform.release()}
    return {"version": __version__, "Client": dict(side), "Server": {**side, "MinAPIVersion": "1.12"}}


def version_text(short: bool, output_format: str) -> str:
    """The line ``version`` prints for ``--short`` / ``-f FORMAT`` (pretty, json or a template)."""
    if short:
        return __version__
    if output_format == "json":
        return '{"version":"v%s"}' % __version__  # compose's shape
    if "{{" in output_format:  # docker version's template: {{.Server.Version}}, {{json .Client}} ...
        from composer.cli.gotemplate import render

        return render(output_format, version_data())
    return f"composer version v{__version__}"  # as ``Docker Compose version v2.40.3``


def main(argv: list[str]) -> int | None:
    """The FAST_PATHS entry; None (typer: its help and errors) for anything but its own flags."""
    short, output_format, index = False, "pretty", 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--short":
            short = True
        elif arg in ("-f", "--format") and index + 1 < len(argv):
            index += 1
            output_format = argv[index]
        elif arg.startswith("--format="):
            output_format = arg.partition("=")[2]
        else:
            return None
        index += 1
    sys.stdout.write(version_text(short, output_format) + "\n")
    return 0
