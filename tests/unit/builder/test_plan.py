"""Build plans: parse + checks + stages for a request, step labels, the unused-args warning."""

from pathlib import Path

import pytest

from composer.engine.build.expand import StageArgs
from composer.engine.build.instructions import StageState
from composer.engine.build.plan import prepare, step_label, unused_args_warning
from composer.engine.build.request import BuildRequest
from composer.errors import BuildError

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS deps
WORKDIR /deps
ENV A=1
RUN echo deps
FROM deps AS build
ARG VERSION
COPY . /src
RUN make
FROM alpine AS docs
FROM scratch
COPY --from=build /out /out
CMD run
"""


@pytest.fixture
def request_for(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)

    def make(**options) -> BuildRequest:
        return BuildRequest(context=str(tmp_path), **options)
    return make


def test_prepare(request_for) -> None:
    plan = prepare(request_for(build_args={"BASE": "debian", "VERSION": "2", "EXTRA": "x"}))
    assert [s.label for s in plan.needed] == ["deps", "build", "3"]
    assert [[s.label for s in wave] for wave in plan.waves] == [["deps"], ["build"], ["3"]]
    assert plan.stages[0].base == "debian" and plan.meta["BASE"] == "debian"
    assert any("syntax" in w for w in plan.warnings)
    assert any("JSONArgsRecommended" in w for w in plan.warnings)


def test_target_and_platform(request_for) -> None:
    plan = prepare(request_for(target="deps", platform="linux/arm64"))
    assert [s.label for s in plan.needed] == ["deps"]
    assert plan.build_args.automatic["TARGETARCH"] == "arm64"
    with pytest.raises(BuildError, match="could not be found"):
        prepare(request_for(target="nope"))


def test_stdin_dockerfile(tmp_path: Path) -> None:
    plan = prepare(BuildRequest(context="-"), text="FROM busybox\nUSER nobody\n", name="-")
    assert plan.dockerfile.file == "-" and len(plan.needed) == 1


def test_step_labels(request_for) -> None:
    plan = prepare(request_for())
    deps, build, final = plan.needed
    assert step_label(deps, 0) == "[deps 1/3] FROM $BASE AS deps"
    assert step_label(deps, 1) == "[deps 2/3] WORKDIR /deps"
    assert step_label(deps, 2) == "[deps] ENV A=1"
    assert step_label(deps, 3) == "[deps 3/3] RUN echo deps"
    assert step_label(final, 1) == "[stage-3 2/2] COPY --from=build /out /out"


def test_unused_args_warning_after_the_stages_declared_theirs(request_for) -> None:
    plan = prepare(request_for(build_args={"VERSION": "2", "EXTRA": "x"}))
    for stage in plan.needed:
        state = StageState.from_image(None, StageArgs(plan.build_args, plan.meta))
        for inst in stage.instructions:
            if inst.keyword == "ARG":
                state.dispatch(inst)
    assert unused_args_warning(plan) == "[Warning] One or more build-args [EXTRA] were not consumed"
    assert unused_args_warning(prepare(request_for())) is None


def test_check_report_layout(tmp_path) -> None:
    from composer.engine.build.plan import check, check_report
    from composer.engine.build.request import from_flags

    request = from_flags(str(tmp_path))
    findings = check(request, text="FROM busybox\nCMD echo hi\nMAINTAINER me\n", name="Dockerfile")
    assert [f.rule for f in findings] == ["JSONArgsRecommended", "MaintainerDeprecated"]
    report = check_report(findings).splitlines()
    assert report[0] == "Check complete, 2 warnings have been found!"
    assert report[2].startswith("WARNING: JSONArgsRecommended - ") and report[3] == "Dockerfile:2"
    assert check_report([]) == "Check complete, no warnings found."
