"""``composer watch`` refuses clearly, before starting anything (fake runtime: nothing is created)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project_dir(tmp_path: Path, state_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPOSER_RUNTIME", "fake")
    return tmp_path


def test_no_watch_rules_is_a_usage_error(project_dir: Path, composer) -> None:
    (project_dir / "compose.yaml").write_text("services:\n  web:\n    image: busybox\n")
    result = composer("watch", cwd=project_dir)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "none of the selected services is configured for watch" in result.stderr
    assert "develop.watch" in result.stderr  # the hint


def test_bad_rule_names_service_and_fix(project_dir: Path, composer) -> None:
    (project_dir / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - {action: sync, path: ./src}\n")
    result = composer("watch", cwd=project_dir)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "services.web.develop.watch[0].target" in result.stderr and "absolute container path" in result.stderr


def test_missing_path_is_reported_before_up(project_dir: Path, composer) -> None:
    (project_dir / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n"
        "        - {action: sync, path: ./src, target: /app}\n")
    result = composer("watch", cwd=project_dir)
    assert result.returncode != 0 and "does not exist" in result.stderr
    assert "Container" not in result.stderr  # nothing was started


def test_up_help_lists_watch(composer) -> None:
    assert "--watch" in composer("up", "--help").stdout


def test_only_rule_on_a_bind_mount_leaves_nothing_to_watch(project_dir: Path, composer) -> None:
    """As Compose: a sync of a bind-mounted path is not watched (warned when watching starts); with
    nothing else to watch, watch refuses before anything starts."""
    (project_dir / "src").mkdir()
    (project_dir / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    volumes: [./src:/app]\n    develop:\n      watch:\n"
        "        - {action: sync, path: ./src, target: /app}\n")
    result = composer("watch", cwd=project_dir)
    assert result.returncode != 0 and "none of the selected services is configured for watch" in result.stderr
    assert "Container" not in result.stderr


def test_rebuild_without_build_names_the_rule(project_dir: Path, composer) -> None:
    (project_dir / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - {action: rebuild, path: .}\n")
    result = composer("watch", cwd=project_dir)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "services.web.develop.watch[0].action" in result.stderr
    assert "can't watch service \"web\" with action rebuild without a build context" in result.stderr
