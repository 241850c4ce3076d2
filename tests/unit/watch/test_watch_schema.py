"""The JSON schema's ``develop`` section: bad watch rules are located errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SchemaError
from composer.spec.loader import ProjectOptions, load_model

HEAD = "services:\n  api:\n    image: x\n    develop:\n"


def _load(directory: Path, develop: str):
    (directory / "compose.yaml").write_text(HEAD + develop)
    return load_model(ProjectOptions(working_dir=str(directory), environment={}))


@pytest.mark.parametrize("develop, line, key, message", [
    ("      watch:\n        - action: syncc\n          path: ./src\n", 6, "watch[0].action",
     "'syncc' is not one of the allowed values"),
    ("      watch:\n        - path: ./src\n          target: /app\n", 6, "watch[0]", "'action' is a required property"),
    ("      watch:\n        - action: rebuild\n", 6, "watch[0]", "'path' is a required property"),
    ("      watch:\n        - action: sync\n          path: ./src\n          ignored: [x]\n", 8,
     "watch[0].ignored", "'ignored' is not allowed"),
    ("      watch:\n        action: sync\n", 5, "watch", "must be a list"),
    ("      watch:\n        - action: sync\n          path: [src]\n", 7, "watch[0].path", "must be a string"),
    ("      watch:\n        - action: sync\n          path: src\n          ignore: {a: 1}\n", 8,
     "watch[0].ignore", "must be a string or list"),
    ("      watch:\n        - action: sync\n          path: src\n          initial_sync: 3\n", 8,
     "watch[0].initial_sync", "must be a boolean or string"),
    ("      watch:\n        - action: sync+exec\n          path: src\n          exec: {cmd: x}\n", 8,
     "watch[0].exec", "'command' is a required property"),
    ("      watches: []\n", 5, "watches", "'watches' is not allowed"),
])
def test_bad_watch_rules_name_file_line_and_key(state_root: Path, tmp_path: Path, develop: str, line: int,
                                                key: str, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        _load(tmp_path, develop)
    error = caught.value
    assert message in error.message
    assert error.location.file == str(tmp_path / "compose.yaml")
    assert error.location.line == line
    assert str(error).find(f"services.api.develop.{key}") >= 0
    assert error.hint


def test_every_documented_field_is_accepted(state_root: Path, tmp_path: Path) -> None:
    develop = ("      x-note: kept\n      watch:\n"
               "        - {action: sync, path: ./src, target: /app, ignore: '*.pyc', include: ['*.py'],\n"
               "           initial_sync: true, x-mine: 1}\n"
               "        - {action: sync+exec, path: ./src, target: /app,\n"
               "           exec: {command: [kill, -HUP, '1'], user: root, privileged: false,\n"
               "                  working_dir: /app, environment: {A: 1}}}\n"
               "        - {action: sync+restart, path: ./conf, target: /etc/app}\n"
               "        - {action: rebuild, path: ./Dockerfile}\n"
               "        - {action: restart, path: ./flags}\n")
    model = _load(tmp_path, develop).model
    assert [rule["action"] for rule in model["services"]["api"]["develop"]["watch"]] == [
        "sync", "sync+exec", "sync+restart", "rebuild", "restart"]


def test_an_empty_develop_is_accepted(state_root: Path, tmp_path: Path) -> None:
    _load(tmp_path, "      watch: []\n")
