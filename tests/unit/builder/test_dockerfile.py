"""The Dockerfile parser: directives, comments, continuations, forms, flags, heredocs, errors."""

import pytest

from composer.engine.build.dockerfile import parse, split_words
from composer.errors import BuildError


def one(text: str, index: int = 1):
    return parse(text).instructions[index]


# --- directives and comments ------------------------------------------------------------------
def test_escape_directive_backtick_continues_lines() -> None:
    df = parse("# escape=`\nFROM x\nRUN echo a `\n  b\nCOPY a\\b c\n")
    assert df.escape == "`"
    assert df.instructions[1].args == ("echo a   b",)
    assert df.instructions[2].args == ("a\\b", "c")


def test_directive_whitespace_variants() -> None:
    assert parse("#  ESCAPE =  `\nFROM x\n").escape == "`"
    assert parse("  # escape=`\nFROM x\n").escape == "`"


def test_directive_after_comment_is_a_comment() -> None:
    df = parse("# a comment\n# escape=`\nFROM x\nENV P \\\n\\go\n")
    assert df.escape == "\\"
    assert df.instructions[1].pairs == (("P", "\\go"),)


def test_directive_after_blank_line_is_a_comment() -> None:
    assert parse("\n# escape=`\nFROM x\n").escape == "\\"


def test_duplicate_and_bad_escape_directives() -> None:
    with pytest.raises(BuildError, match="only one escape"):
        parse("# escape=`\n# escape=\\\nFROM x\n")
    with pytest.raises(BuildError, match="invalid escape token"):
        parse("# escape=x\nFROM x\n")


def test_syntax_directive_is_ignored_with_a_note() -> None:
    df = parse("# syntax=docker/dockerfile:1.7\n# check=skip=all\nFROM x\n")
    assert df.directives == {"syntax": "docker/dockerfile:1.7", "check": "skip=all"}
    assert any("ignored" in w for w in df.warnings)


def test_comments_and_inline_hash() -> None:
    df = parse("FROM x\n   # indented comment\nRUN echo # not a comment\n")
    assert df.instructions[1].args == ("echo # not a comment",)


def test_bom_is_stripped() -> None:
    assert parse("\ufeffFROM x\n").instructions[0].args == ("x",)


# --- continuations ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("RUN echo hello\\\n  world\\\n  goodnight  \\\n  moon\\\n  light\\\nning",
     "echo hello  world  goodnight    moon  lightning"),
    ("RUN echo hello  \\\n  world", "echo hello    world"),
    ("RUN echo hi \\\n \\\n world \\\n\\\n good\\\n\\\nnight", "echo hi   world  goodnight"),
    ("RUN echo good\\\nbye\\\nfrog", "echo goodbyefrog"),
    ("RUN echo hello \\\n# a comment inside\nworld", "echo hello world"),
    ("RUN echo a \\   \nb", "echo a b"),
])
def test_continuations(text: str, expected: str) -> None:
    assert one("FROM x\n" + text + "\n").args == (expected,)


def test_empty_continuation_line_warns() -> None:
    df = parse("FROM x\nRUN echo a \\\n\n  b\n")
    assert df.instructions[1].args == ("echo a   b",)
    assert any("empty continuation" in w for w in df.warnings)


def test_continuation_at_end_of_file() -> None:
    assert one("FROM x\nRUN echo a \\").args == ("echo a",)


def test_line_numbers() -> None:
    df = parse("# c\n\nFROM x\n\nRUN a \\\n b\nUSER u\n", file="build/Dockerfile")
    assert [i.line for i in df.instructions] == [3, 5, 7]
    assert df.instructions[2].location.file == "build/Dockerfile"


# --- forms --------------------------------------------------------------------------------------
def test_json_and_shell_forms() -> None:
    df = parse('FROM x\nCMD ["a", "b c"]\nENTRYPOINT run --x\nRUN ["sh","-c","true"]\nCMD [not json\n')
    cmd, entry, run, bad = df.instructions[1:]
    assert (cmd.json, cmd.args) == (True, ("a", "b c"))
    assert (entry.json, entry.args) == (False, ("run --x",))
    assert run.args == ("sh", "-c", "true") and run.json
    assert (bad.json, bad.args) == (False, ("[not json",))


def test_keywords_are_case_insensitive() -> None:
    df = parse("from x as Builder\nrun echo\n")
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"]
    assert df.instructions[0].args == ("x", "as", "Builder")


def test_env_forms() -> None:
    df = parse('FROM x\nENV a=1 b="two words" c=x\\ y\nENV legacy value with  spaces\nENV e=\n')
    assert df.instructions[1].pairs == (("a", "1"), ("b", '"two words"'), ("c", "x\\ y"))
    assert df.instructions[2].pairs == (("legacy", "value with  spaces"),)
    assert df.instructions[3].pairs == (("e", ""),)


def test_env_errors() -> None:
    with pytest.raises(BuildError, match="can't find ="):
        parse("FROM x\nENV a=1 b\n")
    with pytest.raises(BuildError, match="two arguments") as info:
        parse("FROM x\nENV lonely\n")
    assert info.value.location.line == 2


def test_label_and_arg() -> None:
    df = parse('FROM x\nLABEL "com.x"="a b" v=1\nARG A B=2 C=\n')
    assert df.instructions[1].pairs == (('"com.x"', '"a b"'), ("v", "1"))
    assert df.instructions[2].pairs == (("A", None), ("B", "2"), ("C", ""))


def test_volume_forms() -> None:
    df = parse('FROM x\nVOLUME ["/a", "/b c"]\nVOLUME /c /d\n')
    assert df.instructions[1].args == ("/a", "/b c")
    assert df.instructions[2].args == ("/c", "/d")


def test_copy_json_form_keeps_spaces() -> None:
    inst = one('FROM x\nCOPY ["a b", "/dst dir/"]\n')
    assert inst.json and inst.args == ("a b", "/dst dir/")


def test_workdir_keeps_spaces_and_expose_splits() -> None:
    df = parse("FROM x\nWORKDIR /my dir\nEXPOSE 80/tcp 53/udp 8000-8010\n")
    assert df.instructions[1].args == ("/my dir",)
    assert df.instructions[2].args == ("80/tcp", "53/udp", "8000-8010")


def test_healthcheck_forms() -> None:
    df = parse('FROM x\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/\n'
               'HEALTHCHECK CMD ["true"]\nHEALTHCHECK NONE\n')
    first, second, none = df.instructions[1:]
    assert first.args == ("CMD", "curl -f http://x/") and first.flag("interval") == "5s"
    assert second.json and second.args == ("CMD", "true")
    assert none.args == ("NONE",)


def test_healthcheck_errors() -> None:
    with pytest.raises(BuildError, match="NONE takes no arguments"):
        parse("FROM x\nHEALTHCHECK NONE extra\n")
    with pytest.raises(BuildError, match="unknown type"):
        parse("FROM x\nHEALTHCHECK RUN x\n")


def test_onbuild() -> None:
    inst = one("FROM x\nONBUILD run echo hi\n")
    assert inst.args == ("run echo hi",) and inst.sub.keyword == "RUN"
    for bad in ("ONBUILD ONBUILD RUN x", "ONBUILD FROM y", "ONBUILD MAINTAINER me"):
        with pytest.raises(BuildError, match="isn't allowed"):
            parse("FROM x\n" + bad + "\n")


def test_shell_requires_json() -> None:
    assert one('FROM x\nSHELL ["/bin/bash", "-euc"]\n').args == ("/bin/bash", "-euc")
    with pytest.raises(BuildError, match="JSON form"):
        parse("FROM x\nSHELL /bin/bash -c\n")


def test_from_forms() -> None:
    assert one("FROM --platform=linux/arm64 img:1 AS b", 0).flag("platform") == "linux/arm64"
    with pytest.raises(BuildError, match="one or three"):
        parse("FROM a b\n")
    with pytest.raises(BuildError, match="one or three"):
        parse("FROM a LIKE b\n")


# --- flags --------------------------------------------------------------------------------------
def test_copy_flags() -> None:
    inst = one("FROM x\nCOPY --from=build --chown=1:2 --chmod=0755 --link --parents "
               "--exclude=*.md --exclude=tmp a b /dst/\n")
    assert inst.flag("from") == "build" and inst.flag("chown") == "1:2"
    assert inst.flag("chmod") == "0755" and inst.flag("link") == "true"
    assert inst.flag("parents") == "true"
    assert inst.flag_all("exclude") == ["*.md", "tmp"]
    assert inst.args == ("a", "b", "/dst/")


def test_add_and_run_flags() -> None:
    add = one("FROM x\nADD --checksum=sha256:abc --keep-git-dir=false https://x/y /y\n")
    assert add.flag("checksum") == "sha256:abc" and add.flag("keep-git-dir") == "false"
    run = one("FROM x\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t "
              "--network=none --security=sandbox make\n")
    assert run.flag_all("mount") == ["type=cache,target=/c", "type=tmpfs,target=/t"]
    assert run.flag("network") == "none" and run.args == ("make",)


@pytest.mark.parametrize("line, message", [
    ("COPY --form=x a b", "unknown flag: --form"),
    ("RUN --chown=1 x", "unknown flag: --chown"),
    ("COPY --from a b", "missing a value"),
    ("COPY --from=a --from=b c d", "duplicate flag"),
    ("COPY --link=maybe a b", "boolean"),
    ("USER --x=1 u", "takes no flags"),
])
def test_flag_errors(line: str, message: str) -> None:
    with pytest.raises(BuildError, match=message) as info:
        parse("FROM x\n" + line + "\n")
    assert info.value.location.line == 2


def test_double_dash_ends_flags() -> None:
    assert one("FROM x\nCOPY -- --weird /d\n").args == ("--weird", "/d")


# --- heredocs -----------------------------------------------------------------------------------
def test_run_heredoc() -> None:
    df = parse("FROM x\nRUN <<EOF\necho a\necho $HOME\nEOF\nUSER u\n")
    run = df.instructions[1]
    assert run.args == ("<<EOF",)
    assert run.heredocs[0].content == "echo a\necho $HOME\n" and run.heredocs[0].expand
    assert df.instructions[2].keyword == "USER"


def test_copy_heredoc_and_several_heredocs() -> None:
    df = parse("FROM x\nCOPY <<one <<two /dst/\nfirst\none\nsecond\ntwo\n")
    copy = df.instructions[1]
    assert [(d.name, d.content) for d in copy.heredocs] == [("one", "first\n"), ("two", "second\n")]
    assert copy.args == ("<<one", "<<two", "/dst/")


def test_heredoc_chomp_and_quotes() -> None:
    df = parse('FROM x\nRUN <<-"EOT" 3<<\'X\' cat\n\t\techo $A\n\tEOT\n$B\nX\n')
    first, second = df.instructions[1].heredocs
    assert first.content == "echo $A\n" and first.chomp and not first.expand
    assert second.content == "$B\n" and not second.expand and second.fd == 3


def test_heredoc_with_command_keeps_command() -> None:
    run = one("FROM x\nRUN python3 <<EOF > /out\nprint(1)\nEOF\n")
    assert run.args == ("python3 <<EOF > /out",) and run.heredocs[0].content == "print(1)\n"


def test_unterminated_heredoc() -> None:
    with pytest.raises(BuildError, match="unterminated heredoc") as info:
        parse("FROM x\nRUN <<EOF\necho\n")
    assert info.value.location.line == 2


def test_heredoc_only_for_run_copy_add() -> None:
    assert one("FROM x\nCMD cat <<EOF\n").heredocs == ()


# --- errors ---------------------------------------------------------------------------------
def test_unknown_instruction_suggests() -> None:
    with pytest.raises(BuildError, match="unknown instruction: COPPY") as info:
        parse("FROM x\n\nCOPPY a b\n", file="app/Dockerfile")
    assert info.value.hint == "did you mean COPY?"
    assert str(info.value.location) == "app/Dockerfile:3"


def test_missing_from_and_instructions_before_from() -> None:
    with pytest.raises(BuildError, match="no FROM"):
        parse("# only a comment\n")
    with pytest.raises(BuildError, match="before the first FROM"):
        parse("ARG A\nRUN x\nFROM y\n")
    assert parse("ARG A=1\nARG B\nFROM y\n").instructions[0].keyword == "ARG"


@pytest.mark.parametrize("line", ["COPY a", "RUN", "USER a b", "STOPSIGNAL", "ARG", "VOLUME",
                                  "ENV", "WORKDIR", "ONBUILD", "ARG 1bad"])
def test_argument_errors_carry_the_line(line: str) -> None:
    with pytest.raises(BuildError) as info:
        parse("FROM x\n" + line + "\n")
    assert info.value.location.line == 2


def test_split_words_keeps_quotes() -> None:
    assert split_words('a "b c" \'d e\' f\\ g') == ["a", '"b c"', "'d e'", "f\\ g"]


@pytest.mark.parametrize("text, words", [
    ("'a\\' b", ["'a\\'", "b"]),
    ('"a\\" b" c', ['"a\\" b"', "c"]),
    ("a\\", ["a"]),
    ('x ""', ["x", '""']),
    (r"\ta\tb", [r"\ta\tb"]),
])
def test_split_words_escapes(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def test_healthcheck_with_tabs_and_bare() -> None:
    assert one("FROM x\nHEALTHCHECK\tCMD\t a b\n").args == ("CMD", "a b")
    with pytest.raises(BuildError, match="requires CMD or NONE"):
        parse("FROM x\nHEALTHCHECK\n")


def test_directive_after_instruction_is_a_comment() -> None:
    df = parse("FROM x\n# escape=`\nRUN a \\\n b\n")
    assert df.escape == "\\" and df.instructions[1].args == ("a  b",)


def test_unknown_directive_is_ignored_and_does_not_stop_directives() -> None:
    df = parse("# foo=bar\n# escape=`\nFROM x\n")
    assert df.escape == "`" and "foo" not in df.directives


def test_windows_line_endings() -> None:
    df = parse("FROM x\r\nRUN a \\\r\n  b\r\nUSER u\r\n")
    assert df.instructions[1].args == ("a   b",) and df.instructions[2].args == ("u",)


def test_original_text_and_locations_of_a_multi_stage_file() -> None:
    df = parse("ARG V=1\nFROM a:$V AS one\n\nFROM one\nCOPY --from=one /x /y\n", file="ctx/Dockerfile")
    assert [(i.keyword, i.line) for i in df.instructions] == [("ARG", 1), ("FROM", 2), ("FROM", 4), ("COPY", 5)]
    assert df.instructions[3].original == "COPY --from=one /x /y"
