"""What a Docker Compose user relies on from networks, through ``up``/``down`` of one project: a
named default network, an external network, ``internal``, ``enable_ipv6``, ``ipv4_address``,
``ipv6_address``, ``mac_address`` (per network and per service), aliases, ``extra_hosts``, ``dns``/``dns_search``/``dns_opt``, ``network_mode:
service:x``, and a ``down`` followed at once by an ``up`` still resolving service names."""

from __future__ import annotations

import pytest

from tests.integration.compose.conftest import project  # noqa: F401 - the fixture
from tests.integration.network.conftest import free_prefix24, free_prefix64

pytestmark = [pytest.mark.root, pytest.mark.slow]

COMPOSE = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    networks:
      back:
        aliases: [database]
        ipv4_address: {back}.10
        mac_address: "02:42:0a:00:00:99"
  api:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    networks: [back, default, outside]
    extra_hosts: ["gw:host-gateway", "static.example:10.1.2.3"]
    dns: [{back}.250]
    dns_search: [corp.example]
    dns_opt: ["timeout:2"]
  sidecar:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    network_mode: service:api
  six:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    mac_address: "02:42:0a:00:00:66"
    networks:
      v6:
        ipv6_address: "{six}:66"
networks:
  default:
    name: {project}-renamed
  back:
    internal: true
    ipam:
      config: [{subnet: {back}.0/24}]
  v6:
    enable_ipv6: true
    ipam:
      config: [{subnet: {six}:/64}]
  outside:
    external: true
    name: {project}-made-outside
"""


def _sh(project, service: str, script: str) -> str:
    return project("exec", "-T", service, "sh", "-c", script).stdout


def test_compose_network_settings_behave_as_docker_compose(manager, project):  # noqa: F811
    back, six = free_prefix24(), free_prefix64()
    external = manager.create(f"{project.name}-made-outside")
    project.write(COMPOSE.replace("{back}", back).replace("{six}", six).replace("{project}", project.name))
    project("up", "-d")
    assert manager.get(f"{project.name}-renamed").labels["com.docker.compose.network"] == "default"
    assert not manager.get(f"{project.name}_back").default

    db = _sh(project, "db", "ip -o -4 addr show eth0; ip link show eth0; ip route")
    assert f"inet {back}.10/24" in db and "02:42:0a:00:00:99" in db
    assert "default" not in db  # internal: no way out
    # "NAME." (absolute): busybox nslookup would try the search domain first, and wait for the api's
    # unreachable dns: server with it (glibc's ndots:0 asks for the bare name first)
    names = _sh(project, "api", f"nslookup database.; nslookup db.; nslookup db.{project.name}_back.")
    assert names.count(f"{back}.10") >= 3, names  # alias, service name, NAME.NETWORK; with a dns: of its own
    hosts = _sh(project, "api", "cat /etc/hosts")
    assert "\tgw\n" in hosts and "10.1.2.3\tstatic.example\n" in hosts
    resolv = _sh(project, "api", "cat /etc/resolv.conf")
    assert "search corp.example" in resolv and "timeout:2" in resolv, resolv
    assert f"nameserver {back}.250" not in resolv  # the network's server, which forwards there
    api_links = _sh(project, "api", "ip -o -4 addr")
    assert _sh(project, "sidecar", "ip -o -4 addr") == api_links  # network_mode: service:api
    assert external.subnet.rsplit(".", 2)[0] in api_links
    six_eth0 = _sh(project, "six", "ip -o -6 addr show eth0; ip link show eth0")
    assert f"inet6 {six}:66/64" in six_eth0 and "02:42:0a:00:00:66" in six_eth0  # service-level mac_address

    down = project("down", "-t", "0")
    assert manager.store.find(f"{project.name}-renamed") is None, down.stderr
    assert manager.get(external.id).endpoints == {}  # external: kept, only left
    project("up", "-d")  # at once: the DNS server of the first up may still be on its way out
    again = _sh(project, "api", "nslookup db.")
    assert f"{back}.10" in again, again


LINKS = """
services:
  db: {image: busybox, command: [sleep, "300"]}
  web: {image: busybox, command: [sleep, "300"], links: ["db:store"], networks: {default: {link_local_ips: [169.254.8.8]}}}
  other: {image: busybox, command: [sleep, "300"]}
"""


def test_compose_links_alias_resolves_for_the_linking_service_only(manager, project):  # noqa: F811
    project.write(LINKS)
    project("up", "-d")
    db_ip = _sh(project, "db", "ip -o -4 addr show eth0").split()[3].split("/")[0]
    web = _sh(project, "web", "nslookup store.; ip -o addr show eth0")
    assert db_ip in web and "169.254.8.8/16" in web, web
    other = project("exec", "-T", "other", "nslookup", "store.", ok=False)
    assert other.returncode != 0 and db_ip not in other.stdout
