"""Fast unit tests of each spec stage."""

from __future__ import annotations

import pytest

from composer.errors import InterpolationError, SpecSyntaxError
from composer.spec.canonical import parse_port, parse_volume
from composer.spec.dotenv import parse_dotenv
from composer.spec.dump import format_duration, parse_bytes, parse_duration, shell_split
from composer.spec.interpolate import interpolate, substitute
from composer.spec.merge import enforce_unicity, merge_mappings
from composer.spec.semantic import find_cycle
from composer.spec.source import parse_documents


def test_yaml_12_scalars_anchors_merge_keys_and_tags() -> None:
    text = "a: &x {b: yes, c: 010, d: 0x1f, e: 1.5, f: !reset null, g: ~}\nh:\n  <<: *x\n  b: 2\n"
    doc = parse_documents(text, "f.yaml")[0]
    assert doc.data["a"] == {"b": "yes", "c": 8, "d": 31, "e": 1.5, "g": None}
    assert doc.data["h"]["b"] == 2 and doc.data["h"]["c"] == 8
    assert ("a", "f") in doc.resets
    assert doc.positions[("h",)] == ("f.yaml", 2, 1)


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(SpecSyntaxError) as caught:
        parse_documents("services:\n  web:\n   bad: [1\n", "compose.yaml")
    assert caught.value.location.line is not None
    with pytest.raises(SpecSyntaxError, match="already defined"):
        parse_documents("a: 1\na: 2\n", "compose.yaml")


@pytest.mark.parametrize(("template", "expected"), [
    ("${A}", "a"), ("$A-x", "a-x"), ("${UNSET:-d}", "d"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""),
    ("${A:+r}", "r"), ("${UNSET+r}", ""), ("${UNSET:-${A}}", "a"), ("$$A", "$A"), ("${UNSET}", ""),
])
def test_substitute(template: str, expected: str) -> None:
    assert substitute(template, {"A": "a", "EMPTY": ""}.get) == expected


def test_required_variable_names_the_variable() -> None:
    with pytest.raises(InterpolationError, match="required variable DB is missing a value: need DB"):
        interpolate({"x": "${DB:?need DB}"}, {})


def test_interpolation_casts_typed_fields() -> None:
    result = interpolate({"services": {"w": {"tty": "${T}", "scale": "${N}"}}}, {"T": "true", "N": "3"})
    assert result["services"]["w"] == {"tty": True, "scale": 3}


def test_dotenv_forms() -> None:
    text = 'A=1\nexport B="x\\ny $A"\nC=\'lit $A\'\nD=plain # c\nE=${A}2\nF\nG="two\nlines"\nH=\n'
    assert parse_dotenv(text, lookup={"F": "f"}.get) == {
        "A": "1", "B": "x\ny 1", "C": "lit $A", "D": "plain", "E": "12", "F": "f", "G": "two\nlines", "H": ""}


def test_merge_rules() -> None:
    base = {"services": {"w": {"command": ["a", "b"], "environment": ["A=1", "B=2"], "ports": ["80"],
                               "depends_on": ["db"]}}}
    other = {"services": {"w": {"command": "c", "environment": {"B": 3}, "ports": ["81"],
                                "depends_on": {"db": {"condition": "service_healthy"}}}}}
    merged = enforce_unicity(merge_mappings(base, other, ()))
    service = merged["services"]["w"]
    assert service["command"] == "c"
    assert service["environment"] == ["A=1", "B=3"]
    assert service["ports"] == ["80", "81"]
    assert service["depends_on"]["db"] == {"condition": "service_healthy", "required": True}


def test_ports_and_volumes_long_forms() -> None:
    assert parse_port("127.0.0.1:8000-8001:80-81/udp", ()) == [
        {"mode": "ingress", "target": 80, "protocol": "udp", "host_ip": "127.0.0.1", "published": "8000"},
        {"mode": "ingress", "target": 81, "protocol": "udp", "host_ip": "127.0.0.1", "published": "8001"}]
    assert parse_volume("./d:/d:ro") == {"source": "./d", "target": "/d", "read_only": True, "type": "bind",
                                         "bind": {"create_host_path": True}}
    assert parse_volume("vol:/x") == {"source": "vol", "target": "/x", "type": "volume", "volume": {}}


def test_durations_bytes_commands() -> None:
    assert format_duration(parse_duration("90s")) == "1m30s"
    assert format_duration(parse_duration("1500ms")) == "1.5s"
    assert format_duration(parse_duration("1h")) == "1h0m0s"
    assert parse_bytes("512m") == 512 * 1024**2 and parse_bytes("1gb") == 1024**3
    assert shell_split('echo "a b" c') == ["echo", "a b", "c"]


def test_cycle_is_printed_in_order() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": []}) is None


def test_alias_bomb_is_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    with pytest.raises(SpecSyntaxError, match="too many nodes"):
        parse_documents("\n".join(lines) + "\n", "bomb.yaml")


def test_yaml_output_layout() -> None:
    from composer.spec.yamlout import to_yaml

    text = to_yaml({"name": "p", "services": {"svc10": {"image": "a"}, "svc2": {
        "command": ["sh", "-c", "a\n- b\n"], "labels": {"e": "", "n": "1", "y": "y", "h": "#x"},
        "ports": [{"target": 80, "mode": "ingress", "protocol": "tcp"}]}}})
    assert text.splitlines() == [
        "name: p", "services:", "  svc2:", "    command:", "      - sh", "      - -c", "      - |", "        a",
        "        - b", "    labels:", '      e: ""', "      h: '#x'", '      "n": "1"', '      "y": "y"', "    ports:",
        "      - mode: ingress", "        target: 80", "        protocol: tcp", "  svc10:", "    image: a"]
