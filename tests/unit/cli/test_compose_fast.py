"""The flag parsing of ``composer.cli.compose_fast`` (pure logic; the commands themselves are
compared with typer's in tests/integration/compose/test_compose_fast.py)."""

from __future__ import annotations

import subprocess
import sys

from composer.cli import compose_fast as F
from composer.cli.main import find_command_words


def test_global_options_as_typer_stores_them():
    obj, word, rest = F.global_options(["-f", "a.yaml", "--file=b.yaml", "-p", "x", "--project-directory", "d/",
                                        "--profile", "p1", "--env-file", "e", "--progress", "plain", "--ansi",
                                        "never", "--parallel", "3", "--dry-run", "ps", "-a"])
    assert (word, rest) == ("ps", ["-a"])
    assert vars(obj) == dict(files=["a.yaml", "b.yaml"], project_name="x", project_directory="d",
                             profiles=["p1"], env_files=["e"], progress="plain", ansi="never", dry_run=True,
                             parallel=3)
    assert vars(F.global_options(["logs"])[0])["parallel"] == -1


def test_global_options_typer_must_parse():
    for argv in (["--bogus", "ps"], ["-f"], ["-p=x", "ps"], ["--dry-run=1", "ps"], ["--parallel", "x", "ps"], ["--parallel", "--5", "ps"],
                 ["-f", "a.yaml"], ["-h", "ps"]):
        assert F.global_options(argv) is None, argv
    assert F.with_globals(["-p", "x", "config"]) is None  # not one of this module's commands


def test_parse_tables():
    assert F._parse("exec", ["-T", "-e", "A=1", "-eB", "--index=2", "web", "sh", "-c", "--help"]) == (
        {"no_TTY": True, "env": ["A=1", "B"], "index": "2"}, ["web", "sh", "-c", "--help"])
    assert F._parse("ps", ["web", "-aq", "--status", "exited", "db"]) == (
        {"all": True, "quiet": True, "status": ["exited"]}, ["web", "db"])
    assert F._parse("logs", ["-fn", "3", "web"]) == ({"follow": True, "tail": "3"}, ["web"])
    assert F._parse("run", ["--rm", "-Tu0", "-v", "a:/a", "--entrypoint=", "-P", "web", "sh", "-d", "--rm"]) == (
        {"rm": True, "no_TTY": True, "user": "0", "volume": ["a:/a"], "entrypoint": "", "service_ports": True},
        ["web", "sh", "-d", "--rm"])  # (run's options end at the service)
    for verb, argv in (("exec", ["--", "web", "true"]), ("run", ["--rm", "--", "web"]), ("ps", ["--help"]),
                       ("logs", ["--tail"]), ("images", ["-a"])):
        assert F._parse(verb, argv) is None, (verb, argv)


def test_the_main_routes_to_typer_what_it_does_not_know():
    assert F.exec_main(["--index", "x", "web", "true"]) is None
    assert F.logs_main(["--index", "two"]) is None
    assert find_command_words(["-p", "x", "--dry-run", "exec", "web"]) == ["exec", "web"]


def test_the_fast_path_does_not_import_typer(tmp_path):
    code = ("import sys\nfrom composer.cli.main import run_fast_path\n"
            "print(run_fast_path(['-p', 'nothing-here', 'ps', '-q']), 'typer' in sys.modules, 'click' in sys.modules)")
    env = {"COMPOSER_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.stdout.split() == ["0", "False", "False"], out.stderr
