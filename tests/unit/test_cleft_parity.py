"""Small Compose/docker parity points: how a refused flag is answered, ids, port texts, orders."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("argv", "code", "stderr"), [
    (["ps", "--bogus"], 1, "unknown flag: --bogus\n"),  # Compose: the message alone, exit 1
    (["--bogus", "ps"], 1, "unknown flag: --bogus\n"),
    (["run", "--bogus"], 1, "unknown flag: --bogus\n"),
    (["down", "--bogus"], 1, "unknown flag: --bogus\n"),
    (["ps", "--format"], 1, "flag needs an argument: --format\n"),
    (["run"], 1, "requires at least 1 arg(s), only received 0\n"),
    (["container", "ls", "--bogus"], 125, "unknown flag: --bogus\nSee 'composer container ls --help'.\n"),
    (["container", "run", "--bogus"], 125, "unknown flag: --bogus\nSee 'composer container run --help'.\n"),
    (["image", "ls", "--bogus"], 125, "unknown flag: --bogus\nSee 'composer image ls --help'.\n"),
    (["image", "rm"], 1, "'composer image rm' requires at least 1 argument\nSee 'composer image rm --help'.\n"),
])
def test_a_refused_flag_is_answered_as_docker_and_compose(composer, state_root, argv, code, stderr):
    result = composer(*argv)
    assert (result.returncode, result.stderr) == (code, stderr)


def test_a_bad_flag_value_names_the_flag(composer, state_root):
    result = composer("up", "--wait-timeout", "abc")
    assert result.returncode == 1
    assert result.stderr.startswith('invalid argument for "--wait-timeout" flag: ')
