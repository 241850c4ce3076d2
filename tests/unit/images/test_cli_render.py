"""Docker-style presentation helpers of the image CLI."""

from composer.cli.images import human_size, render_inspect
from composer.units import human_duration


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 4_260_000, 77_900_000, 1_234_000_000)] == \
        ["0B", "999B", "1kB", "4.26MB", "77.9MB", "1.23GB"]


def test_durations() -> None:
    assert human_duration(0.5) == "Less than a second"
    assert human_duration(30) == "30 seconds"
    assert human_duration(65) == "About a minute"
    assert human_duration(3600) == "About an hour"
    assert human_duration(5 * 3600) == "5 hours"
    assert human_duration(3 * 86400) == "3 days"
    assert human_duration(70 * 86400) == "2 months"


def test_durations_truncate_minutes_and_round_hours_as_docker() -> None:
    """go-units: ``int(d.Minutes())`` (1m59s is still "About a minute", never "1 minutes"),
    ``int(d.Hours() + 0.5)`` (1h31m is "2 hours"), days and weeks from the rounded hours."""
    assert [human_duration(s) for s in (1.5, 59.9, 119, 120, 3599, 5399, 5401, 47.6 * 3600)] == [
        "1 second", "59 seconds", "About a minute", "2 minutes", "59 minutes", "About an hour", "2 hours",
        "2 days"]
    assert [human_duration(d * 86400) for d in (13.9, 14, 59, 60, 729, 730)] == [
        "13 days", "2 weeks", "8 weeks", "2 months", "24 months", "2 years"]


def test_templates() -> None:
    data = {"Id": "sha256:x", "Config": {"Cmd": ["sh", "-c"], "Entrypoint": None, "Labels": {"a": "b"}}}
    assert render_inspect("{{.Id}} {{.Config.Cmd}}", data) == "sha256:x [sh -c]"
    assert render_inspect("{{.Config.Entrypoint}}|{{.Config.Labels}}", data) == "[]|map[a:b]"
    assert render_inspect("{{json .Config.Labels}}", data) == '{"a":"b"}'


def test_inspect_templates_print_go_nils_as_docker() -> None:
    """A nil slice prints ``[]`` and a nil map ``map[]``, both ``null`` to ``json``; an empty list
    stays ``[]``; the struct's omitempty fields exist; an unknown top-level field is an error."""
    import pytest

    from composer.cli.gotemplate import TemplateError

    data = {"Id": "x", "RepoDigests": [], "Config": {"Env": None, "Labels": None}, "ContainerConfig": {"Cmd": None}}
    template = ("{{.Config.Env}}|{{json .Config.Env}}|{{.Config.Labels}}|{{json .Config.Labels}}|{{.RepoDigests}}|"
                "{{json .RepoDigests}}|{{.Config.Shell}}|{{json .Config.ExposedPorts}}|{{.ContainerConfig.Cmd}}|"
                "{{.Variant}}|{{json .Config}}")
    assert render_inspect(template, data) == (
        '[]|null|map[]|null|[]|[]|[]|null|[]||{"Env":null,"Labels":null}')
    with pytest.raises(TemplateError):
        render_inspect("{{.Nope}}", data)


def test_listing_templates_are_go_templates_with_dockers_titles(capsys) -> None:
    """``image ls``/``history`` ``--format``: the Go template engine; ``table TEMPLATE`` prints
    docker's column titles first."""
    from composer.cli.images import _output

    records = [{"ID": "abc", "Repository": "busybox", "Tag": "latest", "CreatedSince": "2 days"},
               {"ID": "def", "Repository": "alpine", "Tag": "3", "CreatedSince": "3 days"}]
    columns, headers = ["Repository", "Tag", "ID", "CreatedSince"], {"ID": "IMAGE ID", "CreatedSince": "CREATED"}
    _output(records, "table {{.Repository}}:{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}", columns, headers)
    _output(records, '{{if eq .Tag "3"}}{{upper .Repository}}{{end}}', columns, headers)
    assert capsys.readouterr().out.splitlines() == [
        "REPOSITORY:TAG   IMAGE ID   CREATED", "busybox:latest   abc        2 days", "alpine:3         def        3 days",
        "", "ALPINE"]


def test_json_is_written_as_gos_encoder() -> None:
    from composer.cli.gotemplate import go_json

    assert go_json({"Tag": "<none>", "L": "a&b é"}) == '{"Tag":"\\u003cnone\\u003e","L":"a\\u0026b é"}'
    assert go_json([{"A": None}], indent=4) == '[\n    {\n        "A": null\n    }\n]'
