"""Go templates as docker's --format executes them (expected outputs are docker 28's / Go's)."""

from __future__ import annotations

import pytest

from composer.cli.gotemplate import TemplateError, render
from composer.cli.psformat import render as render_rows
from composer.cli.system_fast import human_size

INSPECT = {"Name": "/web", "State": {"Status": "running", "Running": True, "Pid": 42, "ExitCode": 0},
           "Config": {"Labels": {"b": "2", "a": "1"}, "Env": ["A=1", "B=2"], "Cmd": ["sleep", "60"]},
           "Mounts": [{"Destination": "/data"}, {"Destination": "/logs"}], "HostConfig": {"PidsLimit": None},
           "NetworkSettings": {"IPAddress": "", "Networks": {"bridge": {"IPAddress": "172.17.0.2"},
                                                             "back": {"IPAddress": "10.0.0.3"}}}}


@pytest.mark.parametrize(("template", "expected"), [
    ("{{.Name}}", "/web"),
    ("{{.State.Status}} {{.State.Running}} {{.State.Pid}}", "running true 42"),
    ("{{json .State}}", '{"Status":"running","Running":true,"Pid":42,"ExitCode":0}'),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),                    # Go prints maps with sorted keys
    ("{{.Config.Env}}", "[A=1 B=2]"),
    ("{{.HostConfig.PidsLimit}}", "<nil>"),
    ("{{.Config.Nope}}", "<no value>"),
    ("{{index .Config.Labels \"a\"}}", "1"),
    ("{{index .Config.Labels \"zz\"}}", ""),
    ("{{range .Mounts}}{{.Destination}} {{end}}", "/data /logs "),
    ("{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}",
     "back=10.0.0.3;bridge=172.17.0.2;"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "10.0.0.3172.17.0.2"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if eq .State.Status \"exited\"}}x{{else if eq .State.Status \"running\"}}r{{end}}", "r"),
    ("{{with .State}}{{.Pid}}{{end}}", "42"),
    ("{{range .Nope}}x{{else}}none{{end}}", "none"),
    ("{{join .Config.Cmd \" \"}}", "sleep 60"),
    ("{{.Name | upper}} {{lower \"AB\"}} {{title \"ab\"}}", "/WEB ab Ab"),
    ("{{len .Mounts}} {{(index .Mounts 1).Destination}}", "2 /logs"),
    ("{{$n := .Name}}{{$n}}", "/web"),
    ("{{printf \"%s:%d\" .Name .State.Pid}}", "/web:42"),
    ("{{range .Mounts -}} [{{.Destination}}] {{- end}}", "[/data][/logs]"),
    ("{{/* a comment */}}ok", "ok"),
])
def test_go_template(template, expected):
    assert render(template, INSPECT) == expected


@pytest.mark.parametrize("template", ["{{if .A}}x", "{{end}}", "{{.A))}}", "{{nofunc .A}}", "{{$x}}"])
def test_bad_templates_are_usage_errors(template):
    with pytest.raises(TemplateError):
        render(template, INSPECT)


def test_table_columns_as_docker_tabwriter():
    rows = [{"ID": "0123456789ab", "Image": "busybox", "Names": "a"}]
    lines = render_rows(rows, "table {{.ID}}\t{{.Image}}\t{{.Names}}")
    # docker: minimum cell width 10, 3 spaces of padding, the last column unpadded
    assert lines == ["CONTAINER ID   IMAGE     NAMES", "0123456789ab   busybox   a"]


def test_ps_json_and_label_method():
    rows = [{"ID": "abc", "Labels": "k=v", "Label": lambda key: {"k": "v"}.get(key, "")}]
    assert render_rows(rows, "json") == ['{"ID":"abc","Labels":"k=v"}']
    assert render_rows(rows, '{{.Label "k"}}|{{.Label "x"}}') == ["v|"]


@pytest.mark.parametrize(("size", "text"), [(0, "0B"), (999, "999B"), (1000, "1kB"), (4261000, "4.261MB"),
                                            (12345678901, "12.35GB")])
def test_human_size_is_docker_units(size, text):
    assert human_size(size) == text
