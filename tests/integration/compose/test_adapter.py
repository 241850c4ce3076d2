"""LinuxRuntime (the engine's Runtime on the kernel): the protocol's contract and the spec mapping."""

from __future__ import annotations

import pytest

from composer.engine.runtime.adapter import (
    LinuxRuntime, container_config, healthcheck, process_args, publish_spec, summary_of,
)
from composer.engine.runtime.base import ContainerSpec, EndpointSpec, HealthSpec, MountSpec, PortSpec
from composer.errors import ContainerRuntimeError
from tests.unit.engine.test_runtime_contract import (  # noqa: F401 - re-run here on the real runtime
    test_images, test_networks_and_volumes_are_ensured_idempotently,
)

try:
    from composer.engine.runtime import containers as _containers  # noqa: F401
    HAVE_CONTAINERS = True
except ImportError:
    HAVE_CONTAINERS = False

if HAVE_CONTAINERS:
    from tests.unit.engine.test_runtime_contract import (  # noqa: F401
        test_container_lifecycle, test_container_names_are_unique,
    )


@pytest.fixture
def runtime(busybox_image) -> LinuxRuntime:
    """The kernel runtime on this test's state root, with busybox imported."""
    return LinuxRuntime()


pytestmark = pytest.mark.root


class _Image:
    id = "sha256:" + "1" * 64
    layer_dirs = ("/layers/a",)
    config = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "Entrypoint": None, "WorkingDir": "/srv",
              "Healthcheck": {"Test": ["CMD", "true"]}}


def test_args_as_docker_combines_them():
    image = _Image.config
    assert process_args(ContainerSpec(name="x", image="b"), image) == ["sh"]
    assert process_args(ContainerSpec(name="x", image="b", command=("ls",)), image) == ["ls"]
    assert process_args(ContainerSpec(name="x", image="b", entrypoint=("env",)), image) == ["env"]
    assert process_args(ContainerSpec(name="x", image="b", init=True), image) == ["/sbin/docker-init", "--", "sh"]
    with pytest.raises(ContainerRuntimeError, match="no command"):
        process_args(ContainerSpec(name="x", image="b", command=()), {})


def test_spec_to_config(tmp_path):
    spec = ContainerSpec(
        name="p-web-1", image="busybox", labels={"l": "1"}, env=("A=2", "B=3"), stop_grace_period=3,
        endpoints=(EndpointSpec("p_default", aliases=("web",)),), ports=(PortSpec(80, "8080"),),
        mounts=(MountSpec("volume", "/data", "p_data"), MountSpec("tmpfs", "/tmp", options={"size": 1024}),
                MountSpec("content", "/run/secrets/s", options={"content": "pw", "mode": 0o400})),
        healthcheck=HealthSpec(("CMD", "true"), interval=1, retries=2))
    config = container_config(spec, _Image(), "c" * 64, str(tmp_path / "content"))
    assert config.env == ["A=2", "B=3", "PATH=/bin"] and config.cwd == "/srv" and config.network == "private"
    assert config.publish == ["8080:80/tcp"] and config.stop_timeout == 3
    assert [e.aliases for e in config.endpoints] == [["web"]]
    assert [m.type for m in config.mounts] == ["volume", "tmpfs", "bind"]
    assert open(config.mounts[2].source).read() == "pw" and config.mounts[2].readonly
    assert config.healthcheck["Interval"] == 1_000_000_000 and config.healthcheck["Retries"] == 2


def test_healthcheck_sources_and_ports():
    assert healthcheck(ContainerSpec(name="x", image="b"), _Image.config) == {"Test": ["CMD", "true"]}
    assert healthcheck(ContainerSpec(name="x", image="b", healthcheck=HealthSpec(("NONE",))), _Image.config) is None
    assert publish_spec(PortSpec(80)) == "80/tcp"
    assert publish_spec(PortSpec(53, "5353", "127.0.0.1", "udp")) == "127.0.0.1:5353:53/udp"


def test_summary_from_inspect():
    class Info:
        id, name, image, image_id, labels, state = "i", "n", "busybox", "sha256:x", {"a": "b"}, "running"
        exit_code, health, created, started_at, finished_at, command = 0, "none", 1.0, 2.0, 0.0, "sh"

    details = {"NetworkSettings": {"Networks": {"p_default": {}}}, "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
               "Mounts": [{"Type": "volume", "Name": "p_data", "Source": "/x"}]}
    summary = summary_of(Info(), details)
    assert summary.ports == (PortSpec(80, "8080", "", "tcp"),)
    assert summary.networks == ("p_default",) and summary.mounts == ("p_data",)
