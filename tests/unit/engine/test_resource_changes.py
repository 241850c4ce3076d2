"""Networks and volumes carry Compose's config-hash label; a network whose configuration changed
is recreated with the containers on it (compose's NetworkConfigChanged), an unchanged one is left
alone; a service's missing env_file fails only the commands creating that service's containers."""

from __future__ import annotations

import hashlib

import pytest

from composer.engine import labels as L
from composer.engine import reconcile
from composer.engine.options import UpOptions
from composer.errors import PlanError, SpecError
from composer.spec.render import network_hash, volume_hash

NETWORKED = """
services:
  web:
    image: busybox
    networks: [front]
  db:
    image: busybox
    networks: [back]
networks:
  front:
    ipam:
      config: [{subnet: 10.77.1.0/24}]
  back: {}
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_hashes_are_the_json_of_compose_go_structs():
    """Go's field order, empty fields left out, ipam always there (a struct), maps sorted."""
    assert network_hash({"name": "p_default", "ipam": {}}) == sha('{"name":"p_default","ipam":{}}')
    assert network_hash({"labels": {"b": "2", "a": "1"}, "name": "n", "driver": "bridge", "internal": False,
                         "ipam": {"config": [{"gateway": "10.0.0.1", "subnet": "10.0.0.0/24"}]},
                         "enable_ipv6": False}) == sha(
        '{"name":"n","driver":"bridge","ipam":{"config":[{"subnet":"10.0.0.0/24","gateway":"10.0.0.1"}]},'
        '"labels":{"a":"1","b":"2"},"enable_ipv6":false}')
    assert volume_hash({"name": "p_data"}) == sha('{"name":"p_data","driver":"local"}')


def test_networks_and_volumes_are_created_with_their_config_hash(load, service, fake):
    project = load(NETWORKED.replace("networks: [back]", "networks: [back]\n    volumes: [data:/data]")
                   + "volumes:\n  data: {labels: {team: a}}\n")
    service.up(project)
    assert fake.networks["demo_front"].labels[L.CONFIG_HASH] == network_hash(
        {**project.networks["front"], "name": "demo_front"})
    assert fake.volumes["demo_data"].labels[L.CONFIG_HASH] == volume_hash(
        {**project.volumes["data"], "name": "demo_data"})


def test_a_changed_network_is_recreated_with_the_containers_on_it(load, service):
    service.up(load(NETWORKED))
    assert service.plan_up(load(NETWORKED)).text() == ""  # unchanged: left alone
    changed = load(NETWORKED.replace("10.77.1.0/24", "10.77.2.0/24"))
    text = service.plan_up(changed).text()
    assert "stop service:web:1 (network front config changed)" in text
    assert "remove network:front (config hash diverged) <- stop service:web:1" in text
    assert "create network:front (recreate after config change) <- remove network:front" in text
    assert "recreate service:web:1 (network front config changed) <- create network:front" in text
    assert "db" not in text  # the other network and its service are left alone


@pytest.mark.parametrize("change", ["labels: {team: a}", "driver_opts: {com.docker.network.bridge.name: brx}"])
def test_labels_and_driver_opts_change_the_network(load, service, change):
    service.up(load(NETWORKED))
    text = service.plan_up(load(NETWORKED.replace("  back: {}", f"  back:\n    {change}"))).text()
    assert "recreate service:db:1 (network back config changed)" in text and "web" not in text


def test_a_network_still_used_by_an_unselected_service_is_kept_with_a_warning(load, service):
    shared = NETWORKED.replace("networks: [back]", "networks: [front]")
    service.up(load(shared))
    plan = service.plan_up(load(shared.replace("10.77.1.0/24", "10.77.2.0/24")), UpOptions(services=("web",)))
    assert "network" not in plan.text()
    assert any("demo-db-1 still use it" in w for w in plan.warnings)


def test_a_project_network_with_another_key_is_refused(load, service, fake):
    service.up(load(NETWORKED))
    net = fake.networks["demo_front"]
    fake.networks["demo_front"] = net._replace(labels={**net.labels, L.NETWORK: "other"})
    with pytest.raises(PlanError, match='incorrect label com.docker.compose.network set to "other" '
                                        r'\(expected: "front"\)'):
        service.plan_up(load(NETWORKED))


ENV_FILES = """
services:
  a: {image: busybox}
  b: {image: busybox, env_file: /doesnotexist/.env}
  c: {image: busybox, depends_on: [b]}
  d: {image: busybox, env_file: [{path: /doesnotexist/.env, required: false}]}
"""


def test_a_missing_env_file_fails_only_the_commands_creating_its_service(load, service):
    project = load(ENV_FILES)  # loading (ps, logs, exec, down ...) does not fail
    assert "create service:a:1" in service.plan_up(project, UpOptions(services=("a", "d"))).text()
    for services in ((), ("b",), ("c",)):  # c depends on b
        with pytest.raises(SpecError, match="env file /doesnotexist/.env not found") as failure:
            service.plan_up(project, UpOptions(services=services, no_deps=True))
        assert failure.value.location.line == 4  # where b's env_file is written
    with pytest.raises(SpecError, match="not found"):
        reconcile.plan_run(project, service.observe(project), "c")
    assert project.config_hashes["b"]  # still hashed from the file's own fields
