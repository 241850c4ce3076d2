"""``--ip6`` on a network without IPv6, as dockerd 20.10 (checked on a private one): ``create``
takes it, ``start`` refuses it ("user specified IP address is supported only when connecting to
networks with user configured subnets"), and ``run`` exits 125 as docker run on a start error."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]
WORDS = "user specified IP address is supported only when connecting to networks with user configured subnets"


def test_ip6_without_ipv6_is_refused_at_start(composer, busybox_image, manager):
    manager.create("v4only", subnet="10.251.7.0/24")
    try:
        created = composer("container", "create", "--name", "ip6box", "--network", "v4only", "--ip6", "fd00::5",
                           "busybox", "true")
        assert created.returncode == 0, created.stderr
        started = composer("container", "start", "ip6box")
        assert started.returncode == 1 and WORDS in started.stderr
        assert "Created" in composer("container", "ls", "-a", "--format", "{{.Status}}").stdout
        run = composer("container", "run", "--rm", "--network", "v4only", "--ip6", "fd00::6", "busybox", "true")
        assert run.returncode == 125 and WORDS in run.stderr
        assert manager.get("v4only").endpoints == {}
    finally:
        composer("container", "rm", "-f", "ip6box")
