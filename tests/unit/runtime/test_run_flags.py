"""The typer-free parser of docker run's flags."""

from __future__ import annotations

import pytest

from composer.cli.run_flags import parse_bytes, parse_run_args
from composer.errors import UsageError


def test_flags_image_and_command():
    options, image, command = parse_run_args(
        ["--rm", "-it", "-e", "A=1", "-eB=2", "--env=C=3", "--name=x", "-v", "/a:/b", "-p8080:80",
         "busybox", "sh", "-c", "echo --rm"])
    assert options["rm"] and options["interactive"] and options["tty"]
    assert options["env"] == ["A=1", "B=2", "C=3"]
    assert options["name"] == "x" and options["volume"] == ["/a:/b"] and options["publish"] == ["8080:80"]
    assert (image, command) == ("busybox", ["sh", "-c", "echo --rm"])


def test_double_dash_and_bool_values():
    options, image, command = parse_run_args(["--read-only=false", "--", "img", "-x"])
    assert options["read_only"] is False and image == "img" and command == ["-x"]


@pytest.mark.parametrize("argv", [[], ["--rm"], ["--bogus", "img"], ["-Z", "img"], ["--name"]])
def test_usage_errors(argv):
    with pytest.raises(UsageError):
        parse_run_args(argv)


@pytest.mark.parametrize("text,expected", [("1024", 1024), ("512m", 512 << 20), ("1g", 1 << 30), ("1.5k", 1536),
                                           ("64MB", 64 << 20), ("-1", -1), ("10b", 10)])
def test_parse_bytes(text, expected):
    assert parse_bytes(text, "--memory") == expected


def test_parse_bytes_error_names_flag():
    with pytest.raises(UsageError, match="--memory"):
        parse_bytes("lots", "--memory")
