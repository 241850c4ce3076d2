"""Word expansion as Docker's shell lexer does it, and the build-arg rules."""

import pytest

from composer.engine.build.expand import BuildArgs, Lexer, Platform, StageArgs
from composer.errors import BuildError

ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": "", "FOO": "xxyy"}


@pytest.mark.parametrize("word, expected", [
    ("hello", "hello"),
    ("he'll'o", "hello"),
    ("he\"ll\"o", "hello"),
    ("'$PWD'", "$PWD"),
    ('"$PWD"', "/home"),
    ("$PWD", "/home"),
    ("${PWD}x", "/homex"),
    ("\\$PWD", "$PWD"),
    ('"\\$PWD"', "$PWD"),
    ('"\\\\$PWD"', "\\/home"),
    ('"a\\b"', "a\\b"),
    ("a\\ b", "a b"),
    ("'a\\b'", "a\\b"),
    ("$KOREAN", "한국어"),
    ("$UNSET-x", "-x"),
    ("a$", "a$"),
    ("$ x", "$ x"),
    ("$1 $# z", "  z"),
    ("${NULL}.", "."),
])
def test_quotes_escapes_and_variables(word: str, expected: str) -> None:
    assert Lexer().expand(word, ENV) == expected


@pytest.mark.parametrize("word, expected", [
    ("${FOO-aaa} ${NULL-bbb} ${BAZ-ccc}", "xxyy  ccc"),
    ("${FOO:-aaa} ${NULL:-bbb} ${BAZ:-ccc}", "xxyy bbb ccc"),
    ("${FOO+aaa} ${NULL+bbb} ${BAZ+ccc}", "aaa bbb "),
    ("${FOO:+aaa} ${NULL:+bbb} ${BAZ:+ccc}", "aaa  "),
    ("${BAZ:-${PWD}/x}", "/home/x"),
    ("${XXX:-\\$PWD:}", "$PWD:"),
    ('${XXX:-"a b"}', "a b"),
    ("${PWD:+${SHELL}}", "bash"),
    ("${FOO?msg}", "xxyy"),
    ("${NULL?msg}", ""),
    ("${FOO:?msg}", "xxyy"),
])
def test_modifiers(word: str, expected: str) -> None:
    assert Lexer().expand(word, ENV) == expected


@pytest.mark.parametrize("word, message", [
    ("${BAZ?is required}", "BAZ: is required"),
    ("${NULL:?must be set}", "NULL: must be set"),
    ("${BAZ:?}", "BAZ: is not allowed to be unset"),
    ("${NULL:?}", "NULL: is not allowed to be empty"),
    ("${FOO=aaa}", "unsupported modifier"),
    ("${FOO", "missing"),
    ("${}", "missing variable name"),
    ("'open", "single-quote"),
    ('"open', "double-quote"),
])
def test_expansion_errors(word: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        Lexer().expand(word, ENV)


def test_required_message_is_expanded() -> None:
    with pytest.raises(BuildError, match="message herex"):
        Lexer().expand("${VAR:?message here$ARG}", {"ARG": "x"})


@pytest.mark.parametrize("word, env, expected", [
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y"),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy"),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy"),
    ("${FOO%x}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO%y}", {"FOO": "xxyy"}, "xxy"),
    ("${FOO%%y*}", {"FOO": "xxyy"}, "xx"),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx"),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y"),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x"),
    ("${FOO/$N/.} - ${FOO//$N/.}", {"FOO": "/foo*/*/*.txt", "N": "\\*/"}, "/foo.*/*.txt - /foo..*.txt"),
    ("${FOO/$N/$R} - ${FOO//$N/$R}", {"FOO": "/a/foo/b/c.txt", "N": "/?/", "R": "/"},
     "/foo/b/c.txt - /foo/c.txt"),
    ("${FOO/http:\\/\\//https://}", {"FOO": "http://x.de"}, "https://x.de"),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy"),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy"),
])
def test_pattern_removal_and_replacement(word: str, env: dict, expected: str) -> None:
    assert Lexer().expand(word, env) == expected


def test_replacement_without_separator_fails() -> None:
    for word in ("${FOO//ww}", "${FOO//}"):
        with pytest.raises(BuildError):
            Lexer().expand(word, {"FOO": "x"})


def test_backtick_escape() -> None:
    assert Lexer("`").expand("a`$b\\c", {}) == "a$b\\c"


def test_used_names_are_reported() -> None:
    used: set[str] = set()
    Lexer().expand("${A:-x} $B '$C'", {"A": "1"}, used)
    assert used == {"A", "B"}


def test_expand_words_splits_unquoted_values() -> None:
    words = Lexer().expand_words('a "b c" $X d""e "" \'$X\'', {"X": "1  2"})
    assert words == ["a", "b c", "1", "2", "de", "", "$X"]


# --- build args ---------------------------------------------------------------------------------
def test_platform_args() -> None:
    args = BuildArgs(build=Platform.parse("linux/amd64"), target=Platform.parse("linux/arm/v7"))
    assert args.automatic["TARGETPLATFORM"] == "linux/arm/v7"
    assert args.automatic["TARGETARCH"] == "arm" and args.automatic["TARGETVARIANT"] == "v7"
    assert args.automatic["BUILDOS"] == "linux"
    with pytest.raises(BuildError, match="invalid platform"):
        Platform.parse("linux")


def test_meta_scope_defaults_and_overrides() -> None:
    args = BuildArgs({"VERSION": "2"})
    scope = args.meta_scope([("VERSION", "1"), ("IMAGE", "app:${VERSION}"), ("EMPTY", None)], Lexer())
    assert scope["VERSION"] == "2" and scope["IMAGE"] == "app:2"
    assert "EMPTY" not in scope and "TARGETARCH" in scope


def test_stage_args_reimport_global_value() -> None:
    args = BuildArgs({})
    meta = args.meta_scope([("V", "1")], Lexer())
    stage = StageArgs(args, meta)
    assert "V" not in stage.environment({})
    stage.declare("V", None)
    assert stage.environment({})["V"] == "1"


def test_stage_args_build_arg_overrides_default_and_env_wins() -> None:
    args = BuildArgs({"A": "cli"})
    stage = StageArgs(args, {})
    stage.declare("A", "default")
    stage.declare("B", "b")
    assert stage.environment({})["A"] == "cli"
    assert stage.environment({"A": "env"})["A"] == "env"
    assert stage.used({"A": "env"}) == {"B": "b"}


def test_platform_args_in_stage_only_when_declared() -> None:
    args = BuildArgs(target=Platform.parse("linux/arm64"))
    stage = StageArgs(args, {})
    assert "TARGETARCH" not in stage.environment({})
    stage.declare("TARGETARCH", None)
    assert stage.environment({})["TARGETARCH"] == "arm64"


def test_proxy_args_need_no_declaration_and_unused_warning() -> None:
    args = BuildArgs({"http_proxy": "http://p:3128", "UNUSED": "1", "USED": "2"})
    stage = StageArgs(args, {})
    stage.declare("USED", None)
    assert stage.environment({})["http_proxy"] == "http://p:3128"
    assert stage.used({}) == {"USED": "2", "http_proxy": "http://p:3128"}
    assert args.unused() == ["UNUSED"]


def test_declared_arg_without_value_is_not_used() -> None:
    stage = StageArgs(BuildArgs({}), {})
    stage.declare("NOVALUE", None)
    assert stage.used({}) == {} and "NOVALUE" not in stage.environment({})


def test_platform_matches_and_runnable() -> None:
    from composer.engine.build.expand import Platform

    host = Platform.host()
    assert host.runnable() and not Platform("linux", "s390x" if host.arch != "s390x" else "arm64").runnable()
    arm = Platform.parse("linux/arm/v7")
    assert arm.matches({"architecture": "arm", "os": "linux", "variant": "v7"})
    assert arm.matches({"architecture": "arm", "os": "linux"}) and arm.matches({})
    assert not arm.matches({"architecture": "arm", "os": "linux", "variant": "v6"})
    assert not Platform.parse("linux/amd64").matches({"architecture": "arm64", "os": "linux"})
