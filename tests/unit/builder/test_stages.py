"""Stages, --target, the stage graph and concurrency waves."""

import pytest

from composer.engine.build.dockerfile import parse
from composer.engine.build.expand import BuildArgs
from composer.engine.build.stages import needed, split, target_stage, waves
from composer.errors import BuildError

MULTI = """\
ARG BASE=busybox
ARG TAG
FROM ${BASE}:${TAG:-latest} AS deps
RUN echo deps
FROM busybox AS tools
RUN echo tools
FROM deps AS build
COPY --from=tools /bin/x /bin/x
RUN --mount=type=cache,target=/c,from=1 make
FROM alpine AS unrelated
RUN echo skip me
FROM scratch
COPY --from=build /out /out
COPY --from=nginx:latest /etc/nginx /etc/nginx
"""


def test_split_names_bases_and_deps() -> None:
    stages = split(parse(MULTI), BuildArgs({"TAG": "1.36"}))
    assert [s.label for s in stages] == ["deps", "tools", "build", "unrelated", "4"]
    assert stages[0].base == "busybox:1.36"
    assert stages[2].base_stage == 0 and stages[2].deps == {0, 1}
    assert stages[4].deps == {2} and stages[4].images == ("nginx:latest",)
    assert stages[4].base == "scratch" and stages[4].base_stage is None


def test_from_defaults_when_args_are_not_given() -> None:
    assert split(parse(MULTI))[0].base == "busybox:latest"


def test_needed_skips_unrelated_stages() -> None:
    stages = split(parse(MULTI))
    assert [s.label for s in needed(stages)] == ["deps", "tools", "build", "4"]
    assert [s.label for s in needed(stages, "tools")] == ["tools"]
    assert [s.label for s in needed(stages, "BUILD")] == ["deps", "tools", "build"]


def test_waves_group_independent_stages() -> None:
    stages = needed(split(parse(MULTI)))
    assert [[s.label for s in wave] for wave in waves(stages)] == [["deps", "tools"], ["build"], ["4"]]


def test_unknown_target_lists_names() -> None:
    with pytest.raises(BuildError, match="target stage 'nope' could not be found") as info:
        target_stage(split(parse(MULTI)), "nope")
    assert "deps, tools, build, unrelated" in info.value.hint


def test_stage_name_rules() -> None:
    with pytest.raises(BuildError, match="duplicate stage name"):
        split(parse("FROM a AS x\nFROM b AS X\n"))
    with pytest.raises(BuildError, match="invalid stage name") as info:
        split(parse("FROM a AS 1x\n"))
    assert info.value.location.line == 1


def test_copy_from_index_and_future_stage() -> None:
    stages = split(parse("FROM a\nFROM b\nCOPY --from=0 /x /x\n"))
    assert stages[1].deps == {0}
    with pytest.raises(BuildError, match="current or a later stage") as info:
        split(parse("FROM a\nCOPY --from=1 /x /x\nFROM b\n"))
    assert info.value.location.line == 2


def test_later_stage_name_is_an_image() -> None:
    stages = split(parse("FROM a AS first\nCOPY --from=second /x /x\nFROM b AS second\n"))
    assert stages[0].images == ("second",) and stages[0].deps == frozenset()


def test_copy_from_expands_stage_args() -> None:
    stages = split(parse("ARG SRC=tools\nFROM a AS tools\nFROM b\nARG SRC\nCOPY --from=$SRC /x /x\n"))
    assert stages[1].deps == {0}


def test_empty_from_is_an_error() -> None:
    with pytest.raises(BuildError, match="empty image name") as info:
        split(parse("ARG IMG\nFROM $IMG\n"))
    assert info.value.location.line == 2


def test_platform_flag_expanded() -> None:
    stages = split(parse("FROM --platform=$BUILDPLATFORM golang AS b\n"))
    assert stages[0].platform and stages[0].platform.startswith("linux/")


def test_from_index_is_not_a_stage_reference() -> None:
    stages = split(parse("FROM a\nFROM 0\n"))
    assert stages[1].base_stage is None


def test_named_contexts() -> None:
    text = "FROM base AS one\nCOPY --from=assets /a /a\nFROM one\nCOPY --from=one /b /b\nCOPY --from=img:1 /c /c\n"
    stages = split(parse(text), named={"assets", "base", "one"})
    assert stages[0].contexts == ("base", "assets") and stages[0].images == ()
    assert stages[1].base_stage == 0 and stages[1].deps == {0}
    assert stages[1].images == ("img:1",) and stages[1].contexts == ()
