"""From a BuildRequest to a BuildPlan: everything decided before the first step runs.

``prepare`` reads and parses the Dockerfile, runs the checks, resolves the global ARG scope,
splits the stages with the request's named contexts, picks the stages the target needs and
groups them into waves. ``step_label`` names steps as BuildKit's progress does
(``[build 2/4] RUN make``) and ``unused_args_warning`` gives Docker's warning about build args
no ARG consumed (call it after the build, once every needed stage declared its ARGs).
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.engine.build import checks, dockerfile, stages
from composer.engine.build.expand import BuildArgs, Lexer, Platform
from composer.engine.build.request import BuildRequest

#: Instructions that make a step of their own in progress output (BuildKit shows only these).
STEP_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """A parsed, checked build: stages needed by the target in order and in concurrent waves."""

    request: BuildRequest
    dockerfile: dockerfile.Dockerfile
    build_args: BuildArgs
    meta: dict[str, str]
    stages: tuple[stages.Stage, ...]
    needed: tuple[stages.Stage, ...]
    waves: tuple[tuple[stages.Stage, ...], ...]
    warnings: tuple[str, ...]


def prepare(request: BuildRequest, *, text: str | None = None, name: str | None = None,
            build_platform: Platform | None = None) -> BuildPlan:
    """Plan a build; ``text``/``name`` give the Dockerfile when it came from stdin."""
    return _plan(request, text, name, build_platform)[0]


def _plan(request: BuildRequest, text: str | None, name: str | None,
          build_platform: Platform | None) -> tuple[BuildPlan, list[checks.Finding]]:
    """The plan and the check findings it was made with (the Dockerfile parsed and checked once)."""
    if text is None:
        text, name = request.dockerfile_text()
    parsed = dockerfile.parse(text, name or "Dockerfile")
    findings = checks.run(parsed)
    target = Platform.parse(request.platform) if request.platform else None
    build_args = BuildArgs(request.build_args, build=build_platform, target=target)
    every = stages.split(parsed, build_args, named=[c.name for c in request.contexts])
    meta = build_args.meta_scope(stages.meta_args(parsed), Lexer(parsed.escape))
    needed = stages.needed(every, request.target)
    return BuildPlan(request, parsed, build_args, meta, tuple(every), tuple(needed),
                     tuple(tuple(wave) for wave in stages.waves(needed)),
                     (*parsed.warnings, *(str(f) for f in findings))), findings


def check(request: BuildRequest, *, text: str | None = None, name: str | None = None) -> list[checks.Finding]:
    """``build --check``: the Dockerfile planned (syntax, stages, target) and its check findings."""
    return _plan(request, text, name, None)[1]


def check_report(findings: list[checks.Finding]) -> str:
    """The findings as ``build --check`` reports them (BuildKit's layout)."""
    if not findings:
        return "Check complete, no warnings found."
    count = f"{len(findings)} warning{'s have' if len(findings) > 1 else ' has'}"
    lines = [f"Check complete, {count} been found!"]
    for finding in findings:
        lines += ["", f"WARNING: {finding.rule} - {finding.message}", str(finding.location)]
    return "\n".join(lines)


def stage_name(stage: stages.Stage) -> str:
    """``build`` for a named stage, ``stage-2`` for an unnamed one (BuildKit's naming)."""
    return stage.name or f"stage-{stage.index}"


def step_label(stage: stages.Stage, position: int) -> str:
    """The progress label of a stage's instruction at ``position`` (0 is its FROM)."""
    steps = [stage.instruction, *[i for i in stage.instructions if i.keyword in STEP_KEYWORDS]]
    inst = stage.instruction if position == 0 else stage.instructions[position - 1]
    number = next((n for n, step in enumerate(steps, 1) if step is inst), None)
    counter = f" {number}/{len(steps)}" if number is not None else ""
    return f"[{stage_name(stage)}{counter}] {inst.original}"


def unused_args_warning(plan: BuildPlan) -> str | None:
    """Docker's "build-args were not consumed" warning, or None."""
    unused = plan.build_args.unused()
    if not unused:
        return None
    return f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed"
