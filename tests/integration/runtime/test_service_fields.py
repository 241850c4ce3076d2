"""Compose service fields that reach the kernel: cpu_period/cpu_quota, blkio_config.weight's path,
``cgroup: host|private``, and sysctls only of the container's own namespaces (a global one would
be written into the host's kernel)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root


def _compose(state_root: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``composer ARGS`` in ``project`` against this test's state root."""
    return subprocess.run([sys.executable, "-m", "composer", *args], cwd=project, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def _run(state_root: Path, project: Path, service_yaml: str, *command: str) -> subprocess.CompletedProcess[str]:
    """``composer run --rm a COMMAND`` of a one-service project (busybox, no network)."""
    (project / "compose.yaml").write_text("services:\n  a:\n    image: busybox\n" + service_yaml)
    return _compose(state_root, project, "run", "--rm", "a", *command)


def test_cfs_period_quota_and_cgroup_namespace(image, state_root, tmp_path):
    fields = "    network_mode: none\n    cpu_period: 50000\n    cpu_quota: 25000\n    cgroup: {}\n"
    probe = ("cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us; "
             "readlink /proc/self/ns/cgroup")
    if not os.path.isdir("/sys/fs/cgroup/cpu"):
        probe = "cat /sys/fs/cgroup/cpu.max; readlink /proc/self/ns/cgroup"
    private = _run(state_root, tmp_path, fields.format("private"), "sh", "-c", probe)
    assert private.returncode == 0, private.stderr
    *limits, namespace = private.stdout.split("\n")[:-1]
    assert limits in (["50000", "25000"], ["25000 50000"])
    assert namespace != os.readlink("/proc/self/ns/cgroup")
    host = _run(state_root, tmp_path, fields.format("host"), "readlink", "/proc/self/ns/cgroup")
    assert host.returncode == 0 and host.stdout.strip() == os.readlink("/proc/self/ns/cgroup"), host.stderr


def test_sysctls_only_of_the_containers_namespaces(image, state_root, tmp_path):
    with open("/proc/sys/vm/swappiness") as handle:  # (the host's own value: nothing would change)
        swappiness = handle.read().strip()
    global_one = _run(state_root, tmp_path, f"    network_mode: none\n    sysctls: {{vm.swappiness: {swappiness}}}\n",
                      "true")
    assert global_one.returncode == 1 and 'sysctl "vm.swappiness" is not in a separate kernel namespace' \
        in global_one.stderr, global_one.stderr
    host_net = _run(state_root, tmp_path, "    network_mode: host\n    sysctls: {net.ipv4.ip_forward: 0}\n", "true")
    assert host_net.returncode == 1 and "shares the host's net namespace" in host_net.stderr, host_net.stderr
    own = _run(state_root, tmp_path, "    network_mode: none\n    sysctls: {net.ipv4.ip_unprivileged_port_start: 80}\n",
               "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start")
    assert own.returncode == 0 and own.stdout == "80\n", own.stderr
    assert "Traceback" not in global_one.stderr + host_net.stderr
    assert not list((state_root / "containers").glob("*"))  # nothing half-created


def test_refused_fields_create_nothing(image, state_root, tmp_path):
    refused = _run(state_root, tmp_path, "    gpus: all\n", "true")
    assert refused.returncode != 0 and "could not select device driver" in refused.stderr, refused.stderr
    assert "services.a.gpus" in refused.stderr and "Traceback" not in refused.stderr
    up = _compose(state_root, tmp_path, "up", "-d")
    assert up.returncode != 0 and "could not select device driver" in up.stderr, up.stderr
    assert not list((state_root / "containers").glob("*")) and not list((state_root / "networks").glob("*"))


def test_device_cgroup_rules_grant_access(image, state_root, tmp_path):
    """``device_cgroup_rules`` allow a device node the defaults deny (10:229, /dev/fuse's numbers)."""
    probe = ("sh", "-c", "mknod /tmp/f c 10 229 && (exec 3<>/tmp/f) && echo opened")
    denied = _run(state_root, tmp_path, "    network_mode: none\n", *probe)
    assert denied.returncode != 0 and "Operation not permitted" in denied.stderr, denied.stdout + denied.stderr
    allowed = _run(state_root, tmp_path, "    network_mode: none\n    device_cgroup_rules: ['c 10:229 rw']\n", *probe)
    assert "Operation not permitted" not in allowed.stderr, allowed.stderr  # (ENODEV without the fuse driver)
    bad = _run(state_root, tmp_path, "    network_mode: none\n    device_cgroup_rules: ['c 10:229']\n", "true")
    assert bad.returncode == 1 and "invalid device cgroup format 'c 10:229'" in bad.stderr, bad.stderr


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/memory/memory.swappiness"), reason="cgroup v1 memory only")
def test_mem_swappiness_and_oom_kill_disable(image, state_root, tmp_path):
    probe = ("cat /sys/fs/cgroup/memory/memory.swappiness; "
             "grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control")
    fields = "    network_mode: none\n    mem_limit: 64m\n    mem_swappiness: 7\n    oom_kill_disable: true\n"
    result = _run(state_root, tmp_path, fields, "sh", "-c", probe)
    assert result.returncode == 0 and result.stdout == "7\noom_kill_disable 1\n", result.stderr
    started = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-d", "--network", "none",
                              "--memory-swappiness", "3", "--oom-kill-disable", "busybox", "sleep", "30"],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    container = started.stdout.strip()
    try:
        assert started.returncode == 0 and "no memory limit is set" in started.stderr, started.stderr
        path = f"/sys/fs/cgroup/memory/composer/{container}/memory.swappiness"
        with open(path) as handle:
            assert handle.read().strip() == "3"
    finally:
        subprocess.run([sys.executable, "-m", "composer", "container", "rm", "-f", container], capture_output=True,
                       timeout=60, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def test_external_links_alias_a_container_by_name(image, state_root, tmp_path):
    """``external_links: [CONTAINER:ALIAS]``: ALIAS resolves to that container for this service."""
    project = tmp_path / "ext"
    project.mkdir()
    (project / "compose.yaml").write_text(
        "services:\n  b:\n    image: busybox\n    command: sleep 60\n    stop_signal: SIGKILL\n"
        "  a:\n    image: busybox\n    external_links: ['ext-b-1:bee']\n")

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        return _compose(state_root, project, *args)

    try:
        assert compose("up", "-d", "b").returncode == 0
        address = compose("exec", "b", "hostname", "-i").stdout.split()[0]
        looked_up = compose("run", "--rm", "--no-deps", "a", "nslookup", "bee")
        output = looked_up.stdout + looked_up.stderr
        assert looked_up.returncode == 0 and f"Address: {address}" in looked_up.stdout, output
    finally:
        compose("down", "-t", "0")


def _whole_disk() -> str | None:
    """A whole block device of this host (throttles are per disk, not per partition)."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram", "nbd")) and os.path.exists(f"/dev/{name}"):
            return f"/dev/{name}"
    return None


@pytest.mark.skipif(_whole_disk() is None, reason="no whole block device")
def test_blkio_device_throttles(image, state_root, tmp_path):
    disk = _whole_disk()
    info = os.stat(disk)
    numbers = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
    fields = (f"    network_mode: none\n    blkio_config:\n      device_read_bps: [{{path: {disk}, rate: 1mb}}]\n"
              f"      device_write_iops: [{{path: {disk}, rate: 100}}]\n")
    probe = "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device"
    if not os.path.isdir("/sys/fs/cgroup/blkio"):
        probe = "cat /sys/fs/cgroup/io.max"
    result = _run(state_root, tmp_path, fields, "sh", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout in (f"{numbers} 1048576\n{numbers} 100\n", f"{numbers} rbps=1048576 wbps=max riops=max wiops=100\n")
    not_a_disk = _run(state_root, tmp_path, "    blkio_config:\n      device_read_bps: [{path: /dev/null, rate: 1mb}]\n",
                      "true")
    assert not_a_disk.returncode != 0 and "/dev/null is not a block device" in not_a_disk.stderr, not_a_disk.stderr


def test_pid_and_ipc_of_another_service(image, state_root, tmp_path):
    """``pid: service:b`` / ``ipc: service:b`` join b's namespaces (they were made private)."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  b:\n    image: busybox\n    network_mode: none\n    ipc: shareable\n    command: sleep 60\n"
        "    stop_signal: SIGKILL\n  a:\n    image: busybox\n    network_mode: none\n    ipc: service:b\n"
        "    pid: service:b\n")

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        return _compose(state_root, tmp_path, *args)

    probe = "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid"
    try:
        assert compose("up", "-d", "b").returncode == 0
        donor = compose("exec", "b", "sh", "-c", probe).stdout
        joined = compose("run", "--rm", "a", "sh", "-c", probe + "; cat /proc/1/comm")
        assert joined.returncode == 0 and joined.stdout == donor + "sleep\n", joined.stdout + joined.stderr
    finally:
        compose("down", "-t", "0")


def test_interface_name_on_a_network(image, state_root, tmp_path):
    """``networks: {front: {interface_name: web0}}``: the container's interface there is web0."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    networks:\n      front: {interface_name: web0}\n      back: {}\n"
        "networks:\n  front: {}\n  back: {}\n")
    try:
        ran = _compose(state_root, tmp_path, "run", "--rm", "a", "ls", "/sys/class/net")
        assert ran.returncode == 0 and sorted(ran.stdout.split()) == ["eth0", "lo", "web0"], ran.stdout + ran.stderr
    finally:
        _compose(state_root, tmp_path, "down")


def test_annotations_recorded(image, state_root, tmp_path):
    """``annotations`` (compose) and ``--annotation`` (run): inspect's HostConfig.Annotations, as docker's."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    network_mode: none\n    annotations: {com.example.x: '1'}\n")
    try:
        assert _compose(state_root, tmp_path, "create", "a").returncode == 0
        shown = _compose(state_root, tmp_path, "container", "inspect", "-f", "{{json .HostConfig.Annotations}}",
                         f"{tmp_path.name}-a-1")
        assert shown.stdout.strip() == '{"com.example.x":"1"}', shown.stdout + shown.stderr
    finally:
        _compose(state_root, tmp_path, "down")
