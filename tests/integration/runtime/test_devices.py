"""``--device``: the node appears in the container and the devices cgroup lets exactly it through."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.root

FUSE = "/dev/fuse"  # a character device any kernel with FUSE has; opening it needs no mount


@pytest.fixture(autouse=True)
def _needs_fuse():
    if not os.path.exists(FUSE) or not os.path.isdir("/sys/fs/cgroup/devices"):
        pytest.skip("needs /dev/fuse and the v1 devices controller")


def test_device_is_usable_only_when_added(run):
    added = run("--rm", "--network", "none", "--device", FUSE, "busybox", "sh", "-c",
                "ls -l /dev/fuse && exec 3<>/dev/fuse && echo opened")
    assert added.returncode == 0 and "opened" in added.stdout, added.stderr
    assert added.stdout.startswith("crw")
    made = run("--rm", "--network", "none", "busybox", "sh", "-c", "mknod /dev/fuse c 10 229; exec 3<>/dev/fuse")
    assert made.returncode != 0 and "Operation not permitted" in made.stderr


def test_device_renamed_and_read_only(run):
    result = run("--rm", "--network", "none", "--device", f"{FUSE}:/dev/f:r", "busybox", "sh", "-c",
                 "(exec 3</dev/f) && echo read-ok; exec 3<>/dev/f && echo opened")
    assert "read-ok" in result.stdout and "opened" not in result.stdout
    assert "Operation not permitted" in result.stderr


def test_bad_device_is_a_clean_error(run, state_root):
    result = run("--rm", "--device", "/etc/passwd", "busybox", "true")
    assert result.returncode == 125 and "is not a device node" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((state_root / "containers").iterdir()) == []


def test_compose_devices_reach_the_container(image, tmp_path, state_root):
    """compose ``devices:`` (short and long syntax) are made in the container and allowed by its cgroup."""
    from tests.conftest import run_composer

    project = tmp_path / "devproj"
    project.mkdir()
    (project / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    image: busybox\n"
        "    network_mode: none\n"
        "    devices:\n"
        "      - /dev/null:/dev/mynull\n"
        f"      - {{source: {FUSE}, target: /dev/myfuse, permissions: r}}\n")
    try:
        result = run_composer("run", "--rm", "app", "sh", "-c",
                              "echo x > /dev/mynull && stat -c %t:%T /dev/mynull; (exec 3</dev/myfuse) && echo read-ok;"
                              " exec 4<>/dev/myfuse && echo opened", cwd=project)
        assert result.stdout.split()[:2] == ["1:3", "read-ok"], result.stderr
        assert "opened" not in result.stdout and "Operation not permitted" in result.stderr  # permissions: r
    finally:
        run_composer("down", "-t", "1", cwd=project)
    assert list((state_root / "containers").iterdir()) == []
