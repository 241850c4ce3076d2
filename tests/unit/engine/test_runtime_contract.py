"""The Runtime protocol's contract: every implementation must pass these.

Runs against FakeRuntime here; the LinuxRuntime adapter joins by adding a parameter to the
``runtime`` fixture (marked ``root``) that yields it with a busybox image imported.
"""

from __future__ import annotations

import pytest

from composer.engine.runtime.base import ContainerSpec, NetworkSpec, Runtime, VolumeSpec
from composer.engine.runtime.fake import FakeRuntime
from composer.errors import ComposerError, ContainerNotFound

LABELS = {"com.docker.compose.project": "contract", "com.docker.compose.service": "app"}


@pytest.fixture(params=["fake"])
def runtime(request: pytest.FixtureRequest) -> Runtime:
    return FakeRuntime(images={"busybox": "sha256:" + "b" * 64})


def _cleanup(runtime: Runtime) -> None:
    for container in runtime.list_containers({"com.docker.compose.project": "contract"}):
        runtime.remove_container(container.id, force=True)


def test_container_lifecycle(runtime: Runtime):
    try:
        runtime.ensure_network(NetworkSpec(name="contract_default", labels={"com.docker.compose.project": "contract"}))
        spec = ContainerSpec(name="contract-app-1", image="busybox", labels=LABELS, command=("sleep", "60"))
        cid = runtime.create_container(spec)
        [summary] = runtime.list_containers({"com.docker.compose.service": "app"})
        assert (summary.id, summary.name, summary.state) == (cid, "contract-app-1", "created")
        assert summary.labels["com.docker.compose.project"] == "contract"
        assert runtime.list_containers({"com.docker.compose.service": "other"}) == []
        runtime.start_container(cid)
        assert runtime.list_containers(LABELS, all=False)[0].state == "running"
        assert runtime.wait_health(cid, None, 1.0).state == "running"
        assert runtime.wait_container(cid, 0.1) is None  # still running when the timeout passed
        runtime.pause_container(cid)
        assert runtime.list_containers(LABELS)[0].state == "paused"
        assert [c.state for c in runtime.list_containers(LABELS, all=False)] == ["paused"]  # as docker ps
        runtime.unpause_container(cid)
        runtime.rename_container(cid, "contract-app-renamed")
        inspected = runtime.inspect_container(cid)
        assert inspected["Id"] == cid and inspected["Name"] == "/contract-app-renamed"
        assert inspected["State"]["Status"] == "running" and inspected["Config"]["Labels"] == LABELS
        runtime.stop_container(cid, timeout=1)
        assert runtime.wait_container(cid, 1.0) is not None
        assert runtime.list_containers(LABELS)[0].state == "exited"
        assert runtime.list_containers(LABELS, all=False) == []
        runtime.remove_container(cid)
        assert runtime.list_containers(LABELS) == []
        with pytest.raises(ContainerNotFound):
            runtime.remove_container(cid)
    finally:
        _cleanup(runtime)
        runtime.remove_network("contract_default")


def test_container_names_are_unique(runtime: Runtime):
    try:
        spec = ContainerSpec(name="contract-app-1", image="busybox", labels=LABELS)
        runtime.create_container(spec)
        with pytest.raises(ComposerError, match="already in use"):
            runtime.create_container(spec)
    finally:
        _cleanup(runtime)


def test_networks_and_volumes_are_ensured_idempotently(runtime: Runtime):
    labels = {"com.docker.compose.project": "contract"}
    try:
        first = runtime.ensure_network(NetworkSpec(name="contract_net", labels=labels))
        assert runtime.ensure_network(NetworkSpec(name="contract_net", labels=labels)).id == first.id
        assert [n.name for n in runtime.list_networks(labels)] == ["contract_net"]
        runtime.ensure_volume(VolumeSpec(name="contract_vol", labels=labels))
        runtime.ensure_volume(VolumeSpec(name="contract_vol", labels=labels))
        assert [v.name for v in runtime.list_volumes(labels)] == ["contract_vol"]
    finally:
        runtime.remove_network("contract_net")
        runtime.remove_volume("contract_vol")
    runtime.remove_network("contract_net")  # absence is tolerated
    runtime.remove_volume("contract_vol")
    assert runtime.list_networks(labels) == [] and runtime.list_volumes(labels) == []


def test_images(runtime: Runtime):
    assert runtime.image_id("busybox").startswith("sha256:")
    assert runtime.image_id("contract-not-here:latest") is None
