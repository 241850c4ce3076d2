"""``system prune --filter``: docker's warning lists the filters; each section removes only what
they select (containers, networks, volumes, images, the build cache by ``until``); an unknown filter
is dockerd's error. And
``system df -v``'s sections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]


def test_system_prune_removes_only_what_the_filters_select(cli, state_root: Path):
    dropped, kept = (cli("container", "create", *labels, "busybox", "true", check=True).stdout.strip()
                     for labels in (("-l", "drop=1"), ()))
    cli("network", "create", "--label", "drop=1", "n-drop", check=True)
    cli("network", "create", "n-keep", check=True)
    try:
        volume_dropped = cli("volume", "create", "--label", "drop=1", check=True).stdout.strip()
        volume_kept = cli("volume", "create", check=True).stdout.strip()
        asked = subprocess.run([sys.executable, "-m", "composer", "system", "prune", "--filter", "until=1h",
                                "--filter", "label=drop=1"], input="n\n", capture_output=True, text=True,
                               env=dict(os.environ, COMPOSER_ROOT=str(state_root))).stdout
        assert asked.endswith("  - unused build cache\n\n  Items to be pruned will be filtered with:\n"
                              "  - label=drop=1\n  - until=1h\n\nAre you sure you want to continue? [y/N] ")
        pruned = cli("system", "prune", "-f", "--volumes", "--filter", "label=drop=1", check=True).stdout
        assert f"Deleted Containers:\n{dropped}\n" in pruned and kept not in pruned
        assert "Deleted Networks:\nn-drop\n" in pruned and f"Deleted Volumes:\n{volume_dropped}\n" in pruned
        assert cli("container", "inspect", kept).returncode == 0 and cli("network", "inspect", "n-keep").returncode == 0
        assert cli("volume", "ls", "-q").stdout.split() == [volume_kept]
        refused = cli("system", "prune", "-f", "--filter", "dangling=true")
        assert (refused.returncode, refused.stderr) == (1, "Error response from daemon: Invalid filter 'dangling'\n")
    finally:
        cli("network", "rm", "n-drop", "n-keep")


def test_system_prune_label_not_and_until_reach_networks_and_volumes(cli):
    """``label!=`` and ``until=`` select networks too (docker's network prune filters); ``until``
    with ``--volumes`` is refused by docker's CLI before anything is removed."""
    cli("network", "create", "--label", "keep=1", "n-kept", check=True)
    cli("network", "create", "n-gone", check=True)
    try:
        kept_volume = cli("volume", "create", "--label", "keep=1", check=True).stdout.strip()
        gone_volume = cli("volume", "create", check=True).stdout.strip()
        refused = cli("system", "prune", "-f", "--volumes", "--filter", "until=1h")
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            1, "", 'ERROR: The "until" filter is not supported with "--volumes"\n')
        assert "Deleted Networks" not in cli("system", "prune", "-f", "--filter", "until=1h", check=True).stdout
        pruned = cli("system", "prune", "-f", "--volumes", "--filter", "label!=keep=1", check=True).stdout
        assert "Deleted Networks:\nn-gone\n" in pruned and f"Deleted Volumes:\n{gone_volume}\n" in pruned
        assert cli("volume", "ls", "-q").stdout.split() == [kept_volume]
        pruned = cli("system", "prune", "-f", "--filter", "until=0s", check=True).stdout  # created before now
        assert "Deleted Networks:\nn-kept\n" in pruned
    finally:
        cli("network", "rm", "n-kept", "n-gone")


def test_system_df_verbose_lists_each_image_container_and_volume(cli):
    """``system df -v``: docker's sections and columns, a row per image, container and volume."""
    cli("volume", "create", "dfv-data", check=True)
    cli("container", "create", "--name", "dfv", "-v", "dfv-data:/data", "busybox", "true", check=True)
    shown = cli("system", "df", "-v", check=True).stdout
    sections = shown.split("\n\n")
    assert sections[0] == "Images space usage:" and sections[2] == "Containers space usage:"
    assert sections[1].splitlines()[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE", "SHARED",
                                                   "SIZE", "UNIQUE", "SIZE", "CONTAINERS"]
    assert sections[1].splitlines()[1].split()[:2] == ["busybox", "latest"] and sections[1].split()[-1] == "1"
    container = sections[3].splitlines()
    assert container[0].split()[:4] == ["CONTAINER", "ID", "IMAGE", "COMMAND"] and container[1].split()[-1] == "dfv"
    assert sections[4] == "Local Volumes space usage:"
    assert sections[5].splitlines() == ["VOLUME NAME   LINKS     SIZE", "dfv-data      1         0B"]
    assert sections[6].startswith("Build cache usage: ") and sections[7].startswith("CACHE ID   CACHE TYPE")
    document = json.loads(cli("system", "df", "-v", "--format", "json", check=True).stdout)
    assert sorted(document) == ["BuildCache", "Containers", "Images", "Volumes"]
    assert document["Volumes"] == [{"Name": "dfv-data", "Links": "1", "Size": "0B"}]
    assert document["Images"][0]["ID"].startswith("sha256:") and document["Containers"][0]["Names"] == "dfv"
