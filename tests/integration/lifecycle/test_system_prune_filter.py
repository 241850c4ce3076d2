"""``system prune --filter``: docker's warning lists the filters; each section removes only what
they select (containers, networks, volumes, images); an unknown filter is dockerd's error."""

from __future__ import annotations

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
