"""Service -> ContainerSpec and the com.docker.compose.* labels."""

from __future__ import annotations

from composer.engine import convert
from composer.engine import labels as L
from composer.engine.reconcile import config_hashes

FULL = """
services:
  web:
    image: busybox
    entrypoint: /bin/sh -c
    command: echo hi
    environment: {A: "1", UNSET: null}
    labels: {team: core, com.docker.compose.project: spoofed}
    ulimits: {nofile: {soft: 100, hard: 200}, nproc: 50}
    tmpfs: [/run]
    stop_grace_period: 3s
    stop_signal: SIGINT
    restart: on-failure:3
    healthcheck: {test: "true", interval: 2s, retries: 2, start_period: 1s}
    ports: ["127.0.0.1:8080:80/udp", "9000"]
    networks: {back: {aliases: [www], ipv4_address: 10.5.0.5, priority: 10}, default: {}}
    volumes: ["./src:/src:ro", "data:/data", "/anon"]
    deploy: {resources: {limits: {cpus: "0.5", memory: 64M}}}
    depends_on:
      db: {condition: service_healthy, restart: true}
  db:
    image: busybox
    network_mode: host
    mem_limit: 32m
    cpus: 0.25
networks:
  back: {ipam: {config: [{subnet: 10.5.0.0/16}]}}
volumes:
  data: {name: shared-data}
"""


def _spec(load, name="web", number=1):
    project = load(FULL)
    raw = project.to_dict()["services"][name]
    return project, convert.container_spec(project, project.services[name], raw, number=number,
                                           config_hash=config_hashes(project)[name], image_id="sha256:x")


def test_container_spec_fields(load):
    project, spec = _spec(load)
    assert spec.name == "demo-web-1" and spec.image == "busybox"
    assert spec.entrypoint == ("/bin/sh", "-c") and spec.command == ("echo", "hi")
    assert spec.env == ("A=1",)
    assert spec.ulimits == (("nofile", 100, 200), ("nproc", 50, 50))
    assert spec.stop_grace_period == 3.0 and spec.stop_signal == "SIGINT"
    assert (spec.restart.name, spec.restart.max_retries) == ("on-failure", 3)
    assert spec.healthcheck.test == ("CMD-SHELL", "true") and spec.healthcheck.interval == 2.0
    assert spec.healthcheck.retries == 2 and spec.healthcheck.start_period == 1.0
    assert [(p.target, p.published, p.host_ip, p.protocol) for p in spec.ports] == \
        [(80, "8080", "127.0.0.1", "udp"), (9000, "", "", "tcp")]
    assert spec.resources.nano_cpus == 500_000_000 and spec.resources.memory == 64 * 1024 * 1024


def test_mounts_use_real_volume_names(load):
    project, spec = _spec(load)
    by_target = {m.target: m for m in spec.mounts}
    assert by_target["/src"].type == "bind" and by_target["/src"].read_only
    assert by_target["/src"].source == project.working_dir + "/src"
    assert by_target["/data"].source == "shared-data"
    assert by_target["/anon"].type == "volume" and by_target["/anon"].source == ""
    assert by_target["/run"].type == "tmpfs"


def test_endpoints_by_priority_with_aliases(load):
    _, spec = _spec(load)
    assert [e.network for e in spec.endpoints] == ["demo_back", "demo_default"]
    assert spec.endpoints[0].aliases == ("web", "demo-web-1", "www")
    assert spec.endpoints[0].ipv4_address == "10.5.0.5"


def test_host_network_and_legacy_limits(load):
    _, spec = _spec(load, "db")
    assert spec.network_mode == "host" and spec.endpoints == ()
    assert spec.resources.memory == 32 * 1024 * 1024 and spec.resources.nano_cpus == 250_000_000


def test_compose_labels_win_over_the_services_own(load):
    project, spec = _spec(load)
    labels = spec.labels
    assert labels["team"] == "core"
    assert labels[L.PROJECT] == "demo" and labels[L.SERVICE] == "web"
    assert labels[L.CONTAINER_NUMBER] == "1" and labels[L.ONEOFF] == "False"
    assert labels[L.DEPENDS_ON] == "db:service_healthy:true"
    assert labels[L.IMAGE] == "sha256:x" and len(labels[L.CONFIG_HASH]) == 64
    assert labels[L.WORKING_DIR] == project.working_dir
    assert labels[L.CONFIG_FILES] == project.working_dir + "/compose.yaml"
    assert labels[L.VERSION]


def test_network_and_volume_specs_are_labelled(load):
    project = load(FULL)
    network = convert.network_spec(project, "back")
    assert network.name == "demo_back" and network.labels[L.NETWORK] == "back"
    assert network.labels[L.PROJECT] == "demo" and network.ipam["config"][0]["subnet"] == "10.5.0.0/16"
    volume = convert.volume_spec(project, "data")
    assert volume.name == "shared-data" and volume.labels[L.VOLUME] == "data"
    bare = project._replace(resource_hashes={})  # a Project made without its hashes: computed alike
    assert convert.network_spec(bare, "back").labels[L.CONFIG_HASH] == network.labels[L.CONFIG_HASH]
    assert convert.volume_spec(bare, "data").labels[L.CONFIG_HASH] == volume.labels[L.CONFIG_HASH]


def test_depends_on_label_round_trip():
    assert L.parse_depends_on("db:service_healthy:true,cache:service_started:false") == \
        {"db": ("service_healthy", True), "cache": ("service_started", False)}
    assert L.parse_depends_on("legacy") == {"legacy": ("service_started", True)}
    assert L.parse_depends_on("") == {}


def test_config_hash_ignores_scale(load):
    one = config_hashes(load("services:\n  w: {image: busybox, deploy: {replicas: 2}}\n"))
    three = config_hashes(load("services:\n  w: {image: busybox, deploy: {replicas: 3}}\n"))
    changed = config_hashes(load("services:\n  w: {image: busybox, environment: [A=1]}\n"))
    assert one == three and one != changed


def test_start_interval_needs_start_period(load):
    import pytest

    from composer.errors import PlanError

    project = load("services:\n  w:\n    image: busybox\n    healthcheck: {test: [CMD, 'true'], start_interval: 1s}\n")
    raw = project.to_dict()["services"]["w"]
    with pytest.raises(PlanError, match="start_interval requires healthcheck.start_period") as caught:
        convert.container_spec(project, project.services["w"], raw, number=1, config_hash="", image_id="")
    assert str(caught.value.location) == "services.w.healthcheck"


def test_secrets_and_configs_become_mounts(load):
    import pytest

    from composer.errors import PlanError

    text = """
services:
  w:
    image: busybox
    secrets: [pw, {source: tok, target: token.txt, mode: 0400}]
    configs: [{source: cfg, target: /etc/app.conf}, inline]
secrets:
  pw: {file: ./pw.txt}
  tok: {environment: TOKEN}
configs:
  cfg: {file: ./pw.txt}
  inline: {content: "hello"}
"""
    project = load(text)
    project = project._replace(environment={"TOKEN": "abc"})
    raw = project.to_dict()["services"]["w"]
    spec = convert.container_spec(project, project.services["w"], raw, number=1, config_hash="", image_id="")
    by_target = {m.target: m for m in spec.mounts}
    assert by_target["/run/secrets/pw"].type == "bind" and by_target["/run/secrets/pw"].read_only
    assert by_target["/run/secrets/pw"].source.endswith("/demo/pw.txt")
    assert by_target["/run/secrets/token.txt"].options == {"content": "abc", "mode": "0400"}
    assert by_target["/etc/app.conf"].type == "bind" and by_target["/inline"].options == {"content": "hello"}
    empty = project._replace(environment={})
    with pytest.raises(PlanError, match="secret 'tok' has no content"):
        convert.container_spec(empty, empty.services["w"], raw, number=1, config_hash="", image_id="")


def test_more_create_fields(load):
    project = load("""
services:
  w:
    image: busybox
    expose: ["80", "53/udp"]
    oom_score_adj: 200
    cgroup_parent: /mine
    logging: {driver: json-file, options: {max-size: 10m}}
""")
    raw = project.to_dict()["services"]["w"]
    spec = convert.container_spec(project, project.services["w"], raw, number=1, config_hash="", image_id="")
    assert spec.expose == ("80/tcp", "53/udp") and spec.oom_score_adj == 200 and spec.cgroup_parent == "/mine"
    assert spec.log_driver == "json-file" and spec.log_options == {"max-size": "10m"}


def test_stop_signal_left_to_the_image_when_the_service_sets_none(load):
    _, spec = _spec(load, "db")
    assert spec.stop_signal == ""  # the runtime takes the image's STOPSIGNAL (nginx SIGQUIT, postgres SIGINT)
