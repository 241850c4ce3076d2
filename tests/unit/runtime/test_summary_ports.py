"""``summary_of`` reads docker's ``HostConfig.PortBindings`` map (it once passed its keys to the
``-p`` parser, so every host port read as 0)."""

from composer.engine.runtime.adapter import binding_specs, summary_of
from composer.engine.runtime.base import PortSpec
from composer.engine.runtime.describe import port_bindings


class _Info:
    id, name, image, image_id, labels, state = "i", "n", "busybox", "sha256:x", {}, "exited"
    exit_code, health, created, started_at, finished_at, command = 0, "none", 1.0, 2.0, 0.0, "sh"


def test_binding_specs_round_trip_describe():
    specs = ["8080:80/tcp", "127.0.0.1:5353:53/udp", "[::1]:9000:90/tcp", "81/tcp", "8000-8010:82/tcp"]
    assert binding_specs(port_bindings(specs)) == [
        "8080:80/tcp", "127.0.0.1:5353:53/udp", "[::1]:9000:90/tcp", "81/tcp", "8000-8010:82/tcp"]
    assert binding_specs({"80/tcp": None}) == ["80/tcp"]
    assert binding_specs({"80/tcp": [{"HostIp": "10.0.0.1", "HostPort": ""}]}) == ["10.0.0.1::80/tcp"]


def test_summary_host_ports_from_port_bindings():
    details = {"HostConfig": {"PortBindings": port_bindings(["8080:80/tcp", "127.0.0.1:5353:53/udp"])}}
    assert summary_of(_Info(), details).ports == (
        PortSpec(80, "8080", "", "tcp"), PortSpec(53, "5353", "127.0.0.1", "udp"))
    assert summary_of(_Info(), {}).ports == ()
