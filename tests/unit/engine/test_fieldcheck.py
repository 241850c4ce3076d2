"""Compose fields composer cannot honour are refused (as docker refuses them here) or warned about,
never silently ignored; sysctls only of the container's own namespaces."""

from __future__ import annotations

import pytest

from composer.engine.fieldcheck import check_fields, check_run_flags
from composer.engine.runtime.devicerules import check_device_cgroup_rules
from composer.engine.runtime.sysctls import check_sysctls, namespace_of
from composer.errors import ContainerRuntimeError, PlanError, UsageError


@pytest.mark.parametrize(("raw", "message"), [
    ({"gpus": "all"}, 'could not select device driver "" with capabilities: [[gpu]]'),
    ({"deploy": {"resources": {"reservations": {"devices": [{"capabilities": ["gpu"]}]}}}}, "[[gpu]]"),
    ({"storage_opt": {"size": "20G"}}, "supported only for overlay over xfs"),
    ({"isolation": "hyperv"}, "Invalid isolation: \"hyperv\" - linux only supports 'default'"),
    ({"runtime": "nvidia"}, "unknown or invalid runtime name: nvidia"),
    ({"use_api_socket": True}, "no Docker Engine API socket"),
    ({"cpus": 0.5, "cpu_quota": 25000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"mem_swappiness": 101}, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"provider": {"type": "model", "options": {"model": "ai/smollm2"}}}, "provider 'model': composer does not run"),
    ({"models": ["llm"]}, "composer has no model runner"),
    ({"volumes": [{"type": "bind", "source": "/a", "target": "/b"}, {"type": "npipe", "source": "x", "target": "/y"}]},
     "mount type 'npipe' is not supported on linux"),
])
def test_refused_as_docker_refuses(raw, message):
    with pytest.raises(PlanError) as caught:
        check_fields(raw, "web")
    assert message in str(caught.value) and "service 'web'" in str(caught.value)
    assert str(caught.value.location).startswith("services.web.") and caught.value.hint


def test_accepted_values_pass_without_warnings():
    assert check_fields({"isolation": "default", "runtime": "runc", "oom_kill_disable": False,
                         "blkio_config": {"weight": 300}, "use_api_socket": False}, "web") == ()


def test_fields_not_applied_are_warned():
    warnings = check_fields({"mem_swappiness": 0, "oom_kill_disable": True, "cpu_count": 2, "cgroup_parent": "x",
                             "blkio_config": {"weight_device": [{"path": "/dev/sda", "weight": 10}]}}, "web")
    assert [w.split(" ")[0] for w in warnings] == ["cpu_count", "cgroup_parent"]
    on_networks = check_fields({"networks": {"front": {"gw_priority": 1, "priority": 2}, "back": None}}, "web")
    assert on_networks == ("networks.front.gw_priority is not supported by composer: the default route is the first "
                           "network's (by priority)",)


def test_container_run_flags():
    with pytest.raises(UsageError, match="unknown or invalid runtime name: nvidia"):
        check_run_flags({"runtime": "nvidia"})
    with pytest.raises(UsageError, match="valid memory swappiness range is 0-100"):
        check_run_flags({"memory_swappiness": "200"})
    assert check_run_flags({"runtime": "runc", "isolation": "default", "memory_swappiness": "0"}) == ()
    assert check_run_flags({"cgroup_parent": "mine"}) == (
        "--cgroup-parent is not supported by composer: the container's cgroup stays under composer/",)


@pytest.mark.parametrize(("key", "namespace"), [
    ("kernel.shmmax", "ipc"), ("fs.mqueue.msg_max", "ipc"), ("net.ipv4.ip_forward", "net"),
    ("kernel.hostname", "uts"), ("vm.swappiness", None), ("kernel.pid_max", None),
])
def test_sysctl_namespaces(key, namespace):
    assert namespace_of(key) == namespace


@pytest.mark.parametrize(("sysctls", "modes", "message"), [
    ({"vm.swappiness": "10"}, {}, "is not in a separate kernel namespace"),
    ({"net.ipv4.ip_forward": "1"}, {"network": "host"}, "shares the host's net namespace"),
    ({"kernel.shmmax": "1"}, {"ipc_mode": "host"}, "shares the host's ipc namespace"),
    ({"kernel.hostname": "x"}, {"uts_mode": "host"}, "shares the host's uts namespace"),
    ({"net.ipv4/../../vm.swappiness": "1"}, {}, "invalid sysctl name"),
    ({"net..vm": "1"}, {}, "invalid sysctl name"),
])
def test_sysctls_refused(sysctls, modes, message):
    options = {"network": "private", "ipc_mode": "", "uts_mode": "", **modes}
    with pytest.raises(ContainerRuntimeError, match=message.replace("(", r"\(")):
        check_sysctls(sysctls, **options)


def test_namespaced_sysctls_allowed():
    check_sysctls({"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "20"},
                  network="private", ipc_mode="shareable", uts_mode="")


@pytest.mark.parametrize("rule", ["c 1:3 mr", "b 8:* rwm", "a *:* r", "c *:* m"])
def test_device_cgroup_rules_accepted(rule):
    check_device_cgroup_rules([rule])


@pytest.mark.parametrize("rule", ["c 1:3", "x 1:3 r", "c 1:3 rwx", "c 1 r", "c 1:3 rwm extra"])
def test_device_cgroup_rules_refused(rule):
    with pytest.raises(ContainerRuntimeError, match="invalid device cgroup format"):
        check_device_cgroup_rules([rule])


def test_net_sysctls_refused_through_a_host_network_donor(state_root, monkeypatch):
    class Donor:
        @staticmethod
        def read_config():
            return {"network": "host"}

    monkeypatch.setattr("composer.engine.runtime.state.find_container", lambda name: Donor())
    with pytest.raises(ContainerRuntimeError, match="shares the host's net namespace"):
        check_sysctls({"net.ipv4.ip_forward": "1"}, network="container:web", ipc_mode="", uts_mode="")


def test_an_ipv6_only_network_is_refused_by_the_planner(load, service):
    project = load("services:\n  a:\n    image: busybox\n    networks: [n]\nnetworks:\n  n:\n    enable_ipv4: false\n")
    with pytest.raises(PlanError, match="enable_ipv4: false") as caught:
        service.plan_up(project)
    assert caught.value.location.path == "networks.n.enable_ipv4" and caught.value.message.startswith('network "n": ')
    assert caught.value.hint.startswith("delete enable_ipv4: false from networks.n")
    service.plan_up(load("services:\n  a:\n    image: busybox\n    networks: [n]\nnetworks:\n  n:\n"
                         "    enable_ipv4: true\n"))


def test_local_volume_driver_opts_are_checked_as_dockerd_checks_them(load, service):
    head = "services:\n  a:\n    image: busybox\n    volumes: [data:/data]\nvolumes:\n  data:\n"
    service.plan_up(load(head + "    driver_opts: {type: none, o: bind, device: /srv/data}\n"))
    for options, message in (("{type: tmpfs}", 'create demo_data: missing required option: "device"'),
                             ("{foo: bar}", 'create demo_data: invalid option: "foo"'),
                             ("{type: tmpfs, device: tmpfs, size: 1m}", "quota size requested but no quota support")):
        with pytest.raises(PlanError) as caught:
            service.plan_up(load(head + f"    driver_opts: {options}\n"))
        assert message in caught.value.message and caught.value.location.path == "volumes.data.driver_opts"