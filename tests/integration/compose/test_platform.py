"""A service's ``platform:`` against the image here (Compose 2.40 on dockerd: a create whose image
is of another platform fails with dockerd's words; the host's own platform runs)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]


def test_an_image_of_another_platform_is_refused_at_create(project):
    host = project("image", "inspect", "busybox", "--format", "{{.Os}}/{{.Architecture}}").stdout.strip()
    other = "linux/s390x" if host != "linux/s390x" else "linux/amd64"
    project.write(f"""
    services:
      ours:
        image: busybox
        platform: {host}
        command: ["true"]
        network_mode: none
      theirs:
        image: busybox
        platform: {other}
        pull_policy: never
        command: ["true"]
        network_mode: none
    """)
    assert project("up", "-d", "ours").returncode == 0
    refused = project("up", "-d", "theirs", ok=False)
    assert refused.returncode == 1
    assert (f"image with reference busybox was found but does not match the specified platform: wanted {other}, "
            f"actual: {host}") in refused.stderr
    assert project("ps", "-a", "--format", "{{.Service}}").stdout == "ours\n"
