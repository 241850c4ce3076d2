"""BuildKit-named Dockerfile checks and the ``# check=`` directive."""

import pytest

from composer.engine.build.checks import run
from composer.engine.build.dockerfile import parse
from composer.errors import BuildError


def rules(text: str) -> list[tuple[str, int | None]]:
    return [(f.rule, f.location.line) for f in run(parse(text))]


def test_clean_dockerfile_has_no_findings() -> None:
    text = 'ARG V=1\nFROM busybox:$V AS build\nWORKDIR /src\nENV A=1\nCMD ["sh"]\n'
    assert rules(text) == []


def test_casing_rules() -> None:
    found = rules("FROM a as Build\nrun x\nRUN y\nRUN z\n")
    assert ("FromAsCasing", 1) in found and ("StageNameCasing", 1) in found
    assert ("ConsistentInstructionCasing", 2) in found


def test_instruction_rules() -> None:
    found = rules("FROM a\nMAINTAINER me\nCMD run it\nENTRYPOINT run\nENV k v\nLABEL a b\nARG DB_PASSWORD\n"
                  "ENV API_KEY=x\nENV MONKEY=x\n")
    assert ("MaintainerDeprecated", 2) in found
    assert ("JSONArgsRecommended", 3) in found and ("JSONArgsRecommended", 4) in found
    assert ("LegacyKeyValueFormat", 5) in found and ("LegacyKeyValueFormat", 6) in found
    assert ("SecretsUsedInArgOrEnv", 7) in found and ("SecretsUsedInArgOrEnv", 8) in found
    assert ("SecretsUsedInArgOrEnv", 9) not in found


def test_stage_rules() -> None:
    found = rules("FROM a AS scratch\nWORKDIR app\nWORKDIR /x\nWORKDIR y\nCMD [\"a\"]\nCMD [\"b\"]\n"
                  "FROM b\nCMD [\"c\"]\n")
    assert ("ReservedStageName", 1) in found and ("WorkdirRelativePath", 2) in found
    assert ("WorkdirRelativePath", 4) not in found
    assert ("MultipleInstructionsDisallowed", 5) in found and ("MultipleInstructionsDisallowed", 6) not in found
    assert ("MultipleInstructionsDisallowed", 8) not in found


def test_undefined_arg_in_from() -> None:
    found = rules("ARG A\nFROM $A/${B}:x\nFROM --platform=$BUILDPLATFORM c\nARG B\n")
    assert found == [("UndefinedArgInFrom", 2)]


def test_check_directive_skips_and_errors() -> None:
    text = "FROM a\nCMD run\nMAINTAINER me\n"
    assert rules("# check=skip=JSONArgsRecommended\n" + text) == [("MaintainerDeprecated", 4)]
    assert rules("# check=skip=all\n" + text) == []
    with pytest.raises(BuildError, match="JSONArgsRecommended") as info:
        run(parse("# check=error=true\n" + text))
    assert info.value.location.line == 3
    assert rules("# check=skip=JSONArgsRecommended,maintainerdeprecated;error=true\n" + text) == []


def test_from_platform_rules() -> None:
    found = rules("FROM --platform=linux/arm64 a\nFROM --platform=$TARGETPLATFORM b\n"
                  "FROM --platform=$BUILDPLATFORM c\n")
    assert found == [("FromPlatformFlagConstDisallowed", 1), ("RedundantTargetPlatform", 2)]
