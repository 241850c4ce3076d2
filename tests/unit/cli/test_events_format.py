"""``system events``' ``--format`` checked as docker's CLI checks it before any event: parsed,
then run on an empty ``events.Message`` (exit 64, ``Error parsing format: ...``); ``--since``
refused in the parser's words; a template then renders Actor as a struct, Attributes as a map."""

from __future__ import annotations

import pytest

from composer.cli import main as entry
from composer.cli.system_events import EMPTY_MESSAGE, render_event

FIELD = "Error parsing format: template: :1:{column}: executing \"\" at <{chain}>: can't evaluate field Nope in type {type}"


@pytest.mark.parametrize("argv, code, line", [
    (["--format", "{{"], 64, "Error parsing format: template: :1: unclosed action"),
    (["--format", "{{.Nope}}"], 64, FIELD.format(column=2, chain=".Nope", type="*events.Message")),
    (["--format", "{{.Actor.Nope}}"], 64, FIELD.format(column=8, chain=".Actor.Nope", type="events.Actor")),
    (["--since", "xyz", "--format", "{{"], 64, "Error parsing format: template: :1: unclosed action"),
    (["--until", "xyz"], 1, 'failed to parse value as time or duration: "xyz"'),
])
def test_refused_before_any_event(state_root, capsys, argv, code, line):
    with pytest.raises(SystemExit) as end:
        entry.main(["system", "events", *argv])
    assert (end.value.code, capsys.readouterr().err) == (code, line + "\n")


def test_a_missing_attribute_is_no_error():
    message = {**EMPTY_MESSAGE, "Type": "container", "Actor": {"ID": "abc", "Attributes": {"image": "busybox"}}}
    assert render_event(message, "{{.Type}} {{.Actor.ID}} {{.Actor.Attributes.image}} {{.Actor.Attributes.name}}") \
        == "container abc busybox <no value>"
