"""Build stages: splitting a Dockerfile at FROM, naming, ``--target`` and the stage graph.

A stage depends on an earlier stage when its FROM names it, or a ``COPY --from=`` or a
``RUN --mount=...,from=`` names it (by name or index). A name that is no earlier stage is an
image reference. ``needed`` gives the stages a target needs in build order, ``waves`` groups them
into sets that may be built concurrently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Mapping, Sequence

from composer.engine.build.dockerfile import Dockerfile, Instruction
from composer.engine.build.expand import BuildArgs, Lexer
from composer.engine.build.instructions import parse_mount
from composer.errors import BuildError

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class Stage:
    """One ``FROM ... [AS name]`` and its instructions.

    ``base`` is the expanded FROM word; ``base_stage`` the index of the stage it builds on (None
    for an image or ``scratch``); ``deps`` every earlier stage it needs; ``images`` other images it
    reads with ``--from``; ``contexts`` the named build contexts it reads (a FROM naming one
    is listed there too, with ``base_stage`` None).
    """

    index: int
    name: str | None
    base: str
    platform: str | None
    instruction: Instruction
    instructions: tuple[Instruction, ...]
    base_stage: int | None = None
    deps: frozenset[int] = frozenset()
    images: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    declared_args: tuple[tuple[str, str | None], ...] = field(default=())

    @property
    def label(self) -> str:
        """How progress output names the stage: its name or its index."""
        return self.name or str(self.index)


def meta_args(dockerfile: Dockerfile) -> list[tuple[str, str | None]]:
    """The ARG declarations before the first FROM."""
    out: list[tuple[str, str | None]] = []
    for inst in dockerfile.instructions:
        if inst.keyword == "FROM":
            break
        out.extend(inst.pairs)
    return out


def split(dockerfile: Dockerfile, build_args: BuildArgs | None = None,
          named: Collection[str] = ()) -> list[Stage]:
    """The stages of a Dockerfile, with FROM expanded against the global ARG scope.

    ``named`` are the names of additional build contexts: a ``--from`` or FROM naming one (and
    no earlier stage) reads that context instead of an image.
    """
    build_args = build_args or BuildArgs()
    lexer = Lexer(dockerfile.escape)
    scope = build_args.meta_scope(meta_args(dockerfile), lexer)
    groups: list[list[Instruction]] = []
    for inst in dockerfile.instructions:
        if inst.keyword == "FROM":
            groups.append([inst])
        elif groups:
            groups[-1].append(inst)
    stages: list[Stage] = []
    for index, group in enumerate(groups):
        stages.append(_stage(index, group, stages, scope, lexer, frozenset(named)))
    return stages


def _stage(index: int, group: list[Instruction], earlier: list[Stage], scope: Mapping[str, str],
           lexer: Lexer, named: frozenset[str]) -> Stage:
    head = group[0]
    try:
        base = lexer.expand(head.args[0], scope)
        platform = head.flag("platform")
        platform = lexer.expand(platform, scope) if platform is not None else None
    except BuildError as error:
        raise BuildError(f"FROM: {error.message}", location=head.location) from None
    if not base:
        raise BuildError(f"FROM {head.args[0]!r} expands to an empty image name", location=head.location,
                         hint="give the ARG it uses a default or pass --build-arg")
    name = head.args[2].lower() if len(head.args) == 3 else None
    if name is not None:
        if not _STAGE_NAME.match(name):
            raise BuildError(f"invalid stage name {head.args[2]!r}", location=head.location,
                             hint="names start with a letter: letters, digits, '.', '_', '-'")
        if any(s.name == name for s in earlier):
            raise BuildError(f"duplicate stage name {name!r}", location=head.location)
    base_stage = None if base.isdigit() else _find(base.lower(), earlier)
    local = _local_scope(group, scope, lexer)
    deps, images, contexts = set(), [], []
    if base_stage is not None:
        deps.add(base_stage)
    elif base in named:
        contexts.append(base)
    for inst in group[1:]:
        for source in _from_refs(inst, local, lexer):
            found = _find(source.lower(), earlier)
            if found is None and source.isdigit():
                raise BuildError(f"--from={source} refers to the current or a later stage", location=inst.location,
                                 hint=f"earlier stages are 0 to {index - 1}" if index else "there is no earlier stage")
            if found is not None:
                deps.add(found)
            else:
                (contexts if source in named else images).append(source)
    args = tuple(p for inst in group if inst.keyword == "ARG" for p in inst.pairs)
    return Stage(index, name, base, platform, head, tuple(group[1:]), base_stage, frozenset(deps),
                 tuple(images), tuple(contexts), args)


def _find(ref: str, earlier: Sequence[Stage]) -> int | None:
    if ref.isdigit():
        number = int(ref)
        return number if number < len(earlier) else None
    for stage in earlier:
        if stage.name == ref:
            return stage.index
    return None


def _local_scope(group: list[Instruction], scope: Mapping[str, str], lexer: Lexer) -> dict[str, str]:
    """Global args re-declared in the stage plus its own ARG defaults (for expanding --from)."""
    local: dict[str, str] = {}
    for inst in group[1:]:
        if inst.keyword == "ARG":
            for key, raw in inst.pairs:
                if raw is None and key in scope:
                    local[key] = scope[key]
                elif raw is not None:
                    local[key] = lexer.expand(raw, local)
    return local


def _from_refs(inst: Instruction, scope: Mapping[str, str], lexer: Lexer) -> list[str]:
    """The stage/image names an instruction reads from (COPY --from, RUN --mount from=)."""
    refs = []
    if inst.keyword == "COPY" and inst.flag("from"):
        refs.append(lexer.expand(inst.flag("from") or "", scope))
    if inst.keyword == "RUN":
        for text in inst.flag_all("mount"):
            try:
                mount = parse_mount(lexer.expand(text, scope))
            except BuildError as error:
                raise BuildError(f"RUN --mount: {error.message}", location=inst.location,
                                 hint=error.hint) from None
            if mount.get("from"):
                refs.append(mount["from"])
    return refs


def target_stage(stages: Sequence[Stage], target: str | None) -> Stage:
    """The stage ``--target`` names (the last stage when None)."""
    if target is None:
        return stages[-1]
    for stage in stages:
        if stage.name == target.lower():
            return stage
    names = ", ".join(s.name for s in stages if s.name) or "none (name stages with FROM ... AS <name>)"
    raise BuildError(f"target stage {target!r} could not be found", hint=f"stage names: {names}")


def needed(stages: Sequence[Stage], target: str | None = None) -> list[Stage]:
    """The stages the target needs, itself included, in Dockerfile order (others are skipped)."""
    goal = target_stage(stages, target)
    keep, todo = set(), [goal.index]
    while todo:
        index = todo.pop()
        if index not in keep:
            keep.add(index)
            todo.extend(stages[index].deps)
    return [s for s in stages if s.index in keep]


def waves(stages: Sequence[Stage]) -> list[list[Stage]]:
    """The stages grouped into waves: each wave depends only on earlier waves (run concurrently)."""
    level: dict[int, int] = {}
    for stage in stages:
        level[stage.index] = 1 + max((level[d] for d in stage.deps if d in level), default=-1)
    out: list[list[Stage]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for stage in stages:
        out[level[stage.index]].append(stage)
    return out
