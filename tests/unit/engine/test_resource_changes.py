"""Networks and volumes carry Compose's config-hash label; a network whose configuration changed
is recreated and the containers on it are stopped and started again on it, not recreated
(compose's NetworkConfigChanged), an unchanged one is left alone; a changed volume is recreated
with its containers when the prompt (or -y) says yes; a service's missing env_file fails only the commands creating that service's containers."""

from __future__ import annotations

import dataclasses
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


def test_a_changed_network_is_recreated_and_its_containers_reconnected(load, service, fake):
    service.up(load(NETWORKED))
    assert service.plan_up(load(NETWORKED)).text() == ""  # unchanged: left alone
    changed = load(NETWORKED.replace("10.77.1.0/24", "10.77.2.0/24"))
    assert service.plan_up(changed).text().splitlines() == [
        "stop service:web:1 (network front config changed)",
        "remove network:front (config hash diverged) <- stop service:web:1",
        "create network:front (recreate after config change) <- remove network:front",
        "start service:web:1 (network recreated) <- create network:front",
    ]  # the other network and its service are left alone; web keeps its container
    made = {c.name: c.id for c in fake.list_containers({})}
    service.up(changed)
    assert {c.name: c.id for c in fake.list_containers({})} == made
    assert service.plan_up(changed).text() == ""


@pytest.mark.parametrize("change", ["labels: {team: a}", "driver_opts: {com.docker.network.bridge.name: brx}"])
def test_labels_and_driver_opts_change_the_network(load, service, change):
    service.up(load(NETWORKED))
    text = service.plan_up(load(NETWORKED.replace("  back: {}", f"  back:\n    {change}"))).text()
    assert "start service:db:1 (network recreated)" in text and "recreate service" not in text and "web" not in text


def test_a_network_of_unselected_services_is_recreated_and_they_are_started_again(load, service):
    """As compose, every service container on the network is stopped, even of services not named."""
    shared = NETWORKED.replace("networks: [back]", "networks: [front]")
    service.up(load(shared))
    text = service.plan_up(load(shared.replace("10.77.1.0/24", "10.77.2.0/24")), UpOptions(services=("web",))).text()
    assert "start service:db:1 (network recreated) <- create network:front" in text
    assert "start service:web:1 (network recreated) <- create network:front" in text


def test_a_changed_service_on_a_changed_network_is_recreated_once(load, service):
    service.up(load(NETWORKED))
    text = service.plan_up(load(NETWORKED.replace("10.77.1.0/24", "10.77.2.0/24")
                                 .replace("networks: [front]", "networks: [front]\n    environment: {A: b}"))).text()
    assert "recreate service:web:1 (config hash diverged) <- create network:front" in text
    assert "start service:web:1 (recreated) <- recreate service:web:1" in text


def test_a_running_one_off_on_a_changed_network_is_refused_before_anything(load, service, fake):
    service.up(load(NETWORKED))
    web = next(c for c in fake.list_containers({}) if c.name == "demo-web-1")
    one_off = web._replace(id="f" * 64, name="demo-web-run-1", labels={**web.labels, L.ONEOFF: "True"})
    fake.containers[one_off.id] = dataclasses.replace(fake.containers[web.id], summary=one_off)
    with pytest.raises(PlanError, match="one-off container.*demo-web-run-1 still use it"):
        service.plan_up(load(NETWORKED.replace("10.77.1.0/24", "10.77.2.0/24")))


def test_a_changed_volume_is_recreated_when_the_prompt_says_yes(load, service, fake):
    text = NETWORKED.replace("networks: [back]", "networks: [back]\n    volumes: [data:/data]")
    service.up(load(text + "volumes:\n  data: {labels: {team: a}}\n"))
    changed = load(text + "volumes:\n  data: {labels: {team: b}}\n")
    asked: list[str] = []

    def answer(yes: bool):  # type: ignore[no-untyped-def]
        return lambda question: asked.append(question) or yes

    declined = service.plan_up(changed, UpOptions(confirm=answer(False)))
    assert asked == ['Volume "demo_data" exists but doesn\'t match configuration in compose file. '
                     'Recreate (data will be lost)?']
    assert declined.text() == "" and "volume demo_data kept" in declined.warnings[0]
    accepted = service.plan_up(changed, UpOptions(confirm=answer(True))).text().splitlines()
    assert accepted[:3] == ["stop container:demo-db-1 (volume demo_data recreated)",
                            "remove container:demo-db-1 (volume demo_data recreated) <- stop container:demo-db-1",
                            "remove volume:data (definition changed) <- remove container:demo-db-1"]
    assert "create service:db:1 (no container) <- create volume:data" in accepted
    assert service.plan_up(changed, UpOptions(assume_yes=True)).text().splitlines() == accepted


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
