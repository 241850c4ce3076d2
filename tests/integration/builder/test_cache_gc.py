"""The build cache and the image store's gc: ``image rm``/``image prune`` keep the cached step
layers (docker's leave the build cache alone), ``system df`` counts them, ``builder prune`` drops
the entries no image shares (``-a``: all) and then their layers go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.builder.conftest import write
from tests.integration.builder.test_cli import cli  # noqa: F401 - the fixture

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _build_cache_row(cli) -> dict:
    rows = [json.loads(line) for line in cli("system", "df", "--format", "json").stdout.splitlines()]
    return next(row for row in rows if row["Type"] == "Build Cache")


def test_cached_layers_outlive_their_image_until_builder_prune(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nRUN head -c 300000 /dev/zero > /blob\nRUN echo two > /two\n"})
    assert cli("image", "build", "-q", "-t", "cachegc:1", str(context)).returncode == 0
    row = _build_cache_row(cli)
    assert row["TotalCount"] == "2" and row["Size"] == "0B"  # shared with the image, as docker's
    assert cli("image", "rm", "cachegc:1").returncode == 0
    assert cli("image", "prune", "-f").returncode == 0
    row = _build_cache_row(cli)
    assert row["TotalCount"] == "2" and row["Size"].endswith("kB") and row["Reclaimable"] == row["Size"]
    again = cli("image", "build", "--progress", "plain", "-t", "cachegc:1", str(context))
    assert again.returncode == 0 and (again.stdout + again.stderr).count("CACHED") == 2
    assert cli("builder", "prune", "-f").returncode == 0  # the image holds them: none dangles
    assert _build_cache_row(cli)["TotalCount"] == "2"
    assert cli("image", "rm", "cachegc:1").returncode == 0
    pruned = cli("builder", "prune", "-f")
    assert pruned.returncode == 0 and _build_cache_row(cli) == {
        "Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}
