"""Build checks: BuildKit's Dockerfile lint rules that need no image, driven by ``# check=``.

``# check=skip=JSONArgsRecommended,StageNameCasing;error=true`` skips rules (``skip=all`` skips
every rule) and, with ``error=true``, turns the remaining findings into a BuildError. The rule
names are BuildKit's, so a Dockerfile's existing directive keeps working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from composer.engine.build.dockerfile import Dockerfile, Instruction
from composer.engine.build.expand import PLATFORM_ARGS, PROXY_ARGS
from composer.errors import BuildError, SourceLocation

_SECRET = re.compile(r"(?i)(^|_)(api_?key|auth|credentials?|passw(or)?d|pword|secret|token)(_|$)")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_SINGLE = ("CMD", "ENTRYPOINT", "HEALTHCHECK")


@dataclass(frozen=True, slots=True)
class Finding:
    """One check result: the rule's name, what is wrong and where."""

    rule: str
    message: str
    location: SourceLocation

    def __str__(self) -> str:
        return f"{self.location}: {self.rule}: {self.message}"


def options(dockerfile: Dockerfile) -> tuple[set[str], bool]:
    """The rules to skip (lower-case names, or ``{"all"}``) and whether findings are errors."""
    skip: set[str] = set()
    error = False
    for part in dockerfile.directives.get("check", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "skip":
            skip |= {name.strip().lower() for name in value.split(",") if name.strip()}
        elif key.strip().lower() == "error":
            error = value.strip().lower() == "true"
    return skip, error


def run(dockerfile: Dockerfile) -> list[Finding]:
    """Every finding of the rules the ``# check=`` directive keeps; raises when ``error=true``."""
    skip, error = options(dockerfile)
    if "all" in skip:
        return []
    findings = [f for f in _findings(dockerfile) if f.rule.lower() not in skip]
    if error and findings:
        first = findings[0]
        raise BuildError(f"{first.rule}: {first.message}", location=first.location,
                         hint=f"{len(findings)} check(s) failed; fix them or add the rule to '# check=skip='")
    return findings


def _findings(dockerfile: Dockerfile) -> list[Finding]:
    out: list[Finding] = []
    instructions = dockerfile.instructions
    out += _casing(instructions)
    meta: set[str] = set()
    stage: list[Instruction] = []
    for inst in instructions:
        if inst.keyword == "FROM":
            out += _stage(stage)
            stage = [inst]
            out += _from(inst, meta)
        elif stage:
            stage.append(inst)
        else:
            meta |= {name for name, _ in inst.pairs}
        out += _instruction(inst)
    out += _stage(stage)
    return out


def _casing(instructions: tuple[Instruction, ...]) -> list[Finding]:
    words = [inst.original.split(None, 1)[0] for inst in instructions]
    upper = sum(1 for w in words if w.isupper())
    if upper in (0, len(words)):
        return []
    majority = "upper" if upper * 2 >= len(words) else "lower"
    return [Finding("ConsistentInstructionCasing",
                    f"command '{word}' should match the case of the command majority ({majority}case)",
                    inst.location)
            for word, inst in zip(words, instructions)
            if (word.isupper()) != (majority == "upper")]


def _from(inst: Instruction, meta: set[str]) -> list[Finding]:
    out = []
    if len(inst.args) == 3:
        keyword, as_word, name = inst.original.split(None, 1)[0], inst.args[1], inst.args[2]
        if keyword.isupper() != as_word.isupper():
            out.append(Finding("FromAsCasing", f"'{as_word}' and '{keyword}' keywords' casing do not match",
                               inst.location))
        if name != name.lower():
            out.append(Finding("StageNameCasing", f"stage name '{name}' should be lowercase", inst.location))
        if name.lower() in ("scratch", "context"):
            out.append(Finding("ReservedStageName", f"'{name}' is reserved and should not be used as a stage name",
                               inst.location))
    platform = inst.flag("platform")
    if platform is not None and "$" not in platform:
        out.append(Finding("FromPlatformFlagConstDisallowed",
                           f"FROM --platform flag should not use constant value \"{platform}\"", inst.location))
    elif platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
        out.append(Finding("RedundantTargetPlatform", "setting platform to predefined $TARGETPLATFORM in FROM "
                           "is redundant as this is the default behavior", inst.location))
    known = meta | set(PLATFORM_ARGS) | set(PROXY_ARGS)
    for word in (inst.args[0], inst.flag("platform") or ""):
        for name in _VARIABLE.findall(word):
            if name not in known:
                out.append(Finding("UndefinedArgInFrom", f"FROM argument '{name}' is not declared", inst.location))
    return out


def _instruction(inst: Instruction) -> list[Finding]:
    rules = {
        "MaintainerDeprecated": inst.keyword == "MAINTAINER",
        "JSONArgsRecommended": inst.keyword in ("CMD", "ENTRYPOINT") and not inst.json and bool(inst.args),
        "LegacyKeyValueFormat": inst.keyword in ("ENV", "LABEL") and "=" not in inst.original.split(None, 2)[1],
    }
    messages = {
        "MaintainerDeprecated": "the MAINTAINER instruction is deprecated, use a label instead",
        "JSONArgsRecommended": f"JSON arguments recommended for {inst.keyword} to prevent "
                               "unintended behavior related to OS signals",
        "LegacyKeyValueFormat": f"'{inst.keyword} key=value' should be used instead of legacy "
                                f"'{inst.keyword} key value' format",
    }
    out = [Finding(rule, messages[rule], inst.location) for rule, hit in rules.items() if hit]
    if inst.keyword in ("ARG", "ENV"):
        out += [Finding("SecretsUsedInArgOrEnv", f"do not use ARG or ENV instructions for sensitive data "
                                                 f"({inst.keyword} \"{name}\")", inst.location)
                for name, _ in inst.pairs if _SECRET.search(name)]
    return out


def _stage(stage: list[Instruction]) -> list[Finding]:
    out = []
    absolute = False
    for inst in stage[1:]:
        if inst.keyword == "WORKDIR":
            path = inst.args[0]
            if not path.startswith(("/", "$")) and not absolute:
                out.append(Finding("WorkdirRelativePath", f"relative workdir '{path}' can have unexpected "
                                   "results if the base image changes", inst.location))
            absolute = absolute or path.startswith("/")
    for keyword in _SINGLE:
        repeated = [i for i in stage if i.keyword == keyword]
        out += [Finding("MultipleInstructionsDisallowed", f"multiple {keyword} instructions should not be used "
                        "in the same stage because only the last one will be used", i.location)
                for i in repeated[:-1]]
    return out
