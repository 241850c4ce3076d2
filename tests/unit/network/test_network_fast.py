"""The typer-free ``network`` verbs: which lines they take, and how they read their flags."""

from __future__ import annotations

import pytest

from composer.cli import network_fast
from composer.errors import UsageError


@pytest.mark.parametrize("argv", [
    ["connect", "net", "box"], ["disconnect", "net", "box"], ["prune", "-f"], [],
    ["ls", "--help"], ["create", "-h"],
])
def test_lines_it_does_not_take_go_to_typer(argv):
    assert network_fast.main(argv) is None


def test_options_may_follow_the_arguments():
    from composer.cli.run_flags import parse_verb

    options, arguments = parse_verb(["a", "-f", "b", "--", "-c"], network_fast.TABLES["rm"], "network rm")
    assert options == {"force": True} and arguments == ["a", "b", "-c"]
    options, arguments = parse_verb(["--subnet=10.1.0.0/24", "n", "-o", "k=v", "--ipv6", "--subnet", "fd00::/64"],
                                    network_fast.TABLES["create"], "network create")
    assert options == {"subnet": ["10.1.0.0/24", "fd00::/64"], "opt": ["k=v"], "ipv6": True}
    assert arguments == ["n"]


def test_ls_lines_and_filters():
    from composer.network.model import Network

    nets = [Network(id=c * 64, name=name, bridge="b", subnet="10.0.0.0/24", gateway="10.0.0.1", created="now",
                    labels=labels) for c, name, labels in (("a", "front", {"team": "x"}), ("b", "back", {}))]
    lines = network_fast.ls_lines(nets, {})
    assert lines[:3] == ["NETWORK ID     NAME      DRIVER    SCOPE",  # docker's tabwriter: min 10, padding 3
                         "bbbbbbbbbbbb   back      bridge    local",  # by name, as docker's CLI sorts them
                         "aaaaaaaaaaaa   front     bridge    local"]
    assert [line.split()[1:] for line in lines[3:]] == [["host", "host", "local"], ["none", "null", "local"]]
    assert network_fast.ls_lines(nets, {"quiet": True, "filter": ["label=team=x"]}) == ["a" * 12]
    assert network_fast.ls_lines(nets, {"quiet": True, "no_trunc": True, "filter": ["name=ba"]}) == ["b" * 64]
    assert network_fast.ls_lines(nets, {"format": "json", "filter": ["id=bb"]})[0].startswith(
        '{"CreatedAt":"now","Driver":"bridge","ID":"bbbbbbbbbbbb","IPv4":"true"')
    with pytest.raises(UsageError, match="Invalid filter 'colour'"):
        network_fast.ls_lines(nets, {"filter": ["colour=red"]})
    assert network_fast.ls_lines(nets, {"format": "{{.Name}}", "filter": ["type=builtin"]}) == ["host", "none"]
    assert network_fast.ls_lines(nets, {"format": "{{.Name}}", "filter": ["name=^f.o"]}) == ["front"]
    for bad, words in (("type=x", "invalid filter: 'type'='x'"), ("dangling=x", "invalid value for filter 'dangling'")):
        with pytest.raises(UsageError, match=words):
            network_fast.ls_lines(nets, {"filter": [bad]})


def test_a_flag_error_exits_125_as_docker():
    with pytest.raises(UsageError, match="unknown flag: --bogus") as raised:
        network_fast.main(["create", "--bogus", "x"])
    assert raised.value.exit_code == 125


def test_created_at_reads_as_dockers():
    from composer.network.model import Network

    net = Network(id="a" * 64, name="n", bridge="b", subnet="10.0.0.0/24", gateway="10.0.0.1",
                  created="2026-11-23T20:26:53.000000000Z")
    assert network_fast.ls_row(net, 12)["CreatedAt"] == "2026-11-23 20:26:53 +0000 UTC"  # Go drops a zero fraction
    assert network_fast.go_time("2026-11-24T06:01:10.20028934Z") == "2026-11-24 06:01:10.20028934 +0000 UTC"
    assert network_fast.rfc3339_nano("2026-11-23T20:26:53.000000000Z") == "2026-11-23T20:26:53Z"
    assert network_fast.rfc3339_nano("2026-11-23T20:26:53.500000000Z") == "2026-11-23T20:26:53.5Z"


def test_the_fast_verbs_import_no_typer():
    import subprocess
    import sys

    code = ("import sys; import composer.cli.network_fast as f; f.pairs(['a=b'], '--label'); "
            "assert 'typer' not in sys.modules and 'click' not in sys.modules, 'typer imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_typer_ls_renders_go_templates_from_the_filtered_rows(monkeypatch):
    from typer.testing import CliRunner

    from composer.cli import networks
    from composer.cli.app import build_app
    from composer.network.model import Network

    nets = [Network(id=c * 64, name=name, bridge="b", subnet="10.0.0.0/24", gateway="10.0.0.1", created="now")
            for c, name in (("a", "front"), ("b", "back"))]
    monkeypatch.setattr(networks, "_manager", lambda: type("M", (), {"list": lambda self: nets})())
    app = build_app(["composer.cli.networks"])
    shown = CliRunner().invoke(app, ["network", "ls", "--no-trunc", "-f", "name=ba", "--format", "{{.ID}} {{.Name}}"])
    assert (shown.exit_code, shown.stdout) == (0, f"{'b' * 64} back\n")


def test_ls_and_inspect_formats_are_go_templates(capsys):
    """``--format`` goes through the Go template engine every other ``--format`` uses."""
    from composer.network.model import Network

    nets = [Network(id=c * 64, name=name, bridge="b", subnet="10.0.0.0/24", gateway="10.0.0.1", created="now",
                    labels=labels) for c, name, labels in (("a", "front", {"team": "x"}), ("b", "back", {}))]
    template = '{{.Name}}{{if eq .Name "front"}} {{upper .Driver}}{{end}}|{{join (split .Labels "=") ":"}}'
    custom = ["type=custom"]
    assert network_fast.ls_lines(nets, {"format": template, "filter": custom}) == ["back|", "front BRIDGE|team:x"]
    assert network_fast.ls_lines(nets, {"format": "table {{.Name}}\t{{.IPv6}}", "filter": custom}) == [
        "NAME      IPV6", "back      false", "front     false"]
    assert network_fast.ls_lines(nets, {"format": "{{.Name}}", "quiet": True, "filter": custom}) == ["back", "front"]
    with pytest.raises(UsageError, match="can't evaluate field Nope"):
        network_fast.ls_lines(nets, {"format": "{{.Nope}}"})
    found = [{"Name": "front", "IPAM": {"Config": [{"Subnet": "10.0.0.0/24"}]}, "Labels": {"a": "b"}}]
    assert network_fast.show_inspected(found, [], "{{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels.a}}{{.Labels.z}}") \
        == 0 and capsys.readouterr().out == "10.0.0.0/24 b<no value>\n"
    assert network_fast.show_inspected(found, [], "{{json .Labels}}\\t.") == 0
    assert capsys.readouterr().out == '{"a":"b"}\t.\n'
    assert network_fast.show_inspected(found, [], "{{.Nope}}") == 1  # docker's words, an empty line (its Flush)
    assert capsys.readouterr() == ("\n", 'template parsing error: template: :1:2: executing "" at <.Nope>: '
                                         'map has no entry for key "Nope"\n')


@pytest.mark.parametrize("subnets, ranges, gateways, words", [
    ([], [], ["10.98.0.1"], "every ip-range or gateway must have a corresponding subnet"),
    (["10.5.0.0/24"], [], ["10.5.0.1", "10.5.0.2"], "every ip-range or gateway must have a corresponding subnet"),
    (["bogus"], [], ["1.2.3.4"], "invalid subnet: invalid CIDR address: bogus"),
    (["10.5.0.0/24"], [], ["bogus"], "no matching subnet for gateway bogus"),
    (["10.5.0.0/24"], [], ["10.6.0.1"], "no matching subnet for gateway 10.6.0.1"),
    (["10.5.0.0/24"], ["10.6.0.0/25"], [], "no matching subnet for range 10.6.0.0/25"),
    (["10.5.0.0/24"], ["10.5.0.1"], [], "invalid CIDR address: 10.5.0.1"),
    (["10.5.0.0/24"], [], ["10.5.0.0/33"], "invalid CIDR address: 10.5.0.0/33"),
])
def test_ipam_flags_refused_as_docker_s_cli_refuses_them(subnets, ranges, gateways, words):
    from composer.errors import FlagError

    with pytest.raises(FlagError) as refused:
        network_fast.check_ipam(subnets, ranges, gateways)
    assert (refused.value.message, refused.value.exit_code) == (words, 1)
    network_fast.check_ipam(["10.5.0.0/24", "fd00::/64"], ["10.5.0.0/25"], ["10.5.0.9", "fd00::1"])
