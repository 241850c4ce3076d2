"""The typer-free ``config`` path behaves exactly as the typer path, global options included, and its
output cache is never stale (keyed on the command line and environment, checked against every file read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.cli import main as cli_main
from composer.cli.project import _global_options

FILES = {
    "compose.yaml": "services:\n  web:\n    image: ${IMG:-nginx}\n    env_file: [app.env]\n",
    "sub/extra.yaml": "services:\n  extra:\n    image: e\n    profiles: [dbg]\n    build: ./ctx\n",
    "app.env": "A=1\n",
    "alt.env": "IMG=from-alt\n",
}
ARGVS = [
    ["-f", "compose.yaml", "-f", "sub/extra.yaml", "config", "--format", "json"],
    ["--file=compose.yaml", "--file", "sub/extra.yaml", "--profile", "dbg", "config", "--services"],
    ["-p", "other", "--env-file", "alt.env", "config"],
    ["--project-directory", "./sub/", "-f", "compose.yaml", "config", "--images"],
    ["--project-name=x", "--profile=dbg", "-f", "compose.yaml", "-f", "sub/extra.yaml", "config", "--hash", "*"],
    ["-p", "Bad Name", "config"],
    ["-f", "missing.yaml", "config"],
    ["--ansi", "never", "--progress", "plain", "config"],  # (one parser of global options: compose_fast's)
]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) for a in ARGVS])
def test_global_options_before_config_match_the_typer_path(argv: list[str], project: Path, cli,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert _global_options(argv) is not None, "this command line must take the fast path"
    fast = cli(*argv, cwd=project)
    with monkeypatch.context() as patch:
        patch.setattr(cli_main, "run_fast_path", lambda _argv: None)
        slow = cli(*argv, cwd=project)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)


@pytest.mark.parametrize("argv", [["-fcompose.yaml", "config"], ["-p=x", "config"],
                                  ["-f", "compose.yaml", "config", "-f", "x"], ["-f"]])
def test_unknown_global_forms_are_left_to_typer(argv: list[str]) -> None:
    parsed = _global_options(argv)
    assert parsed is None or parsed[1] == ["-f", "x"]


def test_cache_never_serves_stale_output(project: Path, cli, state_root: Path) -> None:
    first = cli("config", "--format", "json", cwd=project)
    assert '"nginx"' in first.stdout and '"A": "1"' in first.stdout
    assert list((state_root / "cache" / "config").iterdir()), "the output was cached"
    assert cli("config", "--format", "json", cwd=project).stdout == first.stdout  # served from the cache
    (project / "app.env").write_text("A=2\n")  # a file read on the way changed
    assert '"A": "2"' in cli("config", "--format", "json", cwd=project).stdout
    (project / ".env").write_text("IMG=from-dotenv\n")  # a file that was absent appeared
    assert '"from-dotenv"' in cli("config", "--format", "json", cwd=project).stdout
    assert '"from-env"' in cli("config", "--format", "json", cwd=project, env={"IMG": "from-env"}).stdout
    (project / "compose.override.yaml").write_text("services:\n  web:\n    labels: {o: v}\n")
    assert '"o": "v"' in cli("config", "--format", "json", cwd=project).stdout
    assert "web" in cli("config", "--services", cwd=project / "sub").stdout.split()  # found in the parent
    (project / "sub" / "compose.yaml").write_text("services:\n  nested:\n    image: n\n")
    assert cli("config", "--services", cwd=project / "sub").stdout.split() == ["nested"]
