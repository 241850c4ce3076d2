"""Golden-text plans of the planner against the FakeRuntime."""

from __future__ import annotations


import pytest

from composer.engine import labels as L
from composer.engine import lifecycle, reconcile
from composer.engine.options import DownOptions, LifecycleOptions, UpOptions
from composer.errors import PlanError, SemanticError, UsageError

STACK = """
services:
  web:
    image: nginx
    depends_on:
      api: {condition: service_started}
  api:
    image: busybox
    environment: {MODE: "one"}
    volumes: [data:/data]
    depends_on:
      db: {condition: service_healthy, restart: true}
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"], interval: 1s}
volumes:
  data: {}
"""
WAITS_ONLY = "wait service:db:healthy (service_healthy)"
"""What ``up`` plans for STACK when everything runs: api (running) waits for db all the same."""


def test_fresh_up_plans_networks_volumes_then_services_in_dependency_order(load, service):
    plan = service.plan_up(load(STACK))
    assert plan.text() == """\
create network:default (not found)
create volume:data (not found)
create service:db:1 (no container) <- create volume:data
create service:api:1 (no container) <- create service:db:1, create volume:data
start service:db:1 (created) <- create network:default, create service:db:1
create service:web:1 (no container) <- create service:api:1, create volume:data
wait service:db:healthy (service_healthy) <- create service:db:1, start service:db:1
start service:api:1 (created) <- create network:default, create service:api:1, wait service:db:healthy
start service:web:1 (created) <- create network:default, create service:api:1, create service:web:1, start service:api:1"""


def test_up_twice_plans_nothing_the_second_time(load, service, fake):
    project = load(STACK)
    service.up(project)
    assert service.plan_up(project).text() == WAITS_ONLY  # as Compose's start phase: api waits for db
    assert fake.names() == ["demo-api-1", "demo-db-1", "demo-web-1"]


def test_missing_image_is_pulled_before_its_containers(load, service, fake):
    del fake.images["nginx"]
    plan = service.plan_up(load(STACK))
    assert "pull image:nginx (image not found)" in plan.text()
    assert "create service:web:1 (no container) <- create service:api:1, " \
           "create volume:data, pull image:nginx" in plan.text()


def test_environment_change_recreates_only_that_service(load, service):
    service.up(load(STACK))
    changed = load(STACK.replace('MODE: "one"', 'MODE: "two"'))
    assert service.plan_up(changed).text() == """\
recreate service:api:1 (config hash diverged)
wait service:db:healthy (service_healthy)
start service:api:1 (recreated) <- recreate service:api:1, wait service:db:healthy"""


def test_recreated_dependency_restarts_dependents_with_restart_true(load, service):
    service.up(load(STACK))
    changed = load(STACK.replace("interval: 1s", "interval: 2s"))
    assert service.plan_up(changed).text() == """\
recreate service:db:1 (config hash diverged)
start service:db:1 (recreated) <- recreate service:db:1
wait service:db:healthy (service_healthy) <- recreate service:db:1, start service:db:1
restart service:api:1 (dependency db recreated) <- wait service:db:healthy"""


def test_always_recreate_deps_recreates_the_dependencies_of_named_services(load, service):
    project = load(STACK)
    service.up(project)
    plan = service.plan_up(project, UpOptions(services=("api",), always_recreate_deps=True))
    assert plan.text() == """\
recreate service:db:1 (--always-recreate-deps)
start service:db:1 (recreated) <- recreate service:db:1
wait service:db:healthy (service_healthy) <- recreate service:db:1, start service:db:1
restart service:api:1 (dependency db recreated) <- wait service:db:healthy"""


def test_force_recreate_and_no_recreate(load, service):
    project = load(STACK)
    service.up(project)
    forced = service.plan_up(project, UpOptions(recreate="force", services=("web",), no_deps=True))
    assert forced.text() == "recreate service:web:1 (--force-recreate)\nstart service:web:1 (recreated) <- recreate service:web:1"
    changed = load(STACK.replace('MODE: "one"', 'MODE: "two"'))
    assert service.plan_up(changed, UpOptions(recreate="never")).text() == WAITS_ONLY


def test_image_change_recreates(load, service, fake):
    project = load(STACK)
    service.up(project)
    fake.images["nginx"] = "sha256:" + "f" * 64
    assert service.plan_up(project).text() == f"recreate service:web:1 (image changed)\n{WAITS_ONLY}\n" \
        "start service:web:1 (recreated) <- recreate service:web:1, wait service:db:healthy"


def test_stopped_container_is_started_not_recreated(load, service, fake):
    project = load(STACK)
    service.up(project)
    service.stop(project, LifecycleOptions(services=("web",)))
    assert service.plan_up(project).text() == f"{WAITS_ONLY}\n" \
        "start service:web:1 (container exited) <- wait service:db:healthy"


def test_scale_up_then_down_removes_highest_numbers_first(load, service, fake):
    project = load(STACK)
    service.up(project)
    up = service.plan_up(project, UpOptions(scale={"web": 3}))
    assert up.text() == """\
create service:web:2 (scale 1 -> 3)
create service:web:3 (scale 1 -> 3)
wait service:db:healthy (service_healthy)
start service:web:2 (created) <- create service:web:2, wait service:db:healthy
start service:web:3 (created) <- create service:web:3, wait service:db:healthy"""
    service.up(project, UpOptions(scale={"web": 3}))
    down = service.plan_up(project, UpOptions(scale={"web": 1}))
    assert down.text() == """\
stop container:demo-web-2 (scale 2 -> 1)
stop container:demo-web-3 (scale 3 -> 1)
wait service:db:healthy (service_healthy)
remove container:demo-web-2 (scale 2 -> 1) <- stop container:demo-web-2
remove container:demo-web-3 (scale 3 -> 1) <- stop container:demo-web-3"""
    service.up(project, UpOptions(scale={"web": 1}))
    assert fake.names() == ["demo-api-1", "demo-db-1", "demo-web-1"]


def test_deploy_replicas_sets_the_scale(load, service):
    project = load("services:\n  w:\n    image: busybox\n    deploy: {replicas: 2}\n")
    assert [op.resource for op in service.plan_up(project) if op.kind == "create"] == \
        ["network:default", "service:w:1", "service:w:2"]


def test_container_name_with_scale_is_refused(load, service):
    project = load("services:\n  w:\n    image: busybox\n    container_name: one\n")
    with pytest.raises(PlanError, match="container_name"):
        service.plan_up(project, UpOptions(scale={"w": 2}))


def test_orphans_warned_once_and_removed_on_request(load, service, fake):
    service.up(load(STACK))
    smaller = load("""
services:
  api: {image: busybox, environment: {MODE: "one"}, volumes: [data:/data],
        depends_on: {db: {condition: service_healthy, restart: true}}}
  db: {image: busybox, healthcheck: {test: ["CMD", "true"], interval: 1s}}
volumes: {data: {}}
""")
    plan = service.plan_up(smaller)
    assert plan.text() == WAITS_ONLY
    assert len(plan.warnings) == 1 and "demo-web-1" in plan.warnings[0] and "--remove-orphans" in plan.warnings[0]
    removing = service.plan_up(smaller, UpOptions(remove_orphans=True))
    assert removing.text() == """\
stop container:demo-web-1 (orphan)
wait service:db:healthy (service_healthy)
remove container:demo-web-1 (orphan) <- stop container:demo-web-1"""
    assert not removing.warnings


def test_down_stops_dependents_first_then_removes_networks_and_volumes(load, service):
    """As Compose's down: a service's containers are stopped once its dependents' are removed."""
    project = load(STACK)
    service.up(project)
    assert service.plan_down(project, DownOptions(volumes=True, rmi="all")).text() == """\
stop service:web:1 (down)
remove service:web:1 (down) <- stop service:web:1
stop service:api:1 (down) <- remove service:web:1
remove service:api:1 (down) <- stop service:api:1
stop service:db:1 (down) <- remove service:api:1
remove service:db:1 (down) <- stop service:db:1
remove network:default (down) <- remove service:api:1, remove service:db:1, remove service:web:1
remove volume:data (down -v) <- remove service:api:1, remove service:db:1, remove service:web:1
remove-image image:busybox (--rmi all) <- remove service:api:1, remove service:db:1, remove service:web:1
remove-image image:nginx (--rmi all) <- remove service:api:1, remove service:db:1, remove service:web:1"""


def test_down_without_compose_file_removes_everything_labelled(load, service, fake):
    service.up(load(STACK))
    service.down(None, DownOptions(volumes=True), project_name="demo")
    assert fake.names() == [] and fake.networks == {} and fake.volumes == {}


def test_unknown_service_and_cycles_are_clear_errors(load, service):
    with pytest.raises(UsageError, match="no such service: nope"):
        service.plan_up(load(STACK), UpOptions(services=("nope",)))
    with pytest.raises(SemanticError, match="cycle"):  # built by hand: the loader refuses cycles
        reconcile.start_order(_cyclic(load(STACK)))


def _cyclic(project):
    from types import MappingProxyType

    from composer.spec.model import Dependency

    db = project.services["db"]._replace(depends_on=MappingProxyType({"web": Dependency()}))
    return project._replace(services=MappingProxyType({**project.services, "db": db}))


def test_no_deps_plans_only_the_named_service(load, service):
    plan = service.plan_up(load(STACK), UpOptions(services=("web",), no_deps=True))
    assert plan.text() == """\
create network:default (not found)
create service:web:1 (no container)
start service:web:1 (created) <- create network:default, create service:web:1"""


def test_no_change_plan_is_empty_at_scale(load, service):
    """Speed is measured in bench/, not here; this checks a scaled project plans only api's wait twice."""
    project = load(STACK.replace("web:\n    image: nginx", "web:\n    image: nginx\n    scale: 30"))
    service.up(project)
    for _ in range(2):
        assert service.plan_up(project).text() == WAITS_ONLY


def test_lifecycle_plans(load, service):
    project = load(STACK)
    service.up(project)
    observed = service.observe(project)
    assert lifecycle.plan_lifecycle("stop", project, observed).text() == """\
stop service:web:1 (container running)
stop service:api:1 (container running) <- stop service:web:1
stop service:db:1 (container running) <- stop service:api:1"""
    assert lifecycle.plan_lifecycle("kill", project, observed, LifecycleOptions(services=("db",))).text() == \
        "kill service:db:1 (container running)"
    with pytest.raises(PlanError) as refused:  # as docker's unpause
        lifecycle.plan_lifecycle("unpause", project, observed)
    db = observed.service_containers("db")[0].id
    assert refused.value.message == f"Error response from daemon: Container {db} is not paused"


def test_interrupted_recreate_is_reconciled(load, service, fake):
    """SIGKILL between "rename the old container" and "remove it" leaves two replicas number 1."""
    project = load("services:\n  web: {image: busybox, environment: {A: '1'}}\n")
    service.up(project)
    old = fake.list_containers({})[0]
    fake.stop_container(old.id)
    fake.rename_container(old.id, f"{old.id[:12]}_demo-web-1")
    changed = load("services:\n  web: {image: busybox, environment: {A: '2'}}\n")
    assert service.plan_up(changed).operations[0].cause == "config hash diverged"
    assert service.plan_up(project).operations[0].cause == "container renamed"
    service.up(changed)
    assert fake.names() == ["demo-web-1"]
    assert service.plan_up(changed).text() == ""


def test_interrupted_recreate_after_create_keeps_the_canonical_name(load, service, fake):
    """SIGKILL after the new container was created under its temporary name."""
    project = load("services:\n  web: {image: busybox, environment: {A: '1'}}\n")
    service.up(project)
    old = fake.list_containers({})[0]
    changed = load("services:\n  web: {image: busybox, environment: {A: '2'}}\n")
    spec = service.plan_up(changed).get("recreate service:web:1").params["spec"]
    temporary = fake.create_container(spec._replace(name=f"{old.id[:12]}_demo-web-1"))
    assert service.plan_up(changed).text() == f"""\
remove container:{old.id[:12]}_demo-web-1 (duplicate container-number 1)
recreate service:web:1 (config hash diverged) <- remove container:{old.id[:12]}_demo-web-1
start service:web:1 (recreated) <- recreate service:web:1"""
    service.up(changed)
    assert fake.names() == ["demo-web-1"] and temporary not in fake.containers
    assert service.plan_up(changed).text() == ""


def test_network_mode_and_volumes_from_order_services(load, service):
    project = load("""
services:
  app: {image: busybox, network_mode: "service:net", volumes_from: [data]}
  net: {image: busybox}
  data: {image: busybox}
""")
    assert reconcile.start_order(project) == ["data", "net", "app"]
    plan = service.plan_up(project)
    assert str(plan.get("create service:app:1")) == \
        "create service:app:1 (no container) <- create service:data:1, create service:net:1"
    assert plan.get("create service:app:1").params["spec"].network_mode == "container:demo-net-1"


def test_down_with_orphans_keeps_networks_and_says_why(load, service, fake):
    service.up(load(STACK))
    smaller = load("services:\n  web: {image: nginx}\n")
    plan = service.plan_down(smaller)
    assert plan.text() == """\
stop service:web:1 (down)
remove service:web:1 (down) <- stop service:web:1"""
    assert plan.warnings == ("Network demo_default: Resource is still in use",)
    service.down(smaller, DownOptions(remove_orphans=True, volumes=True))
    assert fake.names() == [] and fake.networks == {}
    assert list(fake.volumes) == ["demo_data"]  # -v removes the volumes the project declares, as Compose


def test_no_deps_needs_the_namespace_and_volume_donors(load, service, fake):
    """Compose's e2e intent: up --no-deps reuses donor containers, and fails clearly without them."""
    project = load("""
services:
  app: {image: busybox, network_mode: "service:db", volumes_from: ["db:ro"]}
  db: {image: busybox, container_name: the-db}
""")
    spec = service.plan_up(project).get("create service:app:1").params["spec"]
    assert spec.network_mode == "container:the-db" and spec.volumes_from == ("the-db:ro",)
    service.up(project)
    assert service.plan_up(project, UpOptions(services=("app",), no_deps=True)).text() == ""
    fake.remove_container("the-db", force=True)
    with pytest.raises(PlanError, match="cannot share network namespace with service db: container missing"):
        service.plan_up(project, UpOptions(services=("app",), no_deps=True))


def test_down_with_nothing_to_remove_says_so(load, service):
    plan = service.plan_down(None, project_name="demo")
    assert not plan and plan.warnings == ('Warning: No resource found to remove for project "demo".',)


def test_an_image_built_by_one_service_is_not_pulled_for_another(load, service, fake):
    """Compose's e2e intent: up builds once and starts both services from the built image."""
    project = load("""
services:
  foo: {image: demo-built, build: {context: .}}
  bar: {image: demo-built, depends_on: [foo]}
""")
    plan = reconcile.plan_images(project, service.observe(project), UpOptions())
    assert plan.text() == "build image:demo-built (image not found)"


def test_networks_and_volumes_of_another_owner_are_used_with_a_warning(load, service, fake):
    from composer.engine.runtime.base import NetworkSpec, VolumeSpec

    fake.ensure_network(NetworkSpec(name="demo_default"))
    fake.ensure_volume(VolumeSpec(name="demo_data", labels={L.PROJECT: "other"}))
    plan = service.plan_up(load(STACK))
    assert "create network:default" not in plan.text() and "create volume:data" not in plan.text()
    assert [w.split(" exists")[0] for w in plan.warnings] == \
        ["a network with name demo_default", "volume 'demo_data' already"]
    assert "external: true" in plan.warnings[0]


def test_sharing_a_recreated_network_namespace_recreates_the_sharer(load, service):
    text = "services:\n  app: {image: busybox, network_mode: 'service:net'}\n  net: {image: busybox, environment: [V=%s]}\n"
    service.up(load(text % 1))
    plan = service.plan_up(load(text % 2))
    assert plan.get("recreate service:app:1").cause == "network namespace of net recreated"
    assert "recreate service:net:1" in plan.get("recreate service:app:1").needs


def test_down_removes_anonymous_volumes_only_with_v(load, service):
    project = load(STACK)
    service.up(project)
    assert {op.params["volumes"] for op in service.plan_down(project) if op.kind == "remove"
            and op.resource.startswith("service:")} == {False}
    assert {op.params["volumes"] for op in service.plan_down(project, DownOptions(volumes=True))
            if op.kind == "remove" and op.resource.startswith("service:")} == {True}
